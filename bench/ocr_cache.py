"""An OCR cache for evaluations on third-party data (never used by the product).

OCR of the 423 ScreenAgent screenshots takes ~20 minutes on this machine, so the
evaluation harness caches RapidOCR results **outside the repository** (default
``~/.cache/afterimage-eval/ocr``; ``AFTERIMAGE_EVAL_CACHE`` moves it), keyed by the
SHA-256 of the decoded pixels and the OCR settings. Only evaluation data goes
there: the product's capture path never uses this class.

``python -m bench.ocr_cache DIR...`` fills the cache ahead of time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from PIL import Image

from core.ocr import RapidOcrEngine
from core.types import Ocr, OcrLine, OcrResult


def cache_dir() -> Path:
    root = os.environ.get("AFTERIMAGE_EVAL_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "afterimage-eval"
    return base / "ocr"


class CachingOcr:
    """Implements :class:`core.types.Ocr`: a disk cache in front of a real engine."""

    def __init__(self, engine: Ocr, tag: str, root: Path | None = None) -> None:
        self._engine = engine
        self._tag = tag
        self._root = root or cache_dir()
        self._root.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0

    def _path(self, image: Image.Image) -> Path:
        digest = hashlib.sha256()
        digest.update(self._tag.encode())
        digest.update(f"{image.mode}{image.size}".encode())
        digest.update(image.tobytes())
        return self._root / f"{digest.hexdigest()}.json"

    def recognize(self, image: Image.Image) -> OcrResult:
        path = self._path(image)
        if path.is_file():
            self.hits += 1
            data = json.loads(path.read_text(encoding="utf-8"))
            return OcrResult(tuple(OcrLine(text=t, confidence=c, box=tuple(b))  # type: ignore[arg-type]
                                   for t, c, b in data))
        self.misses += 1
        result = self._engine.recognize(image)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps([[ln.text, ln.confidence, list(ln.box)]
                                   for ln in result.lines]), encoding="utf-8")
        tmp.replace(path)
        return result


def default_caching_ocr(min_confidence: float = 0.5, max_side_px: int = 2000) -> CachingOcr:
    engine = RapidOcrEngine(min_confidence=min_confidence, max_side_px=max_side_px)
    return CachingOcr(engine, tag=f"rapidocr-3.10-{min_confidence}-{max_side_px}")


def main(argv: list[str]) -> int:
    from core.importer import collect_images, load_image

    files, _ = collect_images([Path(a) for a in argv])
    ocr = default_caching_ocr()
    t0 = time.perf_counter()
    for n, path in enumerate(files, 1):
        ocr.recognize(load_image(path))
        if n % 10 == 0:
            print(f"{n}/{len(files)} hits={ocr.hits} misses={ocr.misses} "
                  f"{time.perf_counter() - t0:.0f}s", flush=True)
    print(f"done: {len(files)} images, {ocr.misses} OCRed, {ocr.hits} cached")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
