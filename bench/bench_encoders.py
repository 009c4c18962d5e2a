"""Encoder throughput on this CPU: memories per second for each encoder, and caption
time per memory for the default captioner.

    python -m bench.bench_encoders [--n 32] [--captions 6]          # main venv
    .venv-image/bin/python -m bench.bench_encoders --only clip      # CLIP (image venv)

Inputs are synthetic screens: a 1024x768 rendering of ~180 words of text (what one
memory's OCR gives), so the text encoder sees one or two 120-word chunks per memory.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw

WORDS = ("budget forecast revenue invoice meeting agenda python traceback error terminal "
         "browser tab github pull request review slides presentation spreadsheet column "
         "total customer email reply calendar lisbon flight booking hotel docs install "
         "package version release notes chart quarterly sales region manager").split()


def screens(n: int, seed: int = 3) -> list[tuple[Image.Image, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(180))
        img = Image.new("RGB", (1024, 768), "white")
        draw = ImageDraw.Draw(img)
        for row in range(0, 180, 12):
            draw.text((20, 20 + row * 3), " ".join(text.split()[row:row + 12]), fill="black")
        out.append((img, text))
    return out


def bench_minilm(items: list[tuple[Image.Image, str]]) -> dict[str, float]:
    from core.chunking import chunk_text
    from core.embed import MiniLmEmbedder

    enc = MiniLmEmbedder()
    enc.embed(["warm up"])
    t = time.perf_counter()
    for _, text in items:
        enc.embed(chunk_text("Window title", text))
    s = time.perf_counter() - t
    return {"memories_per_s": round(len(items) / s, 2), "ms_per_memory": round(1000 * s /
                                                                             len(items), 1)}


def bench_clip(items: list[tuple[Image.Image, str]]) -> dict[str, float]:
    import torch

    from core.retrieval.encoders import OpenClipImageEncoder

    torch.manual_seed(0)
    enc = OpenClipImageEncoder("ViT-B-32", None)
    enc.embed_images([items[0][0]])
    t = time.perf_counter()
    enc.embed_images([img for img, _ in items])
    s = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(8):
        enc.embed_texts(["the budget spreadsheet I had open"])
    q = (time.perf_counter() - t) / 8
    return {"memories_per_s": round(len(items) / s, 2),
            "ms_per_memory": round(1000 * s / len(items), 1), "ms_per_text_query": round(q *
                                                                                       1000, 1)}


def bench_captions(items: list[tuple[Image.Image, str]], n: int) -> dict[str, object]:
    from core.records import MemoryRecord
    from core.retrieval.captions import TextCaptioner
    from core.types import OcrLine, OcrResult

    cap = TextCaptioner()
    times, examples = [], []
    t = time.perf_counter()
    cap._load()
    load_s = time.perf_counter() - t
    for i, (_, text) in enumerate(items[:n]):
        rec = MemoryRecord(id=str(i), timestamp=datetime.now(UTC), app="libreoffice",
                           title="Q3 report.odt - LibreOffice Writer",
                           ocr=OcrResult((OcrLine(text, 0.9, (0, 0, 1, 1)),)))
        t = time.perf_counter()
        examples.append(cap.caption(rec, None))
        times.append(time.perf_counter() - t)
    times.sort()
    return {"model": cap.model_id, "load_s": round(load_s, 2),
            "s_per_memory_median": round(times[len(times) // 2], 2),
            "s_per_memory_max": round(times[-1], 2), "example": examples[0]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--captions", type=int, default=6)
    ap.add_argument("--only", choices=["minilm", "clip", "captions"], default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    items = screens(args.n)
    res: dict[str, object] = {}
    if args.only in (None, "minilm"):
        res["minilm_text"] = bench_minilm(items)
    if args.only in (None, "clip"):
        try:
            res["open_clip_vit_b_32_image"] = bench_clip(items)
        except ImportError as exc:
            res["open_clip_vit_b_32_image"] = f"not installed here ({exc.name})"
    if args.only in (None, "captions"):
        res["caption_text_gemma3_270m"] = bench_captions(items, args.captions)
    print(json.dumps(res, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
