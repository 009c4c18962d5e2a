"""PP-OCR (the ONNX models shipped in the ``rapidocr`` wheel) run with numpy and onnxruntime.

RapidOCR's Python pipeline needs OpenCV (resizes, contours, perspective crops), pyclipper and
shapely: 150 MB of the app bundle for a few image operations. Screen text is upright, so the
text boxes are axis-aligned rectangles and each of those operations has a small numpy
equivalent. This module reproduces RapidOCR 3.10's pipeline as ``core.ocr`` configures it:

- **detection** (DB): resize to a multiple of 32 (bilinear, OpenCV's pixel-centre
  convention), normalise with mean = std = 0.5 (BGR, as RapidOCR feeds the models), run,
  threshold the probability map at ``DET_THRESH``, dilate 2x2, label connected regions
  (8-connected; row runs joined by union-find), one axis-aligned box per region, keep it
  when the mean probability inside reaches ``DET_BOX_THRESH``, grow it by DB's unclip
  distance (area x ratio / perimeter, exact for a rectangle), scale back;
- **recognition** (CTC): crop each box, resize to height 48 keeping the aspect (batch padded
  to its widest line), normalise, run, greedy decode with the character list stored in the
  model's metadata, score = mean probability of the kept characters; lines wider than
  ~1,400 recogniser columns are read in overlapping pieces and stitched (core/linesplit.py);
- the optional 0/180-degree **line classifier**.

The pure steps (resize, labelling, boxes, unclip, decode) are plain functions tested on small
arrays; :class:`PpOcr` holds the three onnxruntime sessions. Nothing here imports ``rapidocr``:
its model files are located with :func:`importlib.util.find_spec`.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.errors import ModelError
from core.linesplit import decode_steps, pieces_of, stitch

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive ends, image pixels)

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"

# RapidOCR 3.10's defaults (rapidocr/config.yaml), as core.ocr uses them.
DET_THRESH = 0.3
DET_BOX_THRESH = 0.5
DET_UNCLIP_RATIO = 1.6
DET_MAX_CANDIDATES = 1000
DET_MIN_SIZE = 3
REC_HEIGHT = 48
REC_MIN_WIDTH = 320  # a batch is at least 320/48 wide
CLS_SHAPE = (48, 192)
CLS_THRESH = 0.9
MIN_SIDE = 30  # Global.min_side_len: smaller images are enlarged first
PAD_MIN_HEIGHT = 30  # Global.min_height / width_height_ratio: very wide or low images are
PAD_RATIO = 8  # padded with black rows above and below before detection
SORT_ROW_PX = 10  # boxes whose tops differ by less are on one row (left to right)
# Lines whose glyphs are wide for their height are narrowed before recognition (see
# line_squeeze): the recogniser emits one step per 8 input columns, and wide fonts give it
# ~2.2-2.6 steps per character where narrow ones read well at ~1.6-1.7.
REC_TARGET_STEPS_PER_CHAR = 1.8
REC_MIN_SQUEEZE = 0.8
REC_RECHECK_SCORE = 0.97  # a narrowed line read with a lower score is read again as it is
RUNS_PER_CHAR = 1.3  # fitted on rendered lines of eight fonts (bench/eval_ocr_lines.py)


def model_dir() -> Path:
    """The ``models`` folder of the installed ``rapidocr`` package, found without importing it
    (its Python pipeline imports OpenCV)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the OCR models (package 'rapidocr') are not installed; "
                         "reinstall Afterimage's dependencies")
    for location in spec.submodule_search_locations:
        folder = Path(location) / "models"
        if (folder / DET_MODEL).is_file():
            return folder
    raise ModelError("the OCR model files are missing from the 'rapidocr' package; "
                     "reinstall Afterimage's dependencies")


# -- image operations ----------------------------------------------------------------------

