"""macOS adapter: the Quartz window list and the frontmost application (pyobjc, imported
only on macOS). Screen grabs use mss (CoreGraphics) per display.

Documented APIs used: ``CGWindowListCopyWindowInfo(kCGWindowListOptionOnScreenOnly |
kCGWindowListExcludeDesktopElements, kCGNullWindowID)`` (dicts with ``kCGWindowOwnerPID``,
``kCGWindowOwnerName``, ``kCGWindowName`` — needs the Screen Recording permission —
``kCGWindowLayer``, ``kCGWindowBounds`` in points), ``NSWorkspace.sharedWorkspace()
.frontmostApplication()`` (``processIdentifier``, ``bundleIdentifier``, ``localizedName``),
``CGEventSourceSecondsSinceLastEventType`` for idle time, and
``CGSessionCopyCurrentDictionary()['CGSSessionScreenIsLocked']`` for the lock screen.
Our own windows use ``NSWindow.sharingType = NSWindowSharingNone`` (set by the GUI).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.capture.monitors import scale_rect
from core.capture.session import DesktopSignals
from core.types import ActiveWindow, ScreenSource, WindowInfoSource

NORMAL_WINDOW_LAYER = 0
K_CG_ANY_INPUT_EVENT_TYPE = 0xFFFFFFFF


def parse_bounds(bounds: Mapping[str, Any] | None,
                 scale: float = 1.0) -> tuple[int, int, int, int] | None:
    """``kCGWindowBounds`` ({X, Y, Width, Height} in points) -> physical pixels."""
    if not bounds:
        return None
    try:
        rect = (float(bounds["X"]), float(bounds["Y"]), float(bounds["Width"]),
                float(bounds["Height"]))
    except (KeyError, TypeError, ValueError):
        return None
    if rect[2] <= 0 or rect[3] <= 0:
        return None
    return scale_rect(rect, scale)


def frontmost_window(window_list: Iterable[Mapping[str, Any]], frontmost_pid: int | None,
                     bundle_id: str = "", app_name: str = "",
                     scale: float = 1.0) -> ActiveWindow | None:
    """The frontmost app's top normal window from a CGWindowList (front-to-back order)."""
    if frontmost_pid is None:
        return None
    for info in window_list:
        if int(info.get("kCGWindowOwnerPID", -1)) != frontmost_pid:
            continue
        if int(info.get("kCGWindowLayer", NORMAL_WINDOW_LAYER)) != NORMAL_WINDOW_LAYER:
            continue  # menus, the dock, status items
        if float(info.get("kCGWindowAlpha", 1.0)) <= 0.0:
            continue
        rect = parse_bounds(info.get("kCGWindowBounds"), scale)
        owner = str(info.get("kCGWindowOwnerName") or app_name)
        left, top, width, height = rect if rect else (None, None, None, None)
        return ActiveWindow(app=owner, title=str(info.get("kCGWindowName") or ""),
                            pid=frontmost_pid, wm_class=bundle_id or owner, left=left,
                            top=top, width=width, height=height)
    return ActiveWindow(app=app_name, title="", pid=frontmost_pid,
                        wm_class=bundle_id or app_name)


def screen_locked_from_session(session: Mapping[str, Any] | None) -> bool:
    return bool(session and session.get("CGSSessionScreenIsLocked"))


class MacWindowInfo:  # pragma: no cover - runs on macOS only
    def __init__(self, scale: float = 2.0) -> None:
        self._scale = scale

    def active_window(self) -> ActiveWindow | None:
        import Quartz
        from AppKit import NSWorkspace

        app = NSWorkspace.sharedWorkspace().frontmostApplication()
        if app is None:
            return None
        options = (Quartz.kCGWindowListOptionOnScreenOnly
                   | Quartz.kCGWindowListExcludeDesktopElements)
        windows = Quartz.CGWindowListCopyWindowInfo(options, Quartz.kCGNullWindowID) or []
        return frontmost_window(windows, int(app.processIdentifier()),
                                str(app.bundleIdentifier() or ""),
                                str(app.localizedName() or ""), self._scale)


class MacSignals:  # pragma: no cover - runs on macOS only
    def idle_seconds(self) -> float | None:
        import Quartz

        return float(Quartz.CGEventSourceSecondsSinceLastEventType(
            Quartz.kCGEventSourceStateCombinedSessionState, K_CG_ANY_INPUT_EVENT_TYPE))

    def screen_locked(self, window: ActiveWindow | None) -> bool:
        import Quartz

        return screen_locked_from_session(Quartz.CGSessionCopyCurrentDictionary())

    def screen_changed(self) -> bool:
        return True  # no cheap change signal used here: every scheduled grab is compared

    def close(self) -> None:
        return None


class MacPlatform:  # pragma: no cover - runs on macOS only
    name = "macos"

    def screen(self) -> ScreenSource:
        from core.capture.screen import MssScreenSource

        return MssScreenSource()

    def windows(self) -> WindowInfoSource:
        return MacWindowInfo()

    def signals(self) -> DesktopSignals:
        return MacSignals()

    def exclude_from_capture(self, native_window_id: int) -> bool:
        return False  # the GUI sets NSWindowSharingNone on its own NSWindows
