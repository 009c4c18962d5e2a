"""Which window shows where: a monitor's image cut into the visible parts of its windows.

OCR of a whole screen joins the text of side-by-side windows into one line, so a change in one
window dirties lines of its neighbour, and the text of two windows comes out interleaved.
Where the platform gives the window stack with geometry (X11: ``_NET_CLIENT_LIST_STACKING``),
the frame is cut into *pieces*: the visible part of each window (the window minus what the
windows above it cover; a partly covered window can give several rectangles) and the
desktop behind all of them. Region OCR (core/capture/region_ocr.py) reads and remembers
each piece on its own. Pieces come top window first, so a frame's text starts with what the
user is looking at.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.capture.monitors import window_rect
from core.privacy.covered import subtract
from core.types import ActiveWindow, MonitorGeometry

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)

MAX_PIECES = 32  # a desktop cut finer than this is read whole
MIN_SIDE_PX = 8  # slivers thinner than this hold no readable text


def _clip(box: Box, bounds: Box) -> Box | None:
    x0, y0 = max(box[0], bounds[0]), max(box[1], bounds[1])
    x1, y1 = min(box[2], bounds[2]), min(box[3], bounds[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def visible_pieces(stack: Sequence[ActiveWindow], monitor: MonitorGeometry,
                   image_size: tuple[int, int]) -> tuple[Box, ...]:
    """Pieces of ``monitor``'s image (image pixels), top window first, then the desktop.

    ``stack`` is bottom to top. Returns () when nothing is known (no stack, no geometry) or the
    cut would be too fine: the caller then reads the image whole."""
    bounds: Box = (monitor.left, monitor.top, monitor.left + monitor.width,
                   monitor.top + monitor.height)
    above: list[Box] = []
    pieces: list[Box] = []
    for window in reversed(stack):
        rect = window_rect(window)
        if rect is None:
            continue
        left, top, width, height = rect
        box = (left, top, left + width, top + height)
        visible = [clipped] if (clipped := _clip(box, bounds)) else []
        for cover in above:
            visible = [part for piece in visible for part in subtract(piece, cover)]
        pieces.extend(visible)
        above.append(box)
    if not above:
        return ()
    rest = [bounds]
    for cover in above:
        rest = [part for piece in rest for part in subtract(piece, cover)]
    pieces.extend(rest)
    if len(pieces) > MAX_PIECES:
        return ()
    sx = image_size[0] / max(1, monitor.width)
    sy = image_size[1] / max(1, monitor.height)
    out: list[Box] = []
    for x0, y0, x1, y1 in pieces:
        box = (round((x0 - monitor.left) * sx), round((y0 - monitor.top) * sy),
               round((x1 - monitor.left) * sx), round((y1 - monitor.top) * sy))
        if box[2] - box[0] >= MIN_SIDE_PX and box[3] - box[1] >= MIN_SIDE_PX:
            out.append(box)
    return tuple(out)
