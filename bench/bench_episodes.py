"""Cost of recomputing episodes and day summaries from decrypted records.

    python -m bench.bench_episodes [--n 100000]

Synthetic day-shaped history: captures every 30 s, the app/document changing every
~5 minutes among 40 apps and 400 documents, 8 OCR lines per memory.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from core.records import MemoryRecord
from core.retrieval.episodes import build_episodes, summarise_days
from core.types import OcrLine, OcrResult


def records(n: int, seed: int = 1) -> list[MemoryRecord]:
    rng = random.Random(seed)
    t0 = datetime(2025, 1, 1, 8, tzinfo=UTC)
    out = []
    app, doc = "app0", "doc0"
    for i in range(n):
        if i % 10 == 0 and rng.random() < 0.9:
            app, doc = f"app{rng.randrange(40)}", f"document {rng.randrange(400)}"
        lines = tuple(OcrLine(f"{doc} line {j} some words here", 0.9, (0, 0, 1, 1))
                      for j in range(8))
        out.append(MemoryRecord(id=f"{i:032x}", timestamp=t0 + timedelta(seconds=30 * i),
                                app=app, title=f"{doc} - {app}", ocr=OcrResult(lines)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()
    recs = records(args.n)
    t = time.perf_counter()
    eps = build_episodes(recs)
    ep_s = time.perf_counter() - t
    t = time.perf_counter()
    days = summarise_days(eps)
    day_s = time.perf_counter() - t
    print(json.dumps({"memories": args.n, "episodes": len(eps), "days": len(days),
                      "episodes_s": round(ep_s, 2), "days_s": round(day_s, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
