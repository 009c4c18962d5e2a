"""Lines of text on a plain background, found from the ink itself instead of the detector model.

OCR's detector (DB, core/ppocr.py) costs ~0.4 CPU s per million pixels here; on the
service's typical full read (a window of dense text, ~1.2 Mpx) it is a fifth of the OCR.
Most text a user reads sits on a plain background (editors, terminals, documents, mail,
chat), where a line of text is simply a band of rows with ink in it, and a few milliseconds
of counting find the same boxes. :func:`plain_layout` does that and hands back, as
``hard`` row ranges, everything that is not that simple, for the detector to read as before:

- the image is *plain* when at least ``PLAIN_SHARE`` of its pixels are within a few levels of
  its most common colour (else ``None``: the detector reads it all);
- *structure* is set aside: vertical runs of marks longer than a glyph can be (window
  borders, scrollbars, with what lies between two such edges close together) and long
  horizontal ones (rules, underlines; a thicker band across, such as a highlighted current
  line or selection, is hard); where such columns or
  rows lie side by side over more than ``MAX_STRUCTURE_PX``, it is a panel of another
  colour, where text may sit, and the image is not plain (``None``);
- *ink* differs from the background by more than ``INK_LEVELS`` in some channel; rows with
  faint strokes away from any ink (light text: more than ``LONE_MARKS`` pixels in a row, in
  runs no longer than a stroke) are hard;
- a band of ink rows taller than a line is cut at rows with almost no ink (a text cursor
  joins two lines);
- a band of ink rows whose height is not a line's (taller than ``MAX_LINE_PX`` or than 1.8x
  the median line, shorter than ``MIN_LINE_PX``, or cut by the image's edge) is hard, and so
  is a band holding a solid blob (an icon, a picture: ink density over ``SOLID_DENSITY``);
- in the other bands, runs of ink columns closer than 0.75 line heights are one line (words
  join, columns and tab stops split), boxed with margins like the detector's; a line whose
  ink is sparser than ``SPARSE_DENSITY`` is a drawing, and its band is hard;
- an image taller than ``FEW_LINES_PX`` with fewer than ``MIN_TEXT_LINES`` such lines
  (toolbars, icons, pictures; a region read around a line or two is lower), or with
  more than ``MAX_HARD_SHARE`` of its height hard, is not plain (``None``).

Measured in docs/benchmarks.md (tenth session on issue 4): the same text as the detector's
boxes on the recorded session and on real screenshots, at a fraction of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive ends), as core/ppocr.py
U8 = npt.NDArray[np.uint8]

PLAIN_SHARE = 0.6  # pixels near the background colour, at least
NEAR_LEVELS = 6  # "near the background": every channel within this many levels
INK_LEVELS = 64  # ink: some channel further than this from the background
FAINT_LEVELS = 16  # a mark: some channel further than this
MIN_STRUCTURE_PX = 64  # a vertical run of marks this long (or the image's height) is no glyph
MIN_RULE_PX = 96  # a horizontal run this long (and a quarter of the width) is a rule
MAX_RULE_ROWS = 3  # ... when at most this thick; a thicker band (a highlight) is hard
MAX_STRUCTURE_PX = 24  # wider runs of structure columns (or rows) are panels
LONE_MARKS = 8  # faint marks away from ink in a row, at most, for the row to be plain
GLYPH_RUN_PX = 6  # faint marks in longer horizontal runs are fills, not strokes
MIN_LINE_PX = 7
TALL_LINE_PX = 30  # without a median line height, a band taller than this may be two lines
VALLEY_INK = 2  # ink pixels in a row where two joined lines are cut apart
MAX_LINE_PX = 48
JOIN_GAP = 0.75  # ink columns this many line heights apart are one line (the detector's gap)
SOLID_DENSITY = 0.55  # a glyph cluster this dense (and at least as wide as tall) is no text
SPARSE_DENSITY = 0.08  # a line this sparse is strokes of a drawing, no text
MIN_TEXT_LINES = 3  # fewer lines found from ink: not a page of text, the detector reads it
FEW_LINES_PX = 96  # ... unless the image is this low (a region around a line or two)
MAX_HARD_SHARE = 0.5  # more of the height left to the detector: it reads it all
HARD_PAD_PX = 12  # rows of context around a hard band for the detector


@dataclass(frozen=True)
class Layout:
    """``boxes``: the lines found, in the image's pixels; ``hard``: row ranges (top, bottom)
    that the detector must read (merged, without padding)."""

    boxes: list[Box]
    hard: list[tuple[int, int]]


def runs(mask: npt.ArrayLike) -> list[tuple[int, int]]:
    """(start, end) of each run of True in a 1-D mask, ends exclusive."""
    edges = np.diff(np.concatenate(([0], np.asarray(mask, dtype=np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))


def _grow(mask: npt.NDArray[np.bool_], px: int) -> npt.NDArray[np.bool_]:
    """``mask`` dilated by ``px`` pixels in each direction (a square)."""
    out = mask.copy()
    for _ in range(px):
        out[1:, :] |= out[:-1, :].copy()
        out[:-1, :] |= out[1:, :].copy()
    for _ in range(px):
        out[:, 1:] |= out[:, :-1].copy()
        out[:, :-1] |= out[:, 1:].copy()
    return out


def _distance(image: U8) -> npt.NDArray[np.int16]:
    """Per pixel, the largest difference of a channel from that channel's most common value."""
    if image.ndim == 2:
        image = image[:, :, np.newaxis]
    dist: npt.NDArray[np.int16] | None = None
    for c in range(image.shape[2]):
        channel = image[:, :, c]
        mode = int(np.bincount(channel.ravel(), minlength=256).argmax())
        d = np.abs(channel.astype(np.int16) - mode)
        dist = d if dist is None else np.maximum(dist, d)
    assert dist is not None
    return dist


