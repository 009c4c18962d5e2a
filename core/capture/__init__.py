"""Screen capture: monitor grabs, active-window info and identical-frame detection.

Only X11 on Linux is implemented; Wayland-only sessions raise :class:`NoDisplay`.
Heavy libraries (mss, python-xlib) are imported on first use, not here.
"""

from __future__ import annotations

import sys

from core.capture.change import (
    FrameFingerprint,
    IdenticalFrameFilter,
    changed_fraction,
    is_same,
)
from core.capture.screen import MssScreenSource, check_display_env
from core.capture.x11 import X11WindowInfo
from core.errors import CaptureError
from core.types import ScreenSource, WindowInfoSource

__all__ = [
    "FrameFingerprint",
    "IdenticalFrameFilter",
    "MssScreenSource",
    "X11WindowInfo",
    "changed_fraction",
    "default_screen_source",
    "default_window_info",
    "is_same",
]


def _require_linux() -> None:
    if not sys.platform.startswith("linux"):
        raise CaptureError(f"Screen capture is not implemented on {sys.platform} yet")


def default_screen_source() -> ScreenSource:
    """The screen source for this session (X11 on Linux); raises NoDisplay without one."""
    _require_linux()
    check_display_env()
    return MssScreenSource()


def default_window_info() -> WindowInfoSource:
    """The active-window reader for this session (X11 on Linux); raises NoDisplay without one."""
    _require_linux()
    check_display_env()
    return X11WindowInfo()
