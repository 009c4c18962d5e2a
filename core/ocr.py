"""OCR with PP-OCR: the ONNX models shipped inside the ``rapidocr`` wheel, run by
:mod:`core.ppocr` (numpy + onnxruntime; no OpenCV, and RapidOCR's Python code is never
imported).

The engine is built on first use, off the import path, and reused. It never
downloads: the models come with the package. Its onnxruntime sessions follow this
process's inference mode (core/inference.py: no spinning threads, no arena in the capture
service).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image

from core.errors import ModelError
from core.linefind import HARD_PAD_PX, plain_layout
from core.ppocr import Box, PpOcr, centre_inside, crop_box
from core.types import OcrLine, OcrResult

DOUBTFUL_SCORE = 0.75  # below this a long, sparse line gets a second look
SECOND_LOOKS = 6  # lines read again per image, at most
RAPIDOCR_TEXT_SCORE = 0.5  # lines under this are dropped unless the second look is on

Line = tuple[str, float, tuple[int, int, int, int]]


def _covers(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """True when the boxes overlap by more than 60% of the smaller one (the same line)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return False
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h > 0.6 * max(smaller, 1e-6)


def _upright_crop(array: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The line's axis-aligned box with a margin (an eighth of its height above and below,
    half of it at the ends): a second view of a line besides the detector's tight box,
    which the recogniser sometimes reads differently."""
    x0, y0, x1, y1 = box
    h = max(1, y1 - y0)
    pad = max(3, h // 8)
    return np.ascontiguousarray(array[max(0, y0 - pad):min(array.shape[0], y1 + pad),
                                      max(0, x0 - h // 2):min(array.shape[1], x1 + h // 2)])


def _source_box(array: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The image pixels under a detected line's box."""
    x0, y0, x1, y1 = box
    h, w = array.shape[:2]
    return array[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]


