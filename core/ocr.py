"""OCR with RapidOCR (PP-OCR ONNX models shipped inside the ``rapidocr`` wheel).

The engine is built on first use, off the import path, and reused. It never
downloads: the models come with the package.
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


def _load_models_with_our_options(engine: Any, threads: int) -> None:
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
            engine._load_cls_model()
            engine._load_rec_model()
        finally:
            OrtInferSession._init_sess_opts = original  # type: ignore[method-assign]


class RapidOcrEngine:
    """Implements :class:`core.types.Ocr` with RapidOCR."""

    def __init__(self, *, min_confidence: float = 0.5, max_side_px: int = 2000,
                 threads: int = 0, native_det: bool = False) -> None:
        self._min_confidence = min_confidence
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
                if self._threads > 0:
                    params["EngineConfig.onnxruntime.intra_op_num_threads"] = self._threads
                engine = RapidOCR(params=params)
                _load_models_with_our_options(engine, self._threads)
                self._engine = engine
            except Exception as exc:  # noqa: BLE001 - any failure to build the engine
                raise ModelError("the OCR engine (RapidOCR) failed to load; "
                                 "reinstall Afterimage's dependencies") from exc
            # RapidOCR installs its own log handlers; keep them quiet (they can echo text).
            for name in ("RapidOCR", "rapidocr"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        return self._engine

    def recognize(self, image: Image.Image) -> OcrResult:
        with self._lock:
            engine = self._load()
            rgb = image.convert("RGB") if image.mode != "RGB" else image
            array = np.asarray(rgb)[:, :, ::-1]  # RapidOCR expects BGR like OpenCV
            try:
                out = engine(np.ascontiguousarray(array))
            except Exception as exc:  # noqa: BLE001 - native engine errors of any kind
                raise ModelError("OCR failed on this frame") from exc
        txts = getattr(out, "txts", None) or ()
        scores = getattr(out, "scores", None) or ()
        boxes = getattr(out, "boxes", None)
        lines: list[OcrLine] = []
        if boxes is None:
            return OcrResult(())
        for text, score, quad in zip(txts, scores, boxes, strict=False):
            if float(score) < self._min_confidence or not str(text).strip():
                continue
            pts = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            lines.append(OcrLine(text=str(text), confidence=round(float(score), 4),
                                 box=(int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1)))))
        return OcrResult(tuple(lines))
