"""Platform adapters behind one Protocol (:class:`CapturePlatform`).

- Linux X11: complete (mss, python-xlib, MIT-SCREEN-SAVER) — :mod:`core.capture.platforms.x11`.
- Linux Wayland: detected and explained (:func:`detect_display_server`); a compositor does not
  let one client read others' windows, and the xdg-desktop-portal ScreenCast route asks the
  user to pick a screen each session — not implemented yet.
- Windows: :mod:`core.capture.platforms.windows` (ctypes, user32/kernel32).
- macOS: :mod:`core.capture.platforms.macos` (Quartz window list, NSWorkspace).

Each adapter's pure logic (parsing, arithmetic) is importable and tested everywhere; the
platform libraries are imported only when the adapter is used on its own platform.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from core.capture.session import DesktopSignals
from core.types import ScreenSource, WindowInfoSource


class CapturePlatform(Protocol):
    """Everything the capture service needs from the operating system."""

    name: str

    def screen(self) -> ScreenSource: ...

    def windows(self) -> WindowInfoSource: ...

    def signals(self) -> DesktopSignals: ...

    def exclude_from_capture(self, native_window_id: int) -> bool:
        """Ask the OS to leave one of our own windows out of every screen capture.

        Returns False where the platform has no such switch (X11: our windows are
        filtered by pid and WM_CLASS instead)."""
        ...


@dataclass(frozen=True)
class DisplayServer:
    kind: str  # x11 | wayland | xwayland | windows | macos | none
    can_capture: bool
    message: str = ""


WAYLAND_HELP = (
    "This is a Wayland session. Wayland does not let one program read other programs' "
    "windows, so Afterimage cannot capture here yet. Log out and pick an 'Xorg' / "
    "'X11' session on the login screen (the gear icon on GNOME), then start Afterimage again."
)
XWAYLAND_HELP = (
    "This is a Wayland session with XWayland: Afterimage can only see X11 programs here and "
    "native Wayland windows may appear empty. For complete capture log in to an X11 session."
)


def detect_display_server(environ: Mapping[str, str] | None = None,
                          platform: str | None = None) -> DisplayServer:
    env = os.environ if environ is None else environ
    plat = platform or sys.platform
    if plat == "win32":
        return DisplayServer("windows", True)
    if plat == "darwin":
        return DisplayServer("macos", True)
    session = env.get("XDG_SESSION_TYPE", "").lower()
    wayland = bool(env.get("WAYLAND_DISPLAY")) or session == "wayland"
    x11 = bool(env.get("DISPLAY"))
    if wayland and x11:
        return DisplayServer("xwayland", True, XWAYLAND_HELP)
    if wayland:
        return DisplayServer("wayland", False, WAYLAND_HELP)
    if x11:
        return DisplayServer("x11", True)
    return DisplayServer("none", False, "No display: run Afterimage inside your desktop "
                                        "session (DISPLAY is not set).")


class X11Platform:
    name = "x11"

    def __init__(self, display: str | None = None) -> None:
        self._display = display

    def screen(self) -> ScreenSource:
        from core.capture.screen import MssScreenSource

        return MssScreenSource(self._display)

    def windows(self) -> WindowInfoSource:
        from core.capture.x11 import X11WindowInfo

        return X11WindowInfo(self._display)

    def signals(self) -> DesktopSignals:
        from core.capture.session import X11SessionSignals

        return X11SessionSignals(self._display)

    def exclude_from_capture(self, native_window_id: int) -> bool:
        return False


def current_platform() -> CapturePlatform:
    """The adapter for this session; raises NoDisplay (with the explanation) otherwise."""
    from core.errors import NoDisplay

    found = detect_display_server()
    if found.kind in ("x11", "xwayland"):
        return X11Platform()
    if found.kind == "windows":
        from core.capture.platforms.windows import WindowsPlatform

        return WindowsPlatform()
    if found.kind == "macos":
        from core.capture.platforms.macos import MacPlatform

        return MacPlatform()
    raise NoDisplay(found.message)
