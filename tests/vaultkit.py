"""Helpers for vault/forget/repair tests: a Memory on a cheap KDF and synthetic memories.

Synthetic memories skip OCR (it is not what these tests are about) but go through the real
vault, the real encrypted store, real image encoders and, where search is tested, the real
MiniLM text encoder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from core.config import Config, Paths
from core.encode import encode_frame, encode_thumbnail, new_memory_id
from core.memory import Factories, Memory
from core.records import MemoryRecord
from core.store import NewMemory
from core.types import Embedder, OcrLine, OcrResult
from core.vault import KdfParams

PASS = "correct horse battery staple"
DIM = 384


def cheap_kdf() -> KdfParams:
    return KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1)


def paths_for(home: Path) -> Paths:
    return Paths(config_file=home / "config.toml", data_dir=home)


def _unused(*_: object) -> object:
    raise AssertionError("not used by this test")


def _minilm() -> Embedder:
    from core.embed import MiniLmEmbedder

    return MiniLmEmbedder()  # the model itself loads on the first embed() only


def factories(embedder: Callable[[], Embedder] | None = None) -> Factories:
    return Factories(ocr=_unused, embedder=embedder or _minilm,  # type: ignore[arg-type]
                     screen=_unused, windows=_unused)  # type: ignore[arg-type]


def new_memory(home: Path | None = None, *, config: Config | None = None,
               embedder: Callable[[], Embedder] | None = None) -> Memory:
    assert home is not None
    return Memory.create(config or Config(), paths_for(home), PASS, kdf=cheap_kdf(),
                         factories=factories(embedder))


def open_memory(home: Path, *, config: Config | None = None,
                embedder: Callable[[], Embedder] | None = None) -> Memory:
    return Memory.open(config or Config(), paths_for(home), factories=factories(embedder))


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def synthetic(ts: datetime, text: str, *, app: str = "editor", title: str = "",
              vectors: np.ndarray | None = None, tier: int = 0,
              size: tuple[int, int] = (64, 40), noise: bool = False) -> NewMemory:
    """A memory with real (tiny) thumbnail and frame images; no OCR model involved.

    ``noise``: random pixels, so the images do not compress (to fill a budget quickly).
    """
    if noise:
        pixels = np.random.default_rng().integers(0, 255, (size[1], size[0], 3), np.uint8)
        img = Image.fromarray(pixels, "RGB")
    else:
        img = Image.new("RGB", size, (int(ts.timestamp()) % 255, 90, 160))
    rec = MemoryRecord(id=new_memory_id(), timestamp=ts, app=app, title=title,
                       ocr=OcrResult((OcrLine(text=text, confidence=0.99,
                                              box=(0, 0, size[0], 10)),)),
                       width=size[0], height=size[1], origin="capture")
    if vectors is None:
        rng = np.random.default_rng(abs(hash(text)) % (2**32))
        vec = rng.standard_normal((1, DIM)).astype(np.float32)
        vectors = vec / np.linalg.norm(vec)
    return NewMemory(record=rec, vectors=vectors,
                     thumbnail=encode_thumbnail(img, max(8, size[0] // 4), 60)
                     if tier <= 1 else None,
                     frame=encode_frame(img, 60) if tier == 0 else None)
