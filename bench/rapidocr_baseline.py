"""Baseline for benchmarks: the OCR engine core/ocr.py had before it dropped OpenCV.

It runs RapidOCR's own Python pipeline (which imports cv2, pyclipper and shapely) with the
same options as ``core.ocr.RapidOcrEngine``, so that bench/bench_ocr_engine.py can compare
the two engines' text, CPU and memory in the same run. Not part of the app.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from PIL import Image

from core.errors import ModelError
from core.types import OcrLine, OcrResult

_log = logging.getLogger(__name__)

# RapidOCR builds its onnxruntime SessionOptions itself (OrtInferSession._init_sess_opts)
# and only exposes thread counts. While one of our engines loads its three models, that
# builder is wrapped so the options also get this process's inference mode
# (core/inference.py: no spinning threads, no arena in the capture service). The models
# are loaded eagerly under this lock, so no other RapidOCR construction sees the wrapper.
_SESSION_HOOK_LOCK = threading.Lock()

DOUBTFUL_SCORE = 0.75  # below this a long, sparse line gets a second look
SECOND_LOOKS = 6  # lines read again per image, at most


def _load_models_with_our_options(engine: Any, threads: int, cls: bool) -> None:
    from rapidocr.inference_engine.onnxruntime.main import OrtInferSession

    from core.inference import configure_session_options

    original = OrtInferSession.__dict__["_init_sess_opts"]

    def init_sess_opts(cfg: Any) -> Any:
        options = original.__func__(cfg)
        configure_session_options(options, threads)
        return options

    with _SESSION_HOOK_LOCK:
        OrtInferSession._init_sess_opts = staticmethod(init_sess_opts)  # type: ignore[method-assign]
        try:
            engine._load_det_model()
            if cls:
                engine._load_cls_model()
            engine._load_rec_model()
        finally:
            OrtInferSession._init_sess_opts = original  # type: ignore[method-assign]


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
    half of it at the ends): a second view of a line besides the detector's rectified
    quad, which the recogniser sometimes reads differently."""
    x0, y0, x1, y1 = box
    h = max(1, y1 - y0)
    pad = max(3, h // 8)
    return np.ascontiguousarray(array[max(0, y0 - pad):min(array.shape[0], y1 + pad),
                                      max(0, x0 - h // 2):min(array.shape[1], x1 + h // 2)])


class RapidOcrBaseline:
    """The OpenCV-based engine core/ocr.py had before (RapidOCR's own Python pipeline)."""

    def __init__(self, *, min_confidence: float = 0.5, max_side_px: int = 2000,
                 threads: int = 0, native_det: bool = False, det_band_px: int = 0,
                 band_overlap_px: int = 96, rec_batch: int = 0,
                 second_look: bool = True, angle_cls: bool = False) -> None:
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
        self._engine: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._engine is None:
            try:
                from rapidocr import RapidOCR

                params: dict[str, Any] = {
                    "Global.log_level": "critical",
                    "Global.max_side_len": self._max_side_px,
                }
                if self._native_det:
                    params["Det.limit_type"] = "max"
                    params["Det.limit_side_len"] = self._max_side_px
                if not self._angle_cls:
                    params["Global.use_cls"] = False
                if self._second_look:
                    params["Global.text_score"] = 0.0
                if self._rec_batch > 0:
                    params["Rec.rec_batch_num"] = self._rec_batch
                if self._threads > 0:
                    params["EngineConfig.onnxruntime.intra_op_num_threads"] = self._threads
                engine = RapidOCR(params=params)
                _load_models_with_our_options(engine, self._threads, self._angle_cls)
                self._engine = engine
            except Exception as exc:  # noqa: BLE001 - any failure to build the engine
                raise ModelError("the OCR engine (RapidOCR) failed to load; "
                                 "reinstall Afterimage's dependencies") from exc
            # RapidOCR installs its own log handlers; keep them quiet (they can echo text).
            for name in ("RapidOCR", "rapidocr"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        return self._engine

    def recognize(self, image: Image.Image) -> OcrResult:
        rgb = image.convert("RGB") if image.mode != "RGB" else image
        with self._lock:
            raw = self._read(rgb)
            if self._second_look:
                raw = self._look_again(rgb, raw)
        return OcrResult(tuple(
            OcrLine(text=text, confidence=round(score, 4), box=box)
            for text, score, box in raw if score >= self._min_confidence and text.strip()))

    def _read(self, rgb: Image.Image) -> list[tuple[str, float, tuple[int, int, int, int]]]:
        """Every line the engine returns, with its score (no confidence filter)."""
        engine = self._load()
        array = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])  # BGR like OpenCV
        try:
            if self._banded(rgb.size):
                txts, scores, boxes = self._recognize_banded(engine, array)
            else:
                out = engine(array)
                txts = getattr(out, "txts", None) or ()
                scores = getattr(out, "scores", None) or ()
                boxes = getattr(out, "boxes", None)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - native engine errors of any kind
            raise ModelError("OCR failed on this frame") from exc
        if boxes is None:
            return []
        lines = []
        for text, score, quad in zip(txts, scores, boxes, strict=False):
            pts = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            lines.append((str(text), float(score),
                          (int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1)))))
        return lines

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

    def _look_again(self, rgb: Image.Image,
                    raw: list[tuple[str, float, tuple[int, int, int, int]]]
                    ) -> list[tuple[str, float, tuple[int, int, int, int]]]:
        """Re-read doubtful lines with the recogniser alone, from an upright crop of their
        box with a little margin (a second view; the first is the detector's rectified
        quad). At most ``SECOND_LOOKS`` lines per image, the least
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
                rec = engine.recognize_txt([array])
            except Exception as exc:  # noqa: BLE001 - native engine errors of any kind
                raise ModelError("OCR failed on this frame") from exc
            text = str((rec.txts or ("",))[0])
            score = float((rec.scores or (0.0,))[0])
            self.second_looks += 1
            if score >= DOUBTFUL_SCORE and text.strip():
                out[i] = (text, score, raw[i][2])
        return out

    def _banded(self, size: tuple[int, int]) -> bool:
        w, h = size
        return (self._band > 0 and h > self._band + self._overlap
                and max(w, h) <= self._max_side_px)

    def band_rows(self, height: int) -> list[tuple[int, int]]:
        """(top, bottom) of each detection band: equal heights, overlapping by
        ``band_overlap_px``, covering the image."""
        ov = self._overlap
        n = max(1, int(np.ceil((height - ov) / max(1, self._band - ov))))
        step = int(np.ceil((height - ov) / n))
        return [(i * step, min(height, i * step + step + ov)) for i in range(n)]

    def _recognize_banded(self, engine: Any,
                          array: np.ndarray) -> tuple[tuple[str, ...], tuple[float, ...], Any]:
        """Detection band by band (bounded memory), then one classification and recognition
        pass over the detected lines, cropped from the whole image. A line in an overlap is
        found by both bands and read once: detections are kept in order of their distance
        from a cut band edge (a line cut by an edge, or missed near it, is found whole by the
        neighbouring band) and one that mostly covers a kept one is a duplicate."""
        det = engine._load_det_model()
        height = array.shape[0]
        found: list[tuple[float, np.ndarray]] = []
        for top, bottom in self.band_rows(height):
            out = det(np.ascontiguousarray(array[top:bottom]))
            if out.boxes is None:
                continue
            for raw in np.asarray(out.boxes, dtype=np.float32):
                quad = raw.copy()
                quad[:, 1] += top
                y0, y1 = float(quad[:, 1].min()), float(quad[:, 1].max())
                margin = min(y0 - top if top > 0 else np.inf,
                             bottom - y1 if bottom < height else np.inf)
                found.append((margin, quad))
        found.sort(key=lambda item: -item[0])
        quads: list[np.ndarray] = []
        kept_boxes: list[tuple[float, float, float, float]] = []
        for _, quad in found:
            box = (float(quad[:, 0].min()), float(quad[:, 1].min()),
                   float(quad[:, 0].max()), float(quad[:, 1].max()))
            if any(_covers(box, other) for other in kept_boxes):
                continue
            kept_boxes.append(box)
            quads.append(quad)
        if not quads:
            return (), (), None
        # RapidOCR's own order: top to bottom, then left to right
        quads.sort(key=lambda q: (float(q[0][1]), float(q[0][0])))
        crops = engine.crop_text_regions(array, quads)
        if engine.use_cls:
            crops, _ = engine.cls_and_rotate(crops)
        rec = engine.recognize_txt(crops)
        txts = tuple(str(t) for t in (rec.txts or ()))
        scores = tuple(float(v) for v in (rec.scores or ()))
        return txts, scores, np.stack(quads)
