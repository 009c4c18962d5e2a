"""Cost of making one deletion physical: core/shred.py against the pylance call it replaced.

Two tables shaped like the store's (random bytes stand in for sealed columns, which are
incompressible too): ``memories`` (N rows, 1.5 KB payload + 1.5 KB vectors) and ``frames``
(M rows of 90 KB), each compacted into one fragment. One row is deleted from each, then the
deletion is made physical by

* ``shred``: ``core.shred.shred_deleted`` (lancedb API only; what the app does now);
* ``pylance``: ``compact_files(materialize_deletions=True, materialize_deletions_threshold=0)``
  + ``optimize(cleanup_older_than=0)`` + ``cleanup_old_versions(0)`` (the old ``purge``;
  needs pylance, so the dev extra),

on fresh copies of the same folder, alternating, median of ``--repeat``. Both must leave no
byte of the deleted rows on disk (checked by byte search).

    .venv/bin/python -m bench.bench_shred [--memories 20000] [--frames 400] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import lancedb
import pyarrow as pa

from core.shred import shred_deleted

ROOT = Path(__file__).resolve().parent.parent
# The store's chunk sizes (core/store.py _SHRED_CHUNK); env overrides to explore them.
CHUNK_M = int(os.environ.get("CHUNK_M", "4096"))
CHUNK_F = int(os.environ.get("CHUNK_F", "64"))


def _table(db: Any, name: str, rows: int, columns: dict[str, int]) -> None:
    batch = 2000
    table = None
    for start in range(0, rows, batch):
        n = min(batch, rows - start)
        data = {"id": [f"{i:032x}" for i in range(start, start + n)]}
        data.update({c: [os.urandom(size) for _ in range(n)] for c, size in columns.items()})
        if table is None:
            table = db.create_table(name, pa.table(data))
        else:
            table.add(pa.table(data))
    assert table is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table.optimize(cleanup_older_than=timedelta(0))


def _pylance_purge(table: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table.compact_files(materialize_deletions=True, materialize_deletions_threshold=0.0)
        table.optimize(cleanup_older_than=timedelta(0))
        table.cleanup_old_versions(timedelta(0))


def _holds(folder: Path, needle: bytes) -> bool:
    return any(needle in p.read_bytes() for p in folder.rglob("*") if p.is_file())


def _run(template: Path, work: Path, method: str) -> dict[str, float]:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(template, work)
    db = lancedb.connect(str(work))
    out: dict[str, float] = {}
    for name, column in (("memories", "payload"), ("frames", "data")):
        table = db.open_table(name)
        victim = f"{7:032x}"
        doomed = table.search().where(f"id = '{victim}'").limit(1).to_arrow() \
            .column(column)[0].as_py()
        table.delete(f"id = '{victim}'")
        start = time.perf_counter()
        if method == "shred":
            shred_deleted(table, work / f"{name}.lance",
                          chunk=CHUNK_M if name == "memories" else CHUNK_F)
        else:
            _pylance_purge(table)
        out[name] = time.perf_counter() - start
        assert not _holds(work / f"{name}.lance", doomed[-64:]), (method, name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=20000)
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "shred.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template"
        db = lancedb.connect(str(template))
        _table(db, "memories", args.memories, {"payload": 1536, "vectors": 1536})
        _table(db, "frames", args.frames, {"data": 90_000})
        sizes = {n: sum(p.stat().st_size for p in (template / f"{n}.lance").rglob("*")
                        if p.is_file()) for n in ("memories", "frames")}
        times: dict[str, dict[str, list[float]]] = {"shred": {}, "pylance": {}}
        for _ in range(args.repeat):
            for method in ("pylance", "shred"):
                got = _run(template, Path(tmp) / "work", method)
                for name, seconds in got.items():
                    times[method].setdefault(name, []).append(seconds)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_avg": os.getloadavg()},
        "memories_rows": args.memories, "frames_rows": args.frames,
        "table_mib": {n: round(b / 2**20, 1) for n, b in sizes.items()},
        "median_s": {m: {n: round(statistics.median(v), 2) for n, v in t.items()}
                     for m, t in times.items()},
        "runs_s": {m: {n: [round(x, 2) for x in v] for n, v in t.items()}
                   for m, t in times.items()},
    }
    result["shred_vs_pylance"] = {
        n: round(result["median_s"]["shred"][n] / result["median_s"]["pylance"][n], 2)
        for n in ("memories", "frames")}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
