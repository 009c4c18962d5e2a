"""Excluded windows that are visible but not focused: black out what shows of them.

The window rules (core/privacy/filter.py) skip a monitor when the *focused* window is
excluded. A password manager left open beside the editor the user types in is just as
visible, so before a frame goes anywhere the service asks the window list (X11:
``_NET_CLIENT_LIST_STACKING``, bottom to top) which windows the rules exclude, computes the
part of each that no window above it covers, and paints those rectangles black in the
grabbed pixels: OCR never reads them and the thumbnail shows black. A window whose geometry
is unknown cannot be located, so every monitor is dropped instead (``uncovered_unknown``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from core.capture.monitors import Rect, window_rect
from core.types import ActiveWindow, MonitorGeometry, ScreenFrame

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (virtual-screen pixels)


def _box(rect: Rect) -> Box:
    left, top, width, height = rect
    return (left, top, left + width, top + height)


def subtract(box: Box, cut: Box) -> list[Box]:
    """``box`` minus ``cut``: up to four disjoint boxes."""
    x0, y0, x1, y1 = box
    cx0, cy0, cx1, cy1 = cut
    if cx0 >= x1 or cx1 <= x0 or cy0 >= y1 or cy1 <= y0:
        return [box]
    out: list[Box] = []
    if cy0 > y0:
        out.append((x0, y0, x1, cy0))  # above the cut
    if cy1 < y1:
        out.append((x0, cy1, x1, y1))  # below
    my0, my1 = max(y0, cy0), min(y1, cy1)
    if cx0 > x0:
        out.append((x0, my0, cx0, my1))  # left
    if cx1 < x1:
        out.append((cx1, my0, x1, my1))  # right
    return out


@dataclass(frozen=True)
class CoveredWindows:
    """What to hide in a grab: visible boxes of excluded windows, and their reasons."""

    boxes: tuple[Box, ...] = ()
    reasons: tuple[str, ...] = ()
    unknown_geometry: bool = False  # an excluded window that cannot be located

    def __bool__(self) -> bool:
        return bool(self.boxes) or self.unknown_geometry


def excluded_visible(stack: Sequence[ActiveWindow],
                     reason: Callable[[ActiveWindow], str | None],
                     focused: ActiveWindow | None = None) -> CoveredWindows:
    """Visible boxes of the excluded windows of ``stack`` (bottom to top). The focused
    window is left to the window rules (they skip the whole monitor)."""
    boxes: list[Box] = []
    reasons: list[str] = []
    unknown = False
    for i, window in enumerate(stack):
        why = reason(window)
        if why is None or _same(window, focused):
            continue
        rect = window_rect(window)
        if rect is None:
            unknown = True
            reasons.append(why)
            continue
        visible = [_box(rect)]
        for above in stack[i + 1:]:
            above_rect = window_rect(above)
            if above_rect is None:
                continue
            visible = [part for piece in visible for part in subtract(piece, _box(above_rect))]
            if not visible:
                break
        visible = [b for b in visible if b[2] > b[0] and b[3] > b[1]]
        if visible:
            boxes.extend(visible)
            reasons.append(why)
    return CoveredWindows(tuple(boxes), tuple(reasons), unknown)


def _same(a: ActiveWindow, b: ActiveWindow | None) -> bool:
    return b is not None and (a.pid, a.wm_class, a.title, window_rect(a)) == \
        (b.pid, b.wm_class, b.title, window_rect(b))


def black_out(frame: ScreenFrame, boxes: Sequence[Box]) -> ScreenFrame | None:
    """A copy of ``frame`` with ``boxes`` (virtual-screen pixels) painted black; None when
    no box touches this monitor (the frame is unchanged)."""
    mon: MonitorGeometry = frame.monitor
    local = []
    for x0, y0, x1, y1 in boxes:
        lx0, ly0 = max(x0, mon.left) - mon.left, max(y0, mon.top) - mon.top
        lx1 = min(x1, mon.left + mon.width) - mon.left
        ly1 = min(y1, mon.top + mon.height) - mon.top
        if lx1 > lx0 and ly1 > ly0:
            local.append((lx0, ly0, lx1, ly1))
    if not local:
        return None
    sx = frame.image.width / max(1, mon.width)
    sy = frame.image.height / max(1, mon.height)
    image: Image.Image = frame.image.copy()
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in local:
        draw.rectangle((int(x0 * sx), int(y0 * sy), int(x1 * sx + 0.999) - 1,
                        int(y1 * sy + 0.999) - 1), fill="black")
    return ScreenFrame(mon, image, frame.captured_at, frame.pieces)
