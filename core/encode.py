"""Turn a screen moment into a storable memory: OCR, text embedding, image tiers."""

from __future__ import annotations

import io
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime

from PIL import Image

from core.chunking import chunk_text
from core.config import CaptureConfig
from core.records import MemoryRecord
from core.store import NewMemory
from core.types import Embedder, MonitorGeometry, Ocr, OcrResult


@dataclass(frozen=True)
class Moment:
    """One screen image with what is known about it, before transcription."""

    image: Image.Image
    timestamp: datetime
    app: str = ""
    title: str = ""
    url: str | None = None
    pid: int | None = None
    monitor: MonitorGeometry | None = None
    origin: str = "capture"
    source: str | None = None


@dataclass
class StageTimes:
    """Seconds spent per stage (for benchmarks and the status line)."""

    ocr: float = 0.0
    embed: float = 0.0
    images: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


def new_memory_id() -> str:
    return secrets.token_hex(16)


def encode_thumbnail(image: Image.Image, max_px: int, quality: int) -> bytes:
    thumb = image.convert("RGB")
    thumb.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    thumb.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def encode_frame(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="WEBP", quality=quality, method=2)
    return buf.getvalue()


class MomentEncoder:
    """OCR + embedding + image tiers for one moment (the slow part of capture)."""

    def __init__(self, ocr: Ocr, embedder: Embedder, capture: CaptureConfig) -> None:
        self._ocr = ocr
        self._embedder = embedder
        self._capture = capture

    def encode(self, moment: Moment, *, ocr_result: OcrResult | None = None,
               times: StageTimes | None = None) -> NewMemory:
        t0 = time.perf_counter()
        result = ocr_result if ocr_result is not None else self._ocr.recognize(moment.image)
        t1 = time.perf_counter()
        chunks = chunk_text(moment.title, result.text)
        vectors = self._embedder.embed(chunks)
        t2 = time.perf_counter()
        thumbnail = encode_thumbnail(moment.image, self._capture.thumbnail_max_px,
                                     self._capture.thumbnail_quality)
        frame = (encode_frame(moment.image, self._capture.frame_quality)
                 if self._capture.keep_full_frames else None)
        t3 = time.perf_counter()
        if times is not None:
            times.ocr += t1 - t0
            times.embed += t2 - t1
            times.images += t3 - t2
        record = MemoryRecord(
            id=new_memory_id(), timestamp=moment.timestamp, app=moment.app, title=moment.title,
            ocr=result, url=moment.url, pid=moment.pid, origin=moment.origin,
            source=moment.source, monitor=moment.monitor, width=moment.image.width,
            height=moment.image.height, text_model=self._embedder.model_id,
        )
        return NewMemory(record=record, vectors=vectors, thumbnail=thumbnail, frame=frame)
