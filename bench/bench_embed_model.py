"""The capture service's text model: the bundled MiniLM against the copy with 8-bit matrix
products (core/embed_int8.py), each in a fresh process, as the service runs it.

    PYTHONPATH=. .venv/bin/python -m bench.bench_embed_model [--repeats 3]

Each model embeds the same chunks (the benchmark desktop's editor text, code and log lines,
cut into ~130-word chunks like core/chunking.py) two per run, with the service's session
settings (background inference: one thread, no arena, graph optimisations off; its malloc
settings, core/memtrim.py). Reported per
model: CPU seconds (`time.process_time` over every run), RSS after loading and the process's
high-water mark (`VmHWM`: the transient peak that 5-second samples miss), and the largest
difference from the bundled model's vectors and their smallest cosine.
Results: bench/results/embed_model.json.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from tests.support import REPO

RESULTS = Path(__file__).with_name("results") / "embed_model.json"
WORDS = ("meeting budget review travel design river survey garden chapter figure table "
         "method schedule results data team report draft archive recipe").split()
CODE = ["def load(path): return json.loads(Path(path).read_text())",
        "ERROR 2026-11-24 12:01:07 worker[4]: timeout after 30.0 s (retry 2/5)",
        "git commit -m 'fix: close the socket on shutdown' && git push origin main",
        "SELECT id, title FROM notes WHERE updated > '2026-11-01' ORDER BY updated DESC;"]


def chunks(n: int = 120, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i % 4 == 3:
            words = " ".join(rng.choice(CODE) for _ in range(6)).split()
        else:
            words = [rng.choice(WORDS) for _ in range(rng.randint(60, 130))]
        out.append(" ".join(words))
    return out


def child(model: str, repeats: int, out: str) -> None:
    """Runs in its own process: load ``model`` as the service does, embed, report."""
    import numpy as np

    from core.embed import BACKGROUND_BATCH, MiniLmEmbedder
    from core.inference import use_background_inference

    def status() -> dict[str, int]:
        fields = dict(line.split(":", 1) for line in
                      Path("/proc/self/status").read_text().splitlines() if ":" in line)
        return {k: int(fields[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM")}

    use_background_inference(True)
    embedder = MiniLmEmbedder()
    if model == "bundled":
        import core.embed_int8

        core.embed_int8.derived_embedder = lambda folder=None: None  # type: ignore[assignment]
    texts = chunks()
    before = status()
    embedder._load()
    loaded = status()
    vectors = []
    start = time.process_time()
    for rep in range(repeats):
        for i in range(0, len(texts), BACKGROUND_BATCH):
            batch = embedder._embed_batch(texts[i:i + BACKGROUND_BATCH])
            if rep == 0:
                vectors.append(batch)
    cpu = time.process_time() - start
    np.save(out, np.concatenate(vectors))
    print(json.dumps({"model_file": embedder.model_file.name if embedder.model_file else None,
                      "cpu_s": round(cpu, 2), "rss_mb_before_load": before["VmRSS"],
                      "rss_mb_loaded": loaded["VmRSS"], "rss_mb_after": status()["VmRSS"],
                      "rss_mb_peak_hwm": status()["VmHWM"], "chunks": len(texts),
                      "runs": repeats * -(-len(texts) // BACKGROUND_BATCH)}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "OUT"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.repeats, args.child[1])
        return
    import os
    import tempfile

    import numpy as np

    from core.embed_int8 import derived_embedder
    from core.memtrim import tuned_environment

    if derived_embedder() is None:
        sys.exit("no derived text model: run `python -m core.embed_int8` first")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model in ("bundled", "derived"):
            out = Path(tmp) / f"{model}.npy"
            run = subprocess.run([sys.executable, "-m", "bench.bench_embed_model", "--repeats",
                                  str(args.repeats), "--child", model, str(out)], cwd=REPO,
                                 capture_output=True, text=True, check=True,
                                 env=tuned_environment(dict(os.environ)))  # as the service
            results[model] = json.loads(run.stdout.strip().splitlines()[-1])
        base, derived = (np.load(Path(tmp) / f"{m}.npy") for m in ("bundled", "derived"))
    data = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        **results,
        "max_abs_vector_difference": float(np.abs(base - derived).max()),
        "min_cosine_to_bundled": round(float((base * derived).sum(axis=1).min()), 5),
        "cpu_ratio_bundled_over_derived": round(results["bundled"]["cpu_s"]
                                                / results["derived"]["cpu_s"], 2),
        "peak_mb_saved": results["bundled"]["rss_mb_peak_hwm"]
        - results["derived"]["rss_mb_peak_hwm"],
    }
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
