"""Region-level change detection: which rectangles of a frame changed, and did they scroll.

Frames are compared at 1/8 scale (a 1920x1080 frame becomes a 240x135 grey map, each cell the
mean of an 8x8 block): the comparison itself takes a fraction of a millisecond, the
downscale about a millisecond. Changed cells are grouped into rectangles by recursive
XY-cuts (split on empty rows, then on empty columns, repeatedly), which is what screen
changes look like: a typed line, a scrolled pane, a new window.

A scrolled pane is recognised by matching full-resolution rows: rows whose content is unique
vote for the offset that maps them to the previous frame; the winning offset explains the
pane, and only the rows it does not explain are new.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

SCALE = 8
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), image pixels
Grey = npt.NDArray[np.uint8]


def downscale(image: Image.Image) -> Grey:
    """The 1/SCALE grey map of ``image`` (block means), as a uint8 array."""
    small = image.reduce(SCALE) if min(image.size) >= SCALE else image
    return np.asarray(small.convert("L"), dtype=np.uint8)


def full_grey(image: Image.Image) -> Grey:
    return np.asarray(image.convert("L"), dtype=np.uint8)


def changed_mask(old: Grey, new: Grey, threshold: int = 0) -> npt.NDArray[np.bool_]:
    diff = np.abs(old.astype(np.int16) - new.astype(np.int16))
    result: npt.NDArray[np.bool_] = diff > threshold
    return result


def _runs(flags: npt.NDArray[np.bool_], gap: int) -> list[tuple[int, int]]:
    """Runs of True in ``flags``, merging runs separated by fewer than ``gap`` Falses."""
    idx = np.flatnonzero(flags)
    if idx.size == 0:
        return []
    splits = np.flatnonzero(np.diff(idx) > gap + 1)
    starts = np.concatenate(([idx[0]], idx[splits + 1]))
    ends = np.concatenate((idx[splits], [idx[-1]])) + 1
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def _xy_cut(mask: npt.NDArray[np.bool_], x: int, y: int, gap: int, depth: int,
            out: list[Box]) -> None:
    rows = _runs(np.asarray(mask.any(axis=1)), gap)
    for r0, r1 in rows:
        band = mask[r0:r1]
        cols = _runs(np.asarray(band.any(axis=0)), gap)
        for c0, c1 in cols:
            sub = band[:, c0:c1]
            if depth > 0 and (len(rows) > 1 or len(cols) > 1):
                _xy_cut(sub, x + c0, y + r0, gap, depth - 1, out)
            else:
                out.append((x + c0, y + r0, x + c1, y + r1))


def changed_boxes(old: Grey, new: Grey, *, gap_cells: int = 2,
                  image_size: tuple[int, int] | None = None) -> list[Box]:
    """Rectangles (image pixels) covering every changed cell; empty when nothing changed."""
    if old.shape != new.shape:
        raise ValueError("frames of different sizes cannot be compared")
    mask = changed_mask(old, new)
    if not mask.any():
        return []
    cells: list[Box] = []
    _xy_cut(mask, 0, 0, gap_cells, 6, cells)
    width, height = image_size or (new.shape[1] * SCALE, new.shape[0] * SCALE)
    return [(x0 * SCALE, y0 * SCALE, min(width, x1 * SCALE), min(height, y1 * SCALE))
            for x0, y0, x1, y1 in cells]


def area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def intersects(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def pad(box: Box, px: int, size: tuple[int, int]) -> Box:
    return (max(0, box[0] - px), max(0, box[1] - px), min(size[0], box[2] + px),
            min(size[1], box[3] + px))


def merge_overlapping(boxes: list[Box]) -> list[Box]:
    out = list(boxes)
    changed = True
    while changed:
        changed = False
        merged: list[Box] = []
        for box in out:
            for i, other in enumerate(merged):
                if intersects(box, other):
                    merged[i] = union(box, other)
                    changed = True
                    break
            else:
                merged.append(box)
        out = merged
    return out


@dataclass(frozen=True)
class Scroll:
    """Rows ``[y0, y1)`` of the new frame equal rows ``[y0+dy, y1+dy)`` of the old one,
    within columns ``[x0, x1)``, except perhaps in ``edges``."""

    x0: int
    x1: int
    dy: int
    matched_rows: tuple[tuple[int, int], ...]  # runs of new-frame rows explained by dy
    # Narrow strips at the pane's left or right edge that the offset does not explain on
    # some matched rows: a scroll bar's thumb, which moves by its own amount. They are new
    # content of their own; the rows' text beside them merely moved.
    edges: tuple[Box, ...] = ()


def edge_px(width: int) -> int:
    """How wide a strip at a pane's side may differ while its rows still count as scrolled:
    room for a scroll bar and the window's border (2.5% of the width, at least 3 cells).
    Whatever changed in the strip is read again, with every line that reaches into it."""
    return max(3 * SCALE, width // 40)


def _edge_runs(rows: list[int], y0: int, height: int) -> list[tuple[int, int]]:
    flags = np.zeros(height, dtype=bool)
    flags[rows] = True
    return [(y0 + s, y0 + e) for s, e in _runs(flags, 0)]


def detect_scroll(old: Grey, new: Grey, box: Box, *, min_votes: int = 8) -> Scroll | None:
    """The vertical offset that best explains ``box`` of ``new`` from ``old``, if any."""
    x0, y0, x1, y1 = box
    if y1 - y0 < 4 * SCALE:
        return None
    old_rows = [hash(old[y, x0:x1].tobytes()) for y in range(y0, y1)]
    new_rows = [hash(new[y, x0:x1].tobytes()) for y in range(y0, y1)]
    old_count = Counter(old_rows)
    new_count = Counter(new_rows)
    old_pos = {h: i for i, h in enumerate(old_rows) if old_count[h] == 1}
    votes: Counter[int] = Counter()
    for i, h in enumerate(new_rows):
        if new_count[h] == 1:
            j = old_pos.get(h)
            if j is not None and j != i:
                votes[j - i] += 1
    if not votes:
        return None
    dy, count = votes.most_common(1)[0]
    if count < min_votes:
        return None
    edge = edge_px(x1 - x0)
    wide = x1 - x0 > 4 * edge
    matched = np.zeros(y1 - y0, dtype=bool)
    left: list[int] = []
    right: list[int] = []
    for i in range(y1 - y0):
        j = i + dy
        if not 0 <= j < y1 - y0:
            continue
        if new_rows[i] == old_rows[j]:
            matched[i] = True
        elif wide:
            differ = np.flatnonzero(new[y0 + i, x0:x1] != old[y0 + j, x0:x1])
            if differ[0] >= x1 - x0 - edge:
                matched[i] = True
                right.append(i)
            elif differ[-1] < edge:
                matched[i] = True
                left.append(i)
    runs = tuple((y0 + s, y0 + e) for s, e in _runs(matched, 0) if e - s >= SCALE)
    if not runs:
        return None
    edges = tuple([(x1 - edge, r0, x1, r1) for r0, r1 in _edge_runs(right, y0, y1 - y0)]
                  + [(x0, r0, x0 + edge, r1) for r0, r1 in _edge_runs(left, y0, y1 - y0)])
    return Scroll(x0=x0, x1=x1, dy=dy, matched_rows=runs, edges=edges)
