"""Screen grabbing with mss: one RGB frame per physical monitor."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core.errors import CaptureError, NoDisplay
from core.types import MonitorGeometry, ScreenFrame

if TYPE_CHECKING:
    import mss

NO_DISPLAY_HELP = (
    "No X display to capture. Run Afterimage inside your desktop session, or set DISPLAY "
    "(for example DISPLAY=:0). Wayland-only sessions are not supported yet; log in to an "
    "X11 (Xorg) session instead."
)


def check_display_env() -> None:
    """Raise :class:`NoDisplay` when a Linux session has no X display to talk to."""
    if not sys.platform.startswith("linux") or os.environ.get("DISPLAY"):
        return
    if os.environ.get("WAYLAND_DISPLAY"):
        raise NoDisplay(
            "This is a Wayland-only session (WAYLAND_DISPLAY is set, DISPLAY is not). "
            "Wayland screen capture is not supported yet; log in to an X11 (Xorg) session, "
            "or enable XWayland and set DISPLAY."
        )
    raise NoDisplay(NO_DISPLAY_HELP)


class MssScreenSource:
    """Grabs every physical monitor (never mss's combined monitor 0).

    The mss connection is opened on first use and reused; :meth:`close` releases it.
    Not thread-safe: use one instance per thread.
    """

    def __init__(self, display: str | None = None) -> None:
        self._display = display
        self._mss: mss.MSS | None = None

    def _connection(self) -> mss.MSS:
        if self._mss is None:
            if self._display is None:
                check_display_env()
            import mss  # lazy: loads ctypes bindings to libxcb

            try:
                if self._display is None:
                    self._mss = mss.MSS()
                else:
                    self._mss = mss.MSS(display=self._display)
            except mss.ScreenShotError as exc:
                raise NoDisplay(f"Cannot open the display. {NO_DISPLAY_HELP}") from exc
        return self._mss

    def monitors(self) -> list[MonitorGeometry]:
        """The physical monitors, 1-based as mss numbers them."""
        import mss

        conn = self._connection()
        try:
            all_monitors = conn.monitors
        except mss.ScreenShotError as exc:
            raise CaptureError("Cannot list the monitors") from exc
        # Without RandR >= 1.2 (e.g. Xinerama setups) mss lists only the whole root
        # window as monitor 0; treat that as the one monitor.
        raw = all_monitors[1:] or all_monitors[:1]
        return [
            MonitorGeometry(
                index=i,
                left=int(m["left"]),
                top=int(m["top"]),
                width=int(m["width"]),
                height=int(m["height"]),
            )
            for i, m in enumerate(raw, start=1)
        ]

    def grab_all(self) -> list[ScreenFrame]:
        import mss
        from PIL import Image

        conn = self._connection()
        frames: list[ScreenFrame] = []
        for geometry in self.monitors():
            region = {
                "left": geometry.left,
                "top": geometry.top,
                "width": geometry.width,
                "height": geometry.height,
            }
            try:
                shot = conn.grab(region)
            except mss.ScreenShotError as exc:
                raise CaptureError(f"Grabbing monitor {geometry.index} failed") from exc
            captured_at = datetime.now(UTC)
            # BGRX -> RGB in one C pass (copies, so mss may reuse its buffer), into an
            # image that is not cleared first: ``Image.frombytes`` fills a new image with
            # black before decoding into it, and in the service that fill alone cost 7-10 ms
            # of the main thread's CPU per grab (docs/benchmarks.md).
            image = Image.new("RGB", shot.size, None)
            image.frombytes(shot.raw, "raw", "BGRX")
            frames.append(ScreenFrame(monitor=geometry, image=image, captured_at=captured_at))
        return frames

    def close(self) -> None:
        if self._mss is not None:
            self._mss.close()
            self._mss = None

    def __enter__(self) -> MssScreenSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