def _axis_weights(src: int, dst: int) -> tuple[I64, I64, F32]:
    """Source indices and weights of a bilinear resize along one axis, as OpenCV's
    INTER_LINEAR computes them (pixel centres aligned, edges clamped)."""
    scale = src / dst
    pos = (np.arange(dst, dtype=np.float64) + 0.5) * scale - 0.5
    i0 = np.floor(pos).astype(np.int64)
    frac = pos - i0
    frac[i0 < 0] = 0.0
    i0 = np.clip(i0, 0, src - 1)
    i1 = np.minimum(i0 + 1, src - 1)
    frac[i0 >= src - 1] = 0.0
    return i0, i1, frac.astype(np.float32)


def resize_bilinear(image: npt.NDArray[Any], height: int, width: int) -> F32:
    """``image`` (H x W or H x W x C) resized to ``height`` x ``width`` with OpenCV's
    INTER_LINEAR arithmetic (no antialiasing), as float32. An axis whose size does not
    change is copied as is."""
    out = image.astype(np.float32, copy=False)
    h, w = image.shape[:2]
    if height != h:
        y0, y1, fy = _axis_weights(h, height)
        shape = (-1,) + (1,) * (out.ndim - 1)
        top = out[y0]
        out = top + (out[y1] - top) * fy.reshape(shape)
    if width != w:
        x0, x1, fx = _axis_weights(w, width)
        shape = (1, -1) + (1,) * (out.ndim - 2)
        left = out[:, x0]
        out = left + (out[:, x1] - left) * fx.reshape(shape)
    return np.ascontiguousarray(out, dtype=np.float32)


def resize_u8(image: U8, height: int, width: int) -> U8:
    """An 8-bit H x W x 3 image resized like OpenCV's INTER_LINEAR. Enlarging, Pillow's
    bilinear filter computes the same interpolation (within one level of rounding) 2-3 times
    faster; shrinking, it would antialias, so :func:`resize_bilinear` does it instead."""
    h, w = image.shape[:2]
    if (height, width) == (h, w):
        return image
    if height >= h and width >= w and image.ndim == 3 and image.shape[2] == 3:
        from PIL import Image

        enlarged = Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR)
        return np.asarray(enlarged)
    out = resize_bilinear(image, height, width)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def normalise_chw(image: npt.NDArray[Any]) -> F32:
    """H x W x 3 pixels (0..255) to 3 x H x W in [-1, 1] (mean = std = 0.5)."""
    chw = np.empty((3,) + image.shape[:2], dtype=np.float32)
    for c in range(3):
        np.multiply(image[:, :, c], 1 / 127.5, out=chw[c], casting="unsafe")
    chw -= 1.0
    return chw


# -- detection post-processing -------------------------------------------------------------