def _long_runs(mask: npt.NDArray[np.bool_], length: int) -> npt.NDArray[np.bool_]:
    """The pixels of ``mask`` in vertical runs at least ``length`` long."""
    h, w = mask.shape
    column_major = np.zeros((w, h + 2), dtype=np.int8)
    column_major[:, 1:-1] = mask.T
    flat = column_major.ravel()
    edges = np.diff(flat)
    starts = np.flatnonzero(edges == 1) + 1
    ends = np.flatnonzero(edges == -1) + 1
    keep = ends - starts >= length
    marks = np.zeros(flat.size + 1, dtype=np.int32)
    np.add.at(marks, starts[keep], 1)
    np.add.at(marks, ends[keep], -1)
    found = np.cumsum(marks[:-1]).reshape(w, h + 2)[:, 1:-1] > 0
    return np.ascontiguousarray(found.T)


def _short_marks(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """Per row, the pixels of ``mask`` in horizontal runs at most ``GLYPH_RUN_PX`` long: the
    strokes of faint text. A widget's fill (a scrollbar's groove, a button) is long runs."""
    h, w = mask.shape
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    flat = padded.ravel()
    edges = np.diff(flat)
    starts = np.flatnonzero(edges == 1) + 1
    ends = np.flatnonzero(edges == -1) + 1
    short = ends - starts <= GLYPH_RUN_PX
    counts = np.zeros(h, dtype=np.intp)
    np.add.at(counts, starts[short] // (w + 2), (ends - starts)[short])
    return counts


def _thin(flags: npt.ArrayLike) -> bool:
    return all(end - start <= MAX_STRUCTURE_PX for start, end in runs(flags))


def plain_layout(image: U8) -> Layout | None:
    """The lines of ``image`` (H x W x 3 or H x W, uint8) found from its ink, and the row
    ranges the detector must read; ``None`` when the image is not plain at all."""
    h, w = image.shape[:2]
    if h < MIN_LINE_PX or w < MIN_LINE_PX:
        return None
    dist = _distance(image)
    if np.count_nonzero(dist <= NEAR_LEVELS) < PLAIN_SHARE * h * w:
        return None
    marked = dist > FAINT_LEVELS
    ink = dist > INK_LEVELS
    upright = _long_runs(marked, min(h, MIN_STRUCTURE_PX))
    across = _long_runs(marked.T, max(MIN_RULE_PX, w // 4)).T
    if not (_thin(upright.any(axis=0)) and _thin(across.any(axis=1))):
        return None  # a panel of another colour: text may sit on it
    structure = upright | across
    # a column that is an edge over most of its height is set aside whole (a scrollbar's
    # arrows sit in its groove), and so is the strip between two close edges
    structure[:, upright.mean(axis=0) >= 0.5] = True
    edges = runs(upright.any(axis=0))
    for (_, left), (right, _) in zip(edges, edges[1:], strict=False):
        if right - left <= MAX_STRUCTURE_PX:
            structure[:, left:right] = True
    ink &= ~structure
    lone = marked & ~structure & ~_grow(ink, 2)
    hard_rows = _short_marks(lone) > LONE_MARKS
    for top, bottom in runs(across.any(axis=1)):
        if bottom - top > MAX_RULE_ROWS:  # a band of colour across (a highlighted line)
            hard_rows[top:bottom] = True
    bands = runs(ink.any(axis=1))
    heights = [b - a for a, b in bands if MIN_LINE_PX <= b - a <= MAX_LINE_PX]
    median = float(np.median(heights)) if heights else 0.0
    bands = _merge_fragments(_split_joined(bands, ink.sum(axis=1), median))
    boxes: list[Box] = []
    lines = 0
    for top, bottom in bands:
        height = bottom - top
        if (height < MIN_LINE_PX or height > MAX_LINE_PX or height > 1.8 * median
                or top == 0 or bottom == h or hard_rows[top:bottom].any()):
            hard_rows[top:bottom] = True
            continue
        found = _line_boxes(ink[top:bottom], top, w, h)
        if found is None:
            hard_rows[top:bottom] = True
            continue
        boxes.extend(found)
        lines += 1
    # hard bands close together are read in one pass (the detector reads their context
    # rows anyway)
    hard: list[tuple[int, int]] = []
    for top, bottom in runs(hard_rows):
        if hard and top - hard[-1][1] <= 2 * HARD_PAD_PX:
            hard[-1] = (hard[-1][0], bottom)
        else:
            hard.append((top, bottom))
    if (lines < MIN_TEXT_LINES and h > FEW_LINES_PX) \
            or sum(b - t for t, b in hard) > MAX_HARD_SHARE * h:
        return None  # not a page of text: toolbars, icons, pictures
    return Layout(boxes=boxes, hard=hard)


def _split_joined(bands: list[tuple[int, int]], counts: npt.NDArray[np.intp],
                  median: float) -> list[tuple[int, int]]:
    """Two lines joined by a thin stroke (a text cursor between them, a descender touching
    an accent) are one band of ink rows; a band taller than a line is cut at its rows with
    at most ``VALLEY_INK`` ink pixels."""
    tall = min(TALL_LINE_PX, 1.3 * median) if median else TALL_LINE_PX
    out: list[tuple[int, int]] = []
    for top, bottom in bands:
        if bottom - top <= tall:
            out.append((top, bottom))
            continue
        out.extend((top + a, top + b) for a, b in runs(counts[top:bottom] > VALLEY_INK))
    return out


def _merge_fragments(bands: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """An accent, a dot or a descender separated from its line by a blank row or two belongs
    to that line."""
    merged: list[tuple[int, int]] = []
    for top, bottom in bands:
        if merged and top - merged[-1][1] <= 2 and (
                bottom - top < MIN_LINE_PX or merged[-1][1] - merged[-1][0] < MIN_LINE_PX):
            merged[-1] = (merged[-1][0], bottom)
        else:
            merged.append((top, bottom))
    return merged


def _line_boxes(band: npt.NDArray[np.bool_], top: int, w: int, h: int) -> list[Box] | None:
    """Boxes of one band of ink rows (a line height tall), or None when it holds a solid
    blob or a sparse drawing."""
    height = band.shape[0]
    columns = band.any(axis=0)
    clusters = runs(columns)
    for start, end in clusters:
        if end - start >= height and band[:, start:end].mean() > SOLID_DENSITY:
            return None
    joined: list[list[int]] = []
    for start, end in clusters:
        if joined and start - joined[-1][1] <= JOIN_GAP * height:
            joined[-1][1] = end
        else:
            joined.append([start, end])
    if any(band[:, x0:x1].mean() < SPARSE_DENSITY for x0, x1 in joined):
        return None  # thin strokes far apart: a drawing (a page corner, an arrow), no text
    v = max(2, round(0.2 * height))
    m = max(2, round(0.3 * height))
    return [(max(0, x0 - m), max(0, top - v), min(w, x1 + m), min(h, top + height + v))
            for x0, x1 in joined if x1 - x0 >= 3]
