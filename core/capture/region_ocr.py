"""OCR that re-reads only what changed since a frame it has already read.

``RegionOcr`` wraps any :class:`core.types.Ocr`. For each monitor it keeps the last few
frames it read (pixels and OCR lines, in memory only) and, for a new frame:

1. picks the remembered frame that differs least (so switching back to a window seen a
   moment ago costs almost nothing) and finds the changed rectangles (``core.capture.regions``);
2. for large changed rectangles, tries to explain them as a vertical scroll: lines that
   merely moved are reused at their new position, only the uncovered rows are new;
3. pads each changed rectangle, grows it over every previous line it touches (a line
   that changed in part is read again whole) and merges overlapping rectangles;
4. reads each rectangle (crop, OCR, offset the boxes back) and keeps the previous lines that
   touch no changed rectangle.

When more than ``full_ratio`` of the frame changed it reads the whole frame instead: many
small crops would cost more than one pass. The result is in reading order (top to bottom,
then left to right on a row), like a full-frame read of the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from core.capture.regions import (
    SCALE,
    Box,
    Grey,
    Scroll,
    area,
    changed_boxes,
    detect_scroll,
    downscale,
    full_grey,
    intersects,
    merge_overlapping,
    pad,
    union,
)
from core.types import Ocr, OcrLine, OcrResult, RegionReader


def reading_order(lines: list[OcrLine] | tuple[OcrLine, ...]) -> tuple[OcrLine, ...]:
    """Top-to-bottom rows (lines whose vertical centres are within half a line height),
    left to right within a row."""
    ordered = sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3], ln.box[0]))
    rows: list[list[OcrLine]] = []
    for line in ordered:
        centre = (line.box[1] + line.box[3]) / 2
        height = max(1, line.box[3] - line.box[1])
        if rows:
            last = rows[-1][0]
            last_centre = (last.box[1] + last.box[3]) / 2
            if abs(centre - last_centre) <= max(height, last.box[3] - last.box[1]) / 2:
                rows[-1].append(line)
                continue
        rows.append([line])
    return tuple(ln for row in rows for ln in sorted(row, key=lambda ln: ln.box[0]))


def _contained(inner: Box, outer: Box) -> bool:
    return (inner[0] >= outer[0] and inner[1] >= outer[1] and inner[2] <= outer[2]
            and inner[3] <= outer[3])


def _core(box: Box) -> Box:
    """The middle half of a line box, vertically: the boxes of tightly spaced lines overlap
    at their edges, and growing a region over every box it grazes would chain down a whole
    page of text."""
    x0, y0, x1, y1 = box
    quarter = (y1 - y0) // 4
    return (x0, y0 + quarter, x1, y1 - quarter)


def _offset(line: OcrLine, dx: int, dy: int) -> OcrLine:
    x0, y0, x1, y1 = line.box
    return OcrLine(text=line.text, confidence=line.confidence,
                   box=(x0 + dx, y0 + dy, x1 + dx, y1 + dy))


def _shift(line: OcrLine, dy: int) -> OcrLine:
    x0, y0, x1, y1 = line.box
    return OcrLine(text=line.text, confidence=line.confidence, box=(x0, y0 - dy, x1, y1 - dy))


@dataclass(eq=False)  # compared by identity (numpy arrays inside)
class _Seen:
    """A frame read before: its grey pixels (all that comparing and scroll detection need;
    a third of the RGB frame's memory), the 1/8 map and its OCR lines."""

    grey: Grey
    small: Grey
    ocr: OcrResult

    @property
    def size(self) -> tuple[int, int]:
        return self.grey.shape[1], self.grey.shape[0]

    @property
    def pixels(self) -> int:
        return int(self.grey.size)


@dataclass
class RegionOcrStats:
    frames: int = 0
    full_reads: int = 0
    reused: int = 0  # frames answered entirely from memory
    region_reads: int = 0  # frames read in parts
    crops: int = 0
    pixels_read: int = 0  # pixels handed to the OCR engine
    pixels_total: int = 0  # pixels of every frame seen
    scrolls: int = 0
    last_mode: str = ""
    extra: dict[str, int] = field(default_factory=dict)


class RegionOcr:
    """Implements :class:`core.types.Ocr` (``recognize``) plus per-monitor memory."""

    def __init__(self, ocr: Ocr, *, pad_px: int = 12, full_ratio: float = 0.6,
                 history: int = 4, scroll_min_area: float = 0.05,
                 resync_every: int = 30, memory_px: int = 4 * 1920 * 1080) -> None:
        self._ocr = ocr
        self._pad = pad_px
        self._full_ratio = full_ratio
        self._history = max(1, history)
        self._scroll_min_area = scroll_min_area
        self._seen: dict[str, list[_Seen]] = {}
        # After this many partial reads in a row a frame is read whole again, so that
        # approximations (lines joined across windows, crops read without context) never
        # drift for long.
        self._resync_every = resync_every
        self._partials: dict[str, int] = {}
        # Remembered pixels are bounded (about four 1080p frames): windows come and go, and
        # every piece of every layout would otherwise be kept.
        self._memory_px = memory_px
        self._used: dict[str, int] = {}
        self._clock = 0
        self._call_start = 0
        self.stats = RegionOcrStats()

    def forget(self) -> None:
        """Drop every remembered frame (pause, screen lock, idle)."""
        self._seen.clear()
        self._partials.clear()
        self._used.clear()
        forget = getattr(self._ocr, "forget", None)
        if callable(forget):
            forget()  # the engine's remembered line readings (core/ocr.py)

    def recognize(self, image: Image.Image, key: str = "",
                  pieces: tuple[Box, ...] = ()) -> OcrResult:
        """``pieces`` (core/capture/layout.py): the visible part of each window, top first;
        each is read and remembered on its own, so a change in one window never spreads into
        another, and the text of each window stays together."""
        image = image.convert("RGB") if image.mode != "RGB" else image
        w, h = image.size
        self.stats.frames += 1
        self.stats.pixels_total += w * h
        self._call_start = self._clock
        if not pieces:
            result, mode = self._recognize_keyed(image, key)
            self.stats.last_mode = mode
            self._prune()
            return result
        lines: list[OcrLine] = []
        modes: set[str] = set()
        for x0, y0, x1, y1 in pieces:
            part, mode = self._recognize_keyed(image.crop((x0, y0, x1, y1)),
                                               f"{key}@{x0},{y0},{x1},{y1}")
            modes.add(mode)
            lines.extend(_offset(line, x0, y0) for line in part.lines)
        self.stats.last_mode = next((m for m in ("full", "regions", "scrolled", "reused")
                                     if m in modes), "reused")
        self._prune()
        return OcrResult(tuple(lines))

    def _recognize_keyed(self, image: Image.Image, key: str) -> tuple[OcrResult, str]:
        small = downscale(image)
        grey = full_grey(image)  # remembered, and compared when a large region may scroll
        w, h = image.size
        self._clock += 1
        self._used[key] = self._clock
        candidates = [s for s in self._seen.get(key, []) if s.size == image.size]
        best: _Seen | None = None
        boxes: list[Box] = []
        best_area = w * h + 1
        for seen in candidates:
            found = changed_boxes(seen.small, small, image_size=(w, h))
            changed = sum(area(b) for b in found)
            if changed < best_area:
                best, boxes, best_area = seen, found, changed
            if changed == 0:
                break
        if best is None or (boxes and self._partials.get(key, 0) >= self._resync_every):
            result, mode = self._full(image), "full"
        elif not boxes:
            self.stats.reused += 1
            result, mode = best.ocr, "reused"
        else:
            partial = self._partial(image, grey, best, boxes)
            if partial is None:
                result, mode = self._full(image), "full"
            else:
                result, mode = partial
        # A frame read in parts (or reused) supersedes its reference; a fully read one is a
        # new scene (another window), and the old scene stays remembered for a switch back.
        full = mode == "full"
        self._partials[key] = 0 if full else self._partials.get(key, 0) + 1
        derived = best if not full else None
        self._remember(key, _Seen(grey=grey, small=small, ocr=result), derived)
        return result, mode

    def _prune(self) -> None:
        """Keep what is remembered within ``memory_px`` pixels: the least recently used
        pieces (windows since closed or moved) go first."""
        total = sum(s.pixels for frames in self._seen.values() for s in frames)
        for key in sorted(self._seen, key=lambda k: self._used.get(k, 0)):
            if total <= self._memory_px:
                break
            frames = self._seen[key]
            in_use = self._used.get(key, 0) > self._call_start  # read in this very call
            while frames and total > self._memory_px and (len(frames) > 1 or not in_use):
                gone = frames.pop()
                total -= gone.pixels
            if not frames:
                del self._seen[key]
                self._partials.pop(key, None)
                self._used.pop(key, None)

    def _remember(self, key: str, seen: _Seen, replaced: _Seen | None) -> None:
        frames = self._seen.setdefault(key, [])
        if replaced is not None and replaced in frames:
            frames.remove(replaced)
        frames.insert(0, seen)
        del frames[self._history:]

    def _full(self, image: Image.Image) -> OcrResult:
        self.stats.full_reads += 1
        self.stats.pixels_read += image.width * image.height
        return OcrResult(reading_order(self._ocr.recognize(image).lines))

    def _partial(self, image: Image.Image, grey: Grey, ref: _Seen,
                 boxes: list[Box]) -> tuple[OcrResult, str] | None:
        w, h = image.size
        frame_area = w * h
        if sum(area(b) for b in boxes) > frame_area * 2:  # overlapping boxes: give up early
            return None
        lines = list(ref.ocr.lines)
        dirty: list[Box] = []
        for box in boxes:
            if area(box) >= frame_area * self._scroll_min_area:
                scroll = detect_scroll(ref.grey, grey, box)
                if scroll is not None:
                    self.stats.scrolls += 1
                    lines, extra = self._apply_scroll(lines, box, scroll)
                    dirty.extend(extra)
                    continue
            dirty.append(box)
        if not dirty:
            self.stats.reused += 1
            return OcrResult(reading_order(lines)), "scrolled"
        # Grow each changed rectangle over every previous line whose middle it touches (a
        # line that changed in part is read again whole); the padding added for context when
        # cropping does not grow it, so a change never spreads into a neighbouring window.
        regions = merge_overlapping([b for b in dirty if area(b) > 0])
        grown = True
        while grown:
            grown = False
            keep: list[OcrLine] = []
            for line in lines:
                core = _core(line.box)
                # a line that ends just left of a change is the line being typed into
                # (left-to-right text); nothing is grown rightwards, where a neighbouring
                # window's text may start
                hit = next((i for i, r in enumerate(regions)
                            if intersects(core, (r[0] - self._pad, r[1], r[2], r[3]))), None)
                if hit is None:
                    keep.append(line)
                    continue
                regions[hit] = union(regions[hit], line.box)
                grown = True
            lines = keep
            regions = merge_overlapping(regions)
        crops = [pad(r, self._pad, (w, h)) for r in regions]
        if sum(area(c) for c in crops) > frame_area * self._full_ratio:
            return None
        reader = self._ocr if isinstance(self._ocr, RegionReader) else None
        for region, (x0, y0, x1, y1) in zip(regions, crops, strict=True):
            crop = image.crop((x0, y0, x1, y1))
            self.stats.crops += 1
            self.stats.pixels_read += (x1 - x0) * (y1 - y0)
            # the padding gives the detector context; the lines cut by it are not read
            inner = (region[0] - x0, region[1] - y0, region[2] - x0, region[3] - y0)
            read = reader.recognize_within(crop, inner) if reader is not None \
                else self._ocr.recognize(crop)
            for line in read.lines:
                bx0, by0, bx1, by1 = line.box
                box = (bx0 + x0, by0 + y0, bx1 + x0, by1 + y0)
                cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
                if not (region[0] <= cx < region[2] and region[1] <= cy < region[3]):
                    continue  # a neighbour seen through the padding: the kept line stands
                lines.append(OcrLine(text=line.text, confidence=line.confidence, box=box))
        self.stats.region_reads += 1
        return OcrResult(reading_order(lines)), "regions"

    @staticmethod
    def _apply_scroll(lines: list[OcrLine], box: Box,
                      scroll: Scroll) -> tuple[list[OcrLine], list[Box]]:
        x0, y0, x1, y1 = box
        kept: list[OcrLine] = []
        dirty: list[Box] = []
        for line in lines:
            if not intersects(line.box, box):
                kept.append(line)
                continue
            if not _contained(line.box, pad(box, SCALE, (10**9, 10**9))):
                # OCR joins text of side-by-side windows into one line; re-reading all of it
                # would spread a scrolled pane's change across the screen. Re-read the part
                # inside the pane; the rest comes back at the next full read.
                dirty.append((max(x0, line.box[0]), line.box[1], min(x1, line.box[2]),
                              line.box[3]))
                continue
            moved = _shift(line, scroll.dy)
            _, my0, _, my1 = moved.box
            if any(r0 - SCALE <= my0 and my1 <= r1 + SCALE for r0, r1 in scroll.matched_rows) \
                    and _contained(moved.box, pad(box, SCALE, (10**9, 10**9))):
                kept.append(moved)
            elif my1 > y0 and my0 < y1:
                # moved onto rows the offset does not explain: read it again where it is now
                dirty.append((moved.box[0], max(y0, my0), moved.box[2], min(y1, my1)))
        dirty.extend(scroll.edges)
        # rows of the box that the offset does not explain are new content
        pos = y0
        for r0, r1 in scroll.matched_rows:
            if r0 > pos:
                dirty.append((x0, pos, x1, r0))
            pos = max(pos, r1)
        if pos < y1:
            dirty.append((x0, pos, x1, y1))
        return kept, dirty