def line_key(crop: np.ndarray) -> bytes:
    """A line's identity, blind to where it is and to the detector's box jitter: its source
    pixels trimmed to those that differ from the corner colour (ink), hashed with their
    shape."""
    if crop.size == 0:
        return hashlib.blake2b(repr(crop.shape).encode("ascii"), digest_size=16).digest()
    grey = crop.mean(axis=2) if crop.ndim == 3 else crop
    ink = np.abs(grey - grey[0, 0]) > 24
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if rows.size and cols.size:
        crop = crop[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    digest = hashlib.blake2b(np.ascontiguousarray(crop).tobytes(), digest_size=16)
    digest.update(repr(crop.shape).encode("ascii"))
    return digest.digest()


CJK_LANGUAGES = ("zh", "ja")  # the recogniser's other scripts (it has no Hangul)


def ocr_scripts(setting: str, environ: Mapping[str, str] | None = None) -> str:
    """The recogniser's scripts for ``ocr.scripts``: "auto" is "all" when the user's locale
    (LC_ALL, LC_CTYPE, LANG or LANGUAGE, as POSIX orders them) is Chinese or Japanese, else
    "latin"."""
    if setting != "auto":
        return setting
    env = os.environ if environ is None else environ
    names = [env.get("LC_ALL", ""), env.get("LC_CTYPE", ""), env.get("LANG", ""),
             *env.get("LANGUAGE", "").split(":")]
    if not any(names):
        import locale

        names = [locale.getlocale()[0] or ""]
    for name in names:
        if name.lower().startswith(CJK_LANGUAGES):
            return "all"
    return "latin"


def _context_rows(top: int, bottom: int, height: int) -> tuple[int, int]:
    """Rows ``top:bottom`` with ``HARD_PAD_PX`` of context on each side, grown to a multiple
    of 32 rows and at least 64 (the detector's input is a multiple of 32: a band of another
    height is stretched), within the image."""
    start, end = top - HARD_PAD_PX, bottom + HARD_PAD_PX
    want = max(64, -(-(end - start) // 32) * 32)
    grow = want - (end - start)
    start -= grow // 2
    end += grow - grow // 2
    if start < 0:
        end, start = end - start, 0
    if end > height:
        start, end = max(0, start - (end - height)), height
    return start, end


class LineCache:
    """A bounded LRU map from line-image keys to (text, score)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: bytes) -> tuple[str, float] | None:
        found = self._items.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return found

    def put(self, key: bytes, value: tuple[str, float]) -> None:
        if self._capacity <= 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class RapidOcrEngine:
    """Implements :class:`core.types.Ocr` with PP-OCR (the models RapidOCR ships).

    The name and options are RapidOCR's engine's: the pipeline is the same one
    (core/ppocr.py), without its OpenCV dependency."""

    def __init__(self, *, min_confidence: float = 0.5, max_side_px: int = 2000,
                 threads: int = 0, native_det: bool = False, det_band_px: int = 0,
                 band_overlap_px: int = 96, rec_batch: int = 0,
                 second_look: bool = True, angle_cls: bool = False,
                 line_cache: int = 4096, int8: bool = True, scripts: str = "all",
                 rec_model: Path | None = None, narrow_wide_text: bool = True,
                 plain_text_lines: bool = True) -> None:
        self._min_confidence = min_confidence
        # ``det_band_px`` > 0 (native_det only): the detector reads tall images in horizontal
        # bands of about this height instead of all at once. Its activations scale with the
        # input area, so a 1080p frame peaks at about half (the capture service's RSS); each line
        # is still recognised once, from the whole image (see _recognize_banded).
        self._band = det_band_px if native_det else 0
        self._overlap = band_overlap_px
        # Lines recognised per batch (0: RapidOCR's 6). A batch is padded to its widest line
        # and the recogniser's activations grow with batch x width: one wide line at a time
        # bounds memory (~600 MB less on a dense 1080p frame) at no CPU cost.
        self._rec_batch = rec_batch
        # Re-read doubtful long lines from an upright crop (see _look_again); RapidOCR's own
        # score filter is then off so that lines it would drop can be looked at again.
        self._second_look = second_look
        # RapidOCR's 0/180-degree line classifier, off by default: screen text is never
        # upside down, and the classifier flips upright lines (dense text, long random
        # tokens) often enough that the recogniser then reads them as garbage. Measured on
        # a dense two-editor 1080p frame: 644 -> 1087 of ~1150 words read right, and every
        # key/token line of the privacy filter set that was missed is read (benchmarks.md).
        self._angle_cls = angle_cls
        self.second_looks = 0  # lines read again (for benchmarks)
        # RapidOCR's detector upscales every image whose short side is under 736 px, which
        # makes a 1920x100 crop cost ~3x a whole 1080p frame. ``native_det`` reads images at
        # their own size (capped by max_side_px) instead: identical for full 1080p frames,
        # and what makes region OCR (core/capture/region_ocr.py) cheap.
        self._native_det = native_det
        self._max_side_px = max_side_px
        self._threads = threads
        # The 8-bit recogniser made at install time (core/ocr_int8.py), when present and
        # made from the installed model; the float one otherwise.
        self._int8 = int8
        # "latin": the 8-bit copy without Chinese and Japanese classes (core/ocr_int8.py);
        # "all": every class. The float model always reads every class.
        self._scripts = scripts
        self._rec_model = rec_model  # an explicit recogniser file (tests, benchmarks)
        # Lines of wide fonts are narrowed to ~1.8 recogniser steps per character before
        # recognition (core/ppocr.py, line_squeeze): the same text for ~20% less recognition
        # CPU on such lines; narrow fonts are read as they are (docs/benchmarks.md).
        self._narrow = narrow_wide_text
        # Banded reads find the lines of text on plain backgrounds from their ink
        # (core/linefind.py) and run the detector only on what is not that simple.
        self._plain = plain_text_lines
        self.detector_px = 0  # pixels the detector model read (for benchmarks)
        self.lines_found_plain = 0  # lines found from the ink alone (for benchmarks)
        self.recognizer = "float"
        self._engine: PpOcr | None = None
        self._lock = threading.Lock()
        # Readings of line images seen before, by pixel content (memory only): a line that
        # merely moved (scrolling, a window switched back to, a region read again around a
        # typed word) is not recognised again. Recognition is most of OCR's cost.
        self._lines = LineCache(line_cache)

    def _load(self) -> PpOcr:
        if self._engine is None:
            rec_model = self._rec_model
            if rec_model is None:
                from core.ocr_int8 import int8_recognizer, source_model

                # the packaged app ships only the 8-bit recogniser: used even when turned off
                if self._int8 or not source_model().is_file():
                    rec_model = int8_recognizer(scripts=self._scripts)
            if rec_model is not None:
                self.recognizer = rec_model.name
            engine = PpOcr(rec_model=rec_model,
                           limit_type="max" if self._native_det else "min",
                           limit_side_len=self._max_side_px if self._native_det else 736,
                           max_side=self._max_side_px,
                           rec_batch=self._rec_batch if self._rec_batch > 0 else 6,
                           use_cls=self._angle_cls, threads=self._threads,
                           rec_squeeze=None if self._narrow else 1.0)
            self._engine = engine.load()
        return self._engine

    def recognize(self, image: Image.Image) -> OcrResult:
        return self._recognize(image, None)

    def recognize_within(self, image: Image.Image,
                         keep: tuple[int, int, int, int]) -> OcrResult:
        """Lines whose centre lies in ``keep``; the rest of ``image`` is context for the
        detector (a region read's padding, where neighbouring lines show cut in half: they
        are never recognised, which would cost CPU for nothing)."""
        return self._recognize(image, keep)

    def _recognize(self, image: Image.Image, keep: Box | None) -> OcrResult:
        rgb = image.convert("RGB") if image.mode != "RGB" else image
        with self._lock:
            raw = self._read(rgb, keep)
            if self._second_look:
                raw = self._look_again(rgb, raw)
        return OcrResult(tuple(
            OcrLine(text=text, confidence=round(score, 4), box=box)
            for text, score, box in raw if score >= self._min_confidence and text.strip()))

    def _read(self, rgb: Image.Image, keep: Box | None = None) -> list[Line]:
        """Every line with text (with its centre in ``keep``, if given), with its score (no
        confidence filter beyond RapidOCR's own 0.5, which is off while the second look is
        on)."""
        engine = self._load()
        array = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])  # BGR, as the models expect
        try:
            if self._banded(rgb.size):
                lines = self._recognize_banded(engine, array, keep)
            else:
                lines = engine.read(array, keep)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - native engine errors of any kind
            raise ModelError("OCR failed on this frame") from exc
        floor = 0.0 if self._second_look else RAPIDOCR_TEXT_SCORE
        return [(text, score, box) for text, score, box in lines
                if text.strip() and score >= floor]

    @staticmethod
    def doubtful(text: str, score: float, box: tuple[int, int, int, int]) -> bool:
        """A long, thin line read with low confidence and far fewer characters than its
        width holds: how the recogniser fails on long random tokens (keys, JWTs) at screen
        resolution. Ordinary prose misread as a whole keeps most of its characters."""
        w, h = box[2] - box[0], max(1, box[3] - box[1])
        if score >= DOUBTFUL_SCORE or w < 8 * h:
            return False
        expected = w / (0.55 * h)  # characters a line of this size holds
        return len(text.strip()) < 0.5 * expected

    def _look_again(self, rgb: Image.Image, raw: list[Line]) -> list[Line]:
        """Re-read doubtful lines with the recogniser alone, from an upright crop of their
        box with a little margin (a second view; the first is the detector's tight
        box). At most ``SECOND_LOOKS`` lines per image, the least
        confident first; ordinary lines are never read twice."""
        todo = sorted((i for i, (t, s, b) in enumerate(raw) if self.doubtful(t, s, b)),
                      key=lambda i: raw[i][1])[:SECOND_LOOKS]
        if not todo:
            return raw
        engine = self._load()
        bgr = np.asarray(rgb)[:, :, ::-1]
        out = list(raw)
        for i in todo:
            array = _upright_crop(bgr, raw[i][2])
            try:
                text, score = engine.recognize([array])[0]
            except Exception as exc:  # noqa: BLE001 - native engine errors of any kind
                raise ModelError("OCR failed on this frame") from exc
            self.second_looks += 1
            if score >= DOUBTFUL_SCORE and text.strip():
                out[i] = (text, score, raw[i][2])
        return out

    def _banded(self, size: tuple[int, int]) -> bool:
        """Detection in bands (one band for a short image) and recognition through the line
        cache; the plain one-pass pipeline otherwise."""
        w, h = size
        return self._band > 0 and max(w, h) <= self._max_side_px

    def forget(self) -> None:
        """Drop the remembered line readings (pause, lock)."""
        with self._lock:
            self._lines.clear()

    def band_rows(self, height: int) -> list[tuple[int, int]]:
        """(top, bottom) of each detection band: equal heights, overlapping by
        ``band_overlap_px``, covering the image."""
        ov = self._overlap
        n = max(1, int(np.ceil((height - ov) / max(1, self._band - ov))))
        step = int(np.ceil((height - ov) / n))
        return [(i * step, min(height, i * step + step + ov)) for i in range(n)]

    def _detect(self, engine: PpOcr, array: np.ndarray) -> list[tuple[float, Box]]:
        """Every line box of ``array`` with its distance from a cut band edge (infinite for
        a line found from its ink, which is never cut): the plain parts from their ink, the
        rest (or all, when the image is not plain) by the detector in bands."""
        height = array.shape[0]
        layout = plain_layout(array) if self._plain else None
        if layout is None:
            return self._detect_rows(engine, array, 0, height)
        self.lines_found_plain += len(layout.boxes)
        found: list[tuple[float, Box]] = [(float(np.inf), box) for box in layout.boxes]
        for top, bottom in layout.hard:
            # the detector sees some of the rows around the hard band (it misses a line cut
            # by the image's edge in fewer than ~40 rows), and keeps the lines centred in
            # it: the lines around were found from their ink
            start, end = _context_rows(top, bottom, height)
            for margin, box in self._detect_rows(engine, array, start, end):
                if top <= (box[1] + box[3]) / 2 < bottom:
                    found.append((margin, box))
        return found

    def _detect_rows(self, engine: PpOcr, array: np.ndarray, start: int,
                     end: int) -> list[tuple[float, Box]]:
        """The detector over rows ``start:end`` in bands; each box with its distance from
        the nearest band edge that cuts the image (infinite when none does)."""
        height = array.shape[0]
        found: list[tuple[float, Box]] = []
        for band_top, band_bottom in self.band_rows(end - start):
            top, bottom = start + band_top, start + band_bottom
            self.detector_px += (bottom - top) * array.shape[1]
            for det in engine.detect(np.ascontiguousarray(array[top:bottom])):
                x0, y0, x1, y1 = det.box
                box = (x0, y0 + top, x1, y1 + top)
                margin = min(box[1] - top if top > 0 else np.inf,
                             bottom - box[3] if bottom < height else np.inf)
                found.append((float(margin), box))
        return found

    def _recognize_banded(self, engine: PpOcr, array: np.ndarray,
                          keep: Box | None = None) -> list[Line]:
        """Detection band by band (bounded memory), then one classification and recognition
        pass over the detected lines, cropped from the whole image. A line in an overlap is
        found by both bands and read once: detections are kept in order of their distance
        from a cut band edge (a line cut by an edge, or missed near it, is found whole by the
        neighbouring band) and one that mostly covers a kept one is a duplicate."""
        found = self._detect(engine, array)
        found.sort(key=lambda item: -item[0])
        kept: list[tuple[int, int, int, int]] = []
        for _, box in found:
            if any(_covers(box, other) for other in kept):
                continue
            kept.append(box)
        if keep is not None:
            kept = [box for box in kept if centre_inside(box, keep)]
        # RapidOCR's own order: top to bottom, then left to right
        kept.sort(key=lambda b: (b[1], b[0]))
        keys = [line_key(_source_box(array, box)) for box in kept]
        known = {key: hit for key in set(keys) if (hit := self._lines.get(key)) is not None}
        misses = [i for i, key in enumerate(keys) if key not in known]
        if misses:
            read = engine.recognize([crop_box(array, kept[i]) for i in misses])
            for i, (text, score) in zip(misses, read, strict=True):
                known[keys[i]] = (text, score)
                self._lines.put(keys[i], known[keys[i]])
        return [(*known[key], box) for key, box in zip(keys, kept, strict=True)]
