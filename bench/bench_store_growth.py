"""Does a writer that appends all day keep its memory? RSS of a process appending memories
one at a time (as the capture service does) with LanceDB's default session against the
bounded one core/store.py uses, in the same run.

    PYTHONPATH=. .venv/bin/python -m bench.bench_store_growth [--appends 200]

Each mode runs in its own process: a fresh vault, one realistic memory (a 1080p frame's OCR
text, vectors, thumbnail, frame image) encoded once and appended N times with new ids,
``malloc_trim`` after each append, RSS sampled every 40. Results: bench/results/store_growth.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).with_name("results") / "store_growth.json"


def rss_mb() -> int:
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(x.split()[1]) // 1024 for x in status if x.startswith("VmRSS"))


def child(mode: str, appends: int) -> list[int]:
    import dataclasses
    import tempfile
    import uuid
    from datetime import UTC, datetime

    from core.encode import Moment, MomentEncoder
    from core.inference import use_background_inference
    from core.memtrim import return_freed_memory
    from core.types import MonitorGeometry
    from tests.capture_support import make_memory, render_screen

    use_background_inference()
    if mode == "default":
        import core.store

        core.store.lance_session = lambda: None  # lancedb's own default session
    memory, config, _ = make_memory(Path(tempfile.mkdtemp(prefix="aibench-growth-")))
    memory.acquire_writer("bench")
    image = render_screen([f"line {i} of the quarterly budget review and travel plans"
                           for i in range(40)], size=(1920, 1080), font_size=20)
    monitor = MonitorGeometry(index=1, left=0, top=0, width=1920, height=1080)
    ocr = memory._get_ocr()
    encoder = MomentEncoder(ocr, memory._get_embedder(), config.capture)
    moment = Moment(image=image, timestamp=datetime.now(UTC), app="editor", title="notes",
                    url=None, pid=None, monitor=monitor, origin="capture")
    item = encoder.encode(moment, ocr_result=ocr.recognize(image))
    samples = []
    for n in range(appends):
        record = dataclasses.replace(item.record, id=uuid.uuid4().hex)
        memory._store.add([dataclasses.replace(item, record=record)])
        return_freed_memory()
        if n % 40 == 39:
            samples.append(rss_mb())
    memory.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=200)
    parser.add_argument("--child", choices=["default", "bounded"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.appends)))
        return
    data: dict[str, object] = {"appends": args.appends, "sample_every": 40}
    for mode in ("default", "bounded"):
        out = subprocess.run([sys.executable, "-m", "bench.bench_store_growth", "--child", mode,
                              "--appends", str(args.appends)], capture_output=True, text=True,
                             check=True).stdout
        samples = json.loads(out.strip().splitlines()[-1])
        data[mode] = {"rss_mb": samples,
                      "growth_mb_per_100_appends": round((samples[-1] - samples[0]) * 100
                                                         / (40 * (len(samples) - 1)), 1)}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
