"""Cost of the sealed capture-gap log: appending a record (the service, fsync each) and
reading a day's gaps in the timeline, the first time (every record opened) and later
(only new records opened; ``Memory.capture_gaps`` keeps the decrypted ones while unlocked).

    python -m bench.bench_gap_log [--n 5000]

About 10 holds a day (paused, locked, away) is ~3,650 records a year.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from core.gap_log import GapLog, GapRecord, gaps_from_records


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--out", default="bench/results/gap_log.json")
    args = ap.parse_args()
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)

    def exchange(peer: bytes) -> bytes:
        return private.exchange(X25519PublicKey.from_public_bytes(peer))

    t0 = datetime(2025, 1, 1, 8, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        log = GapLog(Path(tmp), "00" * 16, public, exchange)
        start = time.perf_counter()
        for i in range(args.n):
            at = t0 + timedelta(minutes=144 * i)
            log.append(GapRecord("idle", at, at + timedelta(minutes=10)))
        append_ms = 1000 * (time.perf_counter() - start) / args.n
        day = (t0 + timedelta(days=100), t0 + timedelta(days=101))
        start = time.perf_counter()
        records, offset = log.read_from(0)
        gaps_from_records(sorted(records, key=lambda r: r.start), *day)
        first_ms = 1000 * (time.perf_counter() - start)
        log.append(GapRecord("paused", t0, t0 + timedelta(minutes=5)))
        start = time.perf_counter()
        new, offset = log.read_from(offset)
        gaps_from_records(sorted([*records, *new], key=lambda r: r.start), *day)
        later_ms = 1000 * (time.perf_counter() - start)
        size = log.path.stat().st_size
    result = {"records": args.n, "append_ms": round(append_ms, 2),
              "first_read_ms": round(first_ms, 1), "later_read_ms": round(later_ms, 2),
              "bytes_per_record": round(size / (args.n + 1), 1),
              "first_vs_later": round(first_ms / max(later_ms, 1e-6), 1)}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
