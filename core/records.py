"""The decrypted form of a memory and its (de)serialisation.

A memory's private fields are serialised to compact JSON, zlib-compressed and
then sealed with the row's data key (see :mod:`core.store`); nothing here
touches the disk.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from core.errors import DecryptionFailed
from core.types import MonitorGeometry, OcrLine, OcrResult

PAYLOAD_VERSION = 1

# Storage tiers: what is kept of a memory (the vault issue degrades along these).
TIER_FULL = 0  # full screenshot + thumbnail + text + vectors
TIER_THUMBNAIL = 1  # thumbnail + text + vectors
TIER_TEXT = 2  # text, caption and vectors only
TIER_NAMES = {TIER_FULL: "full", TIER_THUMBNAIL: "thumbnail", TIER_TEXT: "text"}


@dataclass(frozen=True)
class MemoryRecord:
    """Everything Afterimage knows about one moment on one monitor (decrypted)."""

    id: str
    timestamp: datetime  # timezone-aware UTC
    app: str
    title: str
    ocr: OcrResult = field(default_factory=OcrResult)
    url: str | None = None
    pid: int | None = None
    origin: str = "capture"  # "capture" | "import"
    source: str | None = None  # original file name for imported screenshots
    monitor: MonitorGeometry | None = None
    width: int = 0
    height: int = 0
    caption: str | None = None
    text_model: str = ""

    @property
    def text(self) -> str:
        return self.ocr.text

    def searchable_text(self) -> str:
        """Title first (it names the document), then the OCR text."""
        parts = [self.title, self.ocr.text]
        if self.caption:
            parts.append(self.caption)
        return "\n".join(p for p in parts if p)


def bucket_of(ts: datetime) -> int:
    """The coarse, plaintext time bucket of a timestamp: hours since the epoch."""
    return int(ts.timestamp() // 3600)


def encode_payload(rec: MemoryRecord) -> bytes:
    mon = rec.monitor
    data: dict[str, Any] = {
        "v": PAYLOAD_VERSION,
        "ts": rec.timestamp.astimezone(UTC).isoformat(),
        "app": rec.app,
        "title": rec.title,
        "url": rec.url,
        "pid": rec.pid,
        "origin": rec.origin,
        "source": rec.source,
        "mon": None if mon is None else [mon.index, mon.left, mon.top, mon.width, mon.height,
                                         mon.scale],
        "w": rec.width,
        "h": rec.height,
        "cap": rec.caption,
        "tm": rec.text_model,
        "ocr": [[ln.text, ln.confidence, list(ln.box)] for ln in rec.ocr.lines],
    }
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return zlib.compress(raw, 6)


def decode_payload(row_id: str, blob: bytes) -> MemoryRecord:
    try:
        data = json.loads(zlib.decompress(blob).decode("utf-8"))
        mon = data.get("mon")
        monitor = None if mon is None else MonitorGeometry(
            index=int(mon[0]), left=int(mon[1]), top=int(mon[2]), width=int(mon[3]),
            height=int(mon[4]), scale=float(mon[5]))
        lines = tuple(
            OcrLine(text=str(t), confidence=float(c),
                    box=(int(b[0]), int(b[1]), int(b[2]), int(b[3])))
            for t, c, b in data.get("ocr", [])
        )
        return MemoryRecord(
            id=row_id,
            timestamp=datetime.fromisoformat(data["ts"]),
            app=str(data.get("app") or ""),
            title=str(data.get("title") or ""),
            ocr=OcrResult(lines),
            url=data.get("url"),
            pid=data.get("pid"),
            origin=str(data.get("origin") or "capture"),
            source=data.get("source"),
            monitor=monitor,
            width=int(data.get("w") or 0),
            height=int(data.get("h") or 0),
            caption=data.get("cap"),
            text_model=str(data.get("tm") or ""),
        )
    except (zlib.error, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise DecryptionFailed("a memory record is malformed after decryption") from exc


def _matrix(arr: npt.NDArray[np.float32]) -> bytes:
    a = np.asarray(arr, dtype=np.float32)
    if a.ndim != 2:
        raise ValueError("vectors must be a 2-D array")
    n, dim = a.shape
    return np.array([n, dim], dtype="<u2").tobytes() + a.astype("<f2").tobytes()


def encode_vectors(vectors: npt.NDArray[np.float32],
                   image: npt.NDArray[np.float32] | None = None) -> bytes:
    """Chunk vectors (n x dim float32) -> bytes: uint16 n, uint16 dim, float16 data;
    then, when the memory has a CLIP image vector, the same layout for it (1 x dim)."""
    out = _matrix(vectors)
    if image is not None:
        out += _matrix(np.asarray(image, dtype=np.float32).reshape(1, -1))
    return out


def _read_matrix(blob: bytes, at: int) -> tuple[npt.NDArray[np.float32], int]:
    if len(blob) < at + 4:
        raise DecryptionFailed("a vector field is malformed")
    n, dim = (int(x) for x in np.frombuffer(blob[at:at + 4], dtype="<u2"))
    end = at + 4 + n * dim * 2
    if len(blob) < end:
        raise DecryptionFailed("a vector field is malformed")
    arr = np.frombuffer(blob[at + 4:end], dtype="<f2").astype(np.float32).reshape(n, dim)
    return arr, end


def decode_latent(blob: bytes) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
    """(chunk text vectors, image vector or None)."""
    text, end = _read_matrix(blob, 0)
    if end == len(blob):
        return text, None
    image, end2 = _read_matrix(blob, end)
    if end2 != len(blob) or image.shape[0] != 1:
        raise DecryptionFailed("a vector field is malformed")
    return text, image[0]


def decode_vectors(blob: bytes) -> npt.NDArray[np.float32]:
    return decode_latent(blob)[0]
