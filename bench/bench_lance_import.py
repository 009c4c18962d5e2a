"""What importing lancedb costs each process, with and without its namespace REST client
(core/lance_import.py), in fresh interpreters, alternating.

    PYTHONPATH=. .venv/bin/python -m bench.bench_lance_import [--runs 7]

Reported per way: the median CPU seconds of the import (`time.process_time`) and the RSS
after it. Results: bench/results/lance_import.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.support import REPO

RESULTS = Path(__file__).with_name("results") / "lance_import.json"
CODE = {
    "plain": "import lancedb",
    "without the client": ("from core.lance_import import import_lancedb\n"
                           "import_lancedb()"),
}
PROBE = """
import time
start = time.process_time()
{body}
cpu = time.process_time() - start
rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")][0]
print(cpu, rss / 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    samples: dict[str, list[tuple[float, float]]] = {way: [] for way in CODE}
    for _ in range(args.runs):
        for way, body in CODE.items():
            out = subprocess.run([sys.executable, "-c", PROBE.format(body=body)], cwd=REPO,
                                 capture_output=True, text=True, check=True,
                                 env={**os.environ, "PYTHONPATH": str(REPO)})
            cpu, rss = map(float, out.stdout.split())
            samples[way].append((cpu, rss))
    data: dict[str, object] = {"measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                               "runs": args.runs}
    for way, rows in samples.items():
        data[way] = {"cpu_s_median": round(statistics.median(r[0] for r in rows), 3),
                     "rss_mb_median": round(statistics.median(r[1] for r in rows), 1)}
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