def dilate_2x2(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """OpenCV's ``dilate`` with a 2x2 kernel (anchor at its centre): each pixel becomes the
    maximum of itself and its neighbours above, to the left and above-left."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    shifted = out.copy()
    out[:, 1:] |= shifted[:, :-1]
    return out


def row_runs(mask: npt.NDArray[np.bool_]) -> tuple[I64, I64, I64]:
    """Horizontal runs of set pixels: (row, start, end) arrays, end exclusive, in row-major
    order."""
    h, w = mask.shape
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded.ravel())
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    rows = starts // (w + 2)
    return rows, starts - rows * (w + 2), ends - rows * (w + 2)


def _union_find(n: int, a: I64, b: I64) -> I64:
    """Connected-component representative (the smallest member) of each of ``n`` nodes
    joined by the edges ``a[i] -- b[i]``: hooking and pointer jumping, vectorised."""
    parent = np.arange(n, dtype=np.int64)
    if len(a) == 0:
        return parent
    while True:
        pa, pb = parent[a], parent[b]
        if np.array_equal(pa, pb):
            return parent
        low = np.minimum(pa, pb)
        np.minimum.at(parent, pa, low)
        np.minimum.at(parent, pb, low)
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def component_boxes(mask: npt.NDArray[np.bool_]) -> I64:
    """Bounding boxes of the 8-connected regions of ``mask`` as an N x 4 array of inclusive
    pixel coordinates (x0, y0, x1, y1), ordered by each region's first pixel (row-major)."""
    rows, starts, ends = row_runs(mask)
    n = len(rows)
    if n == 0:
        return np.zeros((0, 4), dtype=np.int64)
    key = np.int64(mask.shape[1] + 2)
    # A run touches the runs of the next row that overlap it widened by one pixel each side
    # (8-connectivity). Runs are sorted by (row, start) and, being disjoint, by end too, so
    # the touching runs form one index range, found by binary search.
    keyed_starts = rows * key + starts
    keyed_ends = rows * key + ends
    first = np.searchsorted(keyed_ends, (rows + 1) * key + starts, side="left")
    last = np.searchsorted(keyed_starts, (rows + 1) * key + ends, side="right")
    count = np.maximum(last - first, 0)
    a = np.repeat(np.arange(n, dtype=np.int64), count)
    offsets = np.arange(len(a), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    b = np.repeat(first, count) + offsets
    labels = _union_find(n, a, b)
    roots, inverse = np.unique(labels, return_inverse=True)
    boxes = np.empty((len(roots), 4), dtype=np.int64)
    boxes[:, 0] = mask.shape[1]
    boxes[:, 1] = mask.shape[0]
    boxes[:, 2:] = -1
    np.minimum.at(boxes[:, 0], inverse, starts)
    np.minimum.at(boxes[:, 1], inverse, rows)
    np.maximum.at(boxes[:, 2], inverse, ends - 1)
    np.maximum.at(boxes[:, 3], inverse, rows)
    return boxes


def unclip_box(x0: float, y0: float, x1: float, y1: float,
               ratio: float = DET_UNCLIP_RATIO) -> tuple[float, float, float, float]:
    """DB's unclip of a rectangle: every side moves out by area x ratio / perimeter (the
    rounded corners of the offset polygon stay inside the grown rectangle)."""
    w, h = x1 - x0, y1 - y0
    if w <= 0 or h <= 0:
        return x0, y0, x1, y1
    d = float(np.rint(w * h * ratio / (2 * (w + h))))  # pyclipper works in whole pixels
    return x0 - d, y0 - d, x1 + d, y1 + d


def db_boxes(prob: F32, dest_w: int, dest_h: int, *, thresh: float = DET_THRESH,
             box_thresh: float = DET_BOX_THRESH, unclip_ratio: float = DET_UNCLIP_RATIO,
             max_candidates: int = DET_MAX_CANDIDATES) -> list[tuple[Box, float]]:
    """Text boxes from DB's probability map (H x W), in the coordinates of a ``dest_w`` x
    ``dest_h`` image, with their scores (mean probability inside), in RapidOCR's order: top
    to bottom by rows of ``SORT_ROW_PX``, left to right within a row."""
    height, width = prob.shape
    regions = component_boxes(dilate_2x2(prob > thresh))[:max_candidates]
    found: list[tuple[Box, float]] = []
    for rx0, ry0, rx1, ry1 in regions.tolist():
        if min(rx1 - rx0, ry1 - ry0) < DET_MIN_SIZE:
            continue
        score = float(prob[ry0:ry1 + 1, rx0:rx1 + 1].mean())
        if score < box_thresh:
            continue
        ux0, uy0, ux1, uy1 = unclip_box(rx0, ry0, rx1, ry1, unclip_ratio)
        if min(ux1 - ux0, uy1 - uy0) < DET_MIN_SIZE + 2:
            continue
        # scale back (rounded, within the image), then RapidOCR's clip to the last pixel
        xs = np.clip(np.rint(np.array([ux0, ux1]) / width * dest_w), 0, dest_w)
        ys = np.clip(np.rint(np.array([uy0, uy1]) / height * dest_h), 0, dest_h)
        bx0, bx1 = (int(min(max(v, 0), dest_w - 1)) for v in xs)
        by0, by1 = (int(min(max(v, 0), dest_h - 1)) for v in ys)
        if bx1 - bx0 <= 3 or by1 - by0 <= 3:
            continue
        found.append(((bx0, by0, bx1, by1), score))
    return sort_boxes(found)


def sort_boxes(found: list[tuple[Box, float]]) -> list[tuple[Box, float]]:
    """RapidOCR's reading order: by top edge, a new row where the top jumps by at least
    ``SORT_ROW_PX``, left to right within a row."""
    if not found:
        return found
    tops = np.array([box[1] for box, _ in found])
    order = np.argsort(tops, kind="stable")
    row = np.concatenate([[0], np.cumsum(np.diff(tops[order]) >= SORT_ROW_PX)])
    lefts = np.array([found[i][0][0] for i in order])
    final = np.lexsort((lefts, row))
    return [found[order[i]] for i in final]


# -- recognition input -------------------------------------------------------------------------

def rec_width(crop_w: int, crop_h: int, batch_width: int, height: int = REC_HEIGHT,
              squeeze: float = 1.0) -> int:
    """Width of a line resized to the recogniser's height (and narrowed by ``squeeze``),
    within its batch's width."""
    return min(batch_width, int(math.ceil(height * crop_w * squeeze / float(crop_h))))


def normalise_line(crop: U8, batch_width: int, height: int = REC_HEIGHT,
                   squeeze: float = 1.0) -> F32:
    """A line crop resized to ``height`` (aspect kept, or narrowed by ``squeeze``; at most
    ``batch_width`` wide), normalised to [-1, 1] and padded with zeros on the right to
    ``batch_width``."""
    h, w = crop.shape[:2]
    width = rec_width(w, h, batch_width, height, squeeze)
    out = np.zeros((3, height, batch_width), dtype=np.float32)
    out[:, :, :width] = normalise_chw(resize_u8(crop, height, width))
    return out


def line_squeeze(crop: U8, target: float = REC_TARGET_STEPS_PER_CHAR,
                 floor: float = REC_MIN_SQUEEZE) -> float:
    """How much to narrow a line crop (1.0: not at all, at least ``floor``) so that the
    recogniser gets about ``target`` steps per character.

    Characters are counted from the pixels, before reading: along a row through the letters
    each vertical stroke starts one run of ink, and text has ~1.3 such runs per character on
    the rows that cross the most strokes, whatever the font (``m`` three, ``o`` two, ``i``
    one). Those rows (the sixth of the rows with the most runs) are used, so that dashes and
    underlines, one long run each, do not hide the letters. Fitted on rendered lines of
    eight fonts (bench/eval_ocr_lines.py), the estimated steps per character is within 7%
    for half of the lines and within 15% for nine in ten. A line with too little ink to
    count, or too short to gain anything (the recogniser's input is at least
    ``REC_MIN_WIDTH`` wide), is left as it is."""
    if crop.ndim == 3:
        grey = crop.astype(np.int16).sum(axis=2) // 3
    else:
        grey = crop.astype(np.int16)
    h = grey.shape[0]
    cols_as_is = REC_HEIGHT * grey.shape[1] / max(1, h)
    if h < 6 or cols_as_is <= REC_MIN_WIDTH:
        return 1.0  # a short line is padded to the recogniser's minimum width anyway
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    diff = np.abs(grey - int(np.median(border)))
    ink = diff > max(40, int(0.35 * int(diff.max())))
    cols = np.flatnonzero(ink.any(axis=0))
    if cols.size < h:
        return 1.0
    runs = np.sort((ink[:, 1:] & ~ink[:, :-1]).sum(axis=1))[::-1]
    strokes = float(runs[:max(2, h // 6)].mean())
    if strokes < 8:
        return 1.0
    width = float(cols[-1] - cols[0] + 1)
    steps_per_char = RUNS_PER_CHAR * width * REC_HEIGHT / (8.0 * h * strokes)
    return float(min(1.0, max(floor, REC_MIN_WIDTH / cols_as_is, target / steps_per_char)))


def narrowing_doubtful(text: str, score: float) -> bool:
    """Whether a line read narrowed must be read again as it is: a low score, or text where
    narrowing can lose characters without lowering the score. Greedy CTC decoding merges
    repeats, so a run of one character needs a blank step between each (``1111``,
    ``-----``, ``....``), and a narrowed card number can lose a whole group of four with a
    high score; the privacy filter's detectors need every digit of a card (13-19) or an IBAN
    (12 or more), so a line read with twelve digits or more is always read as it is."""
    if score < REC_RECHECK_SCORE:
        return True
    run = 1
    for a, b in zip(text, text[1:], strict=False):
        run = run + 1 if a == b and not a.isspace() else 1
        if run >= 3:
            return True
    return sum(ch.isdigit() for ch in text) >= 12


# -- the models ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Detection:
    box: Box
    score: float


@dataclass
class _Prepared:
    """An image ready for detection and its mapping back to the caller's pixels."""
    image: U8  # what the detector and the crops read (resized and padded)
    ratio_h: float
    ratio_w: float
    top: int  # black rows added above


class PpOcr:
    """The detector, recogniser and (optionally) line classifier of PP-OCR, on onnxruntime.

    ``limit_type``/``limit_side_len`` are RapidOCR's detector resize rules ("max": the longer
    side at most this; "min": the shorter side at least this); ``max_side`` is the whole
    image's limit before detection; ``rec_batch`` lines are recognised per run."""

    def __init__(self, *, limit_type: str = "min", limit_side_len: int = 736,
                 max_side: int = 2000, rec_batch: int = 6, use_cls: bool = False,
                 threads: int = 0, rec_model: Path | None = None,
                 rec_squeeze: float | None = 1.0) -> None:
        self.limit_type = limit_type
        self.limit_side_len = limit_side_len
        self.max_side = max_side
        self.rec_batch = max(1, rec_batch)
        self.use_cls = use_cls
        self._threads = threads
        self._rec_model = rec_model  # another recogniser file (the 8-bit one, core/ocr_int8.py)
        # horizontal scale of line images before recognition; None: each line's own
        # (line_squeeze)
        self.rec_squeeze = rec_squeeze
        self._lock = threading.Lock()
        self.det: Any = None
        self.rec: Any = None
        self.cls: Any = None
        self.characters: list[str] = []

    # -- loading ---------------------------------------------------------------------------
    def load(self) -> PpOcr:
        with self._lock:
            if self.det is not None:
                return self
            try:
                folder = model_dir()
                det = self._session(folder / DET_MODEL)
                rec = self._session(self._rec_model or folder / REC_MODEL)
                cls = self._session(folder / CLS_MODEL) if self.use_cls else None
                meta = rec.get_modelmeta().custom_metadata_map
                characters = ["blank", *meta["character"].splitlines(), " "]
            except ModelError:
                raise
            except Exception as exc:  # noqa: BLE001 - onnxruntime/model errors of any kind
                raise ModelError("the OCR models failed to load; "
                                 "reinstall Afterimage's dependencies") from exc
            self.rec, self.cls, self.characters = rec, cls, characters
            self.det = det
        return self

    def _session(self, path: Path) -> Any:
        import onnxruntime as ort

        from core.inference import session_options

        options = session_options(self._threads)
        options.enable_cpu_mem_arena = False  # as RapidOCR builds its sessions
        return ort.InferenceSession(str(path), sess_options=options,
                                    providers=["CPUExecutionProvider"])

    def sessions(self) -> list[Any]:
        """The onnxruntime sessions in use (detector, classifier if on, recogniser)."""
        self.load()
        return [s for s in (self.det, self.cls, self.rec) if s is not None]

    # -- detection -------------------------------------------------------------------------
    def _det_size(self, h: int, w: int) -> tuple[int, int]:
        limit = self.limit_side_len
        ratio = 1.0
        if self.limit_type == "max":
            if max(h, w) > limit:
                ratio = limit / h if h > w else limit / w
        elif min(h, w) < limit:
            ratio = limit / h if h < w else limit / w
        return (int(round(int(h * ratio) / 32) * 32), int(round(int(w * ratio) / 32) * 32))

    def detect(self, bgr: U8) -> list[Detection]:
        """Text boxes of ``bgr`` (H x W x 3) in its pixels, in reading order."""
        self.load()
        h, w = bgr.shape[:2]
        rh, rw = self._det_size(h, w)
        if rh <= 0 or rw <= 0:
            return []
        prepared = normalise_chw(resize_u8(bgr, rh, rw))[np.newaxis]
        prob = self.det.run(None, {self.det.get_inputs()[0].name: prepared})[0][0, 0]
        del prepared
        return [Detection(box, score) for box, score in db_boxes(prob, w, h)]

    def _prepare(self, bgr: U8) -> _Prepared:
        """RapidOCR's whole-image steps before detection: the longer side within
        ``max_side``, the shorter at least ``MIN_SIDE`` (both to multiples of 32), then black
        rows above and below an image lower than ``PAD_MIN_HEIGHT`` or wider than
        ``PAD_RATIO`` x its height."""
        h, w = bgr.shape[:2]
        image, ratio_h, ratio_w = bgr, 1.0, 1.0
        if max(h, w) > self.max_side:
            image, ratio_h, ratio_w = _rescale(image, self.max_side / max(h, w))
        if min(image.shape[:2]) < MIN_SIDE:
            ih, iw = image.shape[:2]
            image, ratio_h, ratio_w = _rescale(image, MIN_SIDE / min(ih, iw))
        ih, iw = image.shape[:2]
        top = 0
        if ih <= PAD_MIN_HEIGHT or iw / ih > PAD_RATIO:
            new_h = max(int(iw / PAD_RATIO), PAD_MIN_HEIGHT) * 2
            top = int(abs(new_h - ih) / 2)
            image = np.pad(image, ((top, top), (0, 0), (0, 0)))
        return _Prepared(np.ascontiguousarray(image), ratio_h, ratio_w, top)

    def read(self, bgr: U8, keep: Box | None = None) -> list[tuple[str, float, Box]]:
        """Detect and recognise every line of ``bgr``: (text, score, box) in its pixels.
        With ``keep``, only the lines whose centre lies inside it are recognised."""
        prepared = self._prepare(bgr)
        found = self.detect(prepared.image)
        h, w = bgr.shape[:2]
        rw, rh, top = prepared.ratio_w, prepared.ratio_h, prepared.top
        lines: list[tuple[Detection, Box]] = []
        for d in found:
            x0, y0, x1, y1 = d.box
            box = (int(_back(x0, rw, 0, w)), int(_back(y0, rh, top, h)),
                   math.ceil(_back(x1, rw, 0, w)), math.ceil(_back(y1, rh, top, h)))
            if keep is None or centre_inside(box, keep):
                lines.append((d, box))
        if not lines:
            return []
        crops = [crop_box(prepared.image, d.box) for d, _ in lines]
        return [(text, score, box) for (_, box), (text, score)
                in zip(lines, self.recognize(crops), strict=True)]

    # -- recognition -----------------------------------------------------------------------
    def recognize(self, crops: list[U8]) -> list[tuple[str, float]]:
        """(text, score) of each line crop (BGR), in order. Long lines are read in
        overlapping pieces and stitched (core/linesplit.py): the recogniser's activations
        grow with a line's width, so this bounds its peak memory. With ``rec_squeeze`` None,
        each line is narrowed by its own :func:`line_squeeze`, and a narrowed line whose
        reading is doubtful (:func:`narrowing_doubtful`) is read again as it is, and that
        reading is kept."""
        self.load()
        if not crops:
            return []
        if self.use_cls:
            crops = self.classify(crops)
        fixed = self.rec_squeeze
        squeezes = [fixed if fixed is not None else line_squeeze(c) for c in crops]
        read = self._recognize(crops, squeezes)
        doubtful = [i for i, (sq, (text, score)) in enumerate(zip(squeezes, read, strict=True))
                    if sq < 1.0 and narrowing_doubtful(text, score)]
        if doubtful and fixed is None:
            again = self._recognize([crops[i] for i in doubtful], [1.0] * len(doubtful))
            for i, as_is in zip(doubtful, again, strict=True):
                read[i] = as_is
        return read

    def _recognize(self, crops: list[U8], squeezes: list[float]) -> list[tuple[str, float]]:
        pieces = [p for i, c in enumerate(crops) for p in pieces_of(i, c, REC_HEIGHT)]
        views = [np.ascontiguousarray(crops[p.line][:, p.x0:p.x1]) if p.x0 > 0
                 or p.x1 < crops[p.line].shape[1] else crops[p.line] for p in pieces]
        narrow = [squeezes[p.line] for p in pieces]
        ratios = np.array([v.shape[1] * sq / float(v.shape[0])
                           for v, sq in zip(views, narrow, strict=True)])
        order = np.argsort(ratios)
        parts: list[list[Any]] = [[] for _ in crops]
        name = self.rec.get_inputs()[0].name
        for begin in range(0, len(views), self.rec_batch):
            batch = order[begin:begin + self.rec_batch]
            max_ratio = max(REC_MIN_WIDTH / REC_HEIGHT, *(float(ratios[i]) for i in batch))
            batch_width = int(REC_HEIGHT * max_ratio)
            tensor = np.stack([normalise_line(views[i], batch_width, squeeze=narrow[i])
                               for i in batch])
            preds = self.rec.run(None, {name: tensor})[0]
            del tensor
            for i, row in zip(batch, preds, strict=True):
                piece, view = pieces[int(i)], views[int(i)]
                tokens, probs, steps = decode_steps(row)
                cols = rec_width(view.shape[1], view.shape[0], batch_width,
                                 squeeze=narrow[int(i)])
                # a step's centre, in recogniser columns, then in the crop's columns
                xs = piece.x0 + (steps + 0.5) * (batch_width / len(row)) \
                    * (view.shape[1] / cols)
                parts[piece.line].append(
                    (piece, [self.characters[t] for t in tokens.tolist()], probs, xs))
        return [stitch(p) for p in parts]

    def classify(self, crops: list[U8]) -> list[U8]:
        """RapidOCR's 0/180-degree line classifier: crops it judges upside down (score above
        ``CLS_THRESH``) are turned."""
        if self.cls is None:
            return crops
        out = list(crops)
        ratios = np.array([c.shape[1] / float(c.shape[0]) for c in crops])
        order = np.argsort(ratios)
        name = self.cls.get_inputs()[0].name
        height, width = CLS_SHAPE
        for begin in range(0, len(crops), 6):
            batch = order[begin:begin + 6]
            tensor = np.stack([normalise_line(crops[i], width, height) for i in batch])
            probs = self.cls.run(None, {name: tensor})[0]
            for i, p in zip(batch, probs, strict=True):
                if int(np.argmax(p)) == 1 and float(np.max(p)) > CLS_THRESH:
                    out[int(i)] = np.ascontiguousarray(crops[int(i)][::-1, ::-1])
        return out


def centre_inside(box: Box, area: Box) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return area[0] <= cx < area[2] and area[1] <= cy < area[3]


def crop_box(image: U8, box: Box) -> U8:
    """The pixels of ``box`` (x0, y0, x1, y1), turned a quarter when it is at least 1.5
    times taller than wide (RapidOCR reads such crops as vertical text)."""
    x0, y0, x1, y1 = box
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    if crop.shape[0] >= 1.5 * crop.shape[1]:
        crop = np.ascontiguousarray(np.rot90(crop))
    return crop


def _rescale(image: U8, ratio: float) -> tuple[U8, float, float]:
    h, w = image.shape[:2]
    rh = int(round(int(h * ratio) / 32) * 32)
    rw = int(round(int(w * ratio) / 32) * 32)
    if rh <= 0 or rw <= 0:
        raise ModelError("this image is too small to read")
    return resize_u8(image, rh, rw), h / rh, w / rw


def _back(v: int, ratio: float, offset: int, limit: int) -> float:
    """A detection coordinate mapped back to the caller's image (padding removed, scaled,
    clamped to the image)."""
    return float(min(max((v - offset) * ratio, 0.0), float(limit)))
