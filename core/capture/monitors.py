"""Which monitor a window is on, and window geometry in captured (physical) pixels.

X11 reports window rectangles in physical pixels, the same space mss grabs in. macOS reports
them in points (logical pixels): multiply by the display's backing scale factor; Windows
reports physical pixels for a per-monitor-DPI-aware process (we declare that awareness).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.types import ActiveWindow, MonitorGeometry

Rect = tuple[int, int, int, int]  # left, top, width, height


def window_rect(window: ActiveWindow) -> Rect | None:
    if window.left is None or window.top is None or window.width is None \
            or window.height is None:
        return None
    return (window.left, window.top, window.width, window.height)


def scale_rect(rect: tuple[float, float, float, float], scale: float) -> Rect:
    """A rectangle in logical points -> physical pixels (rounding outwards)."""
    import math

    left, top, width, height = rect
    x0, y0 = math.floor(left * scale), math.floor(top * scale)
    x1, y1 = math.ceil((left + width) * scale), math.ceil((top + height) * scale)
    return (x0, y0, x1 - x0, y1 - y0)


def overlap_area(rect: Rect, monitor: MonitorGeometry) -> int:
    left, top, width, height = rect
    x0, y0 = max(left, monitor.left), max(top, monitor.top)
    x1 = min(left + width, monitor.left + monitor.width)
    y1 = min(top + height, monitor.top + monitor.height)
    return max(0, x1 - x0) * max(0, y1 - y0)


def home_monitor(window: ActiveWindow | None,
                 monitors: Sequence[MonitorGeometry]) -> int | None:
    """The monitor index holding the window's centre (else the one it overlaps most).

    ``None`` when there is no window, or its geometry is unknown.
    """
    if window is None:
        return None
    rect = window_rect(window)
    if rect is None:
        return None
    cx, cy = rect[0] + rect[2] / 2, rect[1] + rect[3] / 2
    for mon in monitors:
        if mon.left <= cx < mon.left + mon.width and mon.top <= cy < mon.top + mon.height:
            return mon.index
    best = max(monitors, key=lambda m: overlap_area(rect, m), default=None)
    if best is None or overlap_area(rect, best) == 0:
        return None
    return best.index


def shows_window(window: ActiveWindow | None, monitor: MonitorGeometry) -> bool:
    """True when any part of ``window`` may be on ``monitor`` (unknown geometry: True)."""
    if window is None:
        return False
    rect = window_rect(window)
    if rect is None:
        return True
    return overlap_area(rect, monitor) > 0
