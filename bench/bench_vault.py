"""Vault benchmarks: unlock, field encryption throughput, forgetting a day from a
100k-memory vault, bytes per memory in each storage tier, and a month's projection.

Each figure has a baseline measured in the same run (see docs/benchmarks.md).

    .venv/bin/python -m bench.bench_vault [--memories 100000] [--out bench/results/vault.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from core.config import Config
from core.encode import encode_frame, encode_thumbnail, new_memory_id
from core.forget import ForgetRequest, execute_forget, plan_by_buckets, plan_by_records
from core.forget import select_records as _select
from core.records import MemoryRecord, bucket_of
from core.retention import measure
from core.store import FRAMES, MEMORIES, THUMBS, EncryptedStore, NewMemory
from core.types import OcrLine, OcrResult
from core.vault import DataKey, FieldRef, KdfParams, Vault, open_field, seal_field
from tests.support import render_text_png

PASS = "benchmark passphrase"
WORDS = ("invoice meeting budget kernel flight hotel recipe garden piano tickets report "
         "deploy server login review draft chapter weather account transfer").split()


def _median(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_unlock(work: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    tuned = KdfParams.tuned()  # the default policy: 256 MiB, t >= 3, >= 0.5 s
    tuning = time.perf_counter() - t0
    Vault.create(work / "unlock-default", PASS, tuned).close()
    Vault.create(work / "unlock-cheap", PASS,
                 KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1)).close()

    def unlock(name: str) -> None:
        with Vault.open(work / name) as vault:
            vault.unlock(PASS)

    default = _median(lambda: unlock("unlock-default"), 3)
    cheap = _median(lambda: unlock("unlock-cheap"), 5)
    return {"unlock_default_s": round(default, 3), "unlock_without_kdf_cost_s": round(cheap, 4),
            "ratio": round(default / cheap, 1), "kdf_memory_mib": tuned.memory_kib // 1024,
            "kdf_iterations": tuned.iterations, "tuning_s": round(tuning, 2)}


def bench_throughput() -> dict[str, object]:
    key = DataKey.generate(1)
    out: dict[str, object] = {}
    for label, size in (("64KiB", 64 * 1024), ("1MiB", 1024 * 1024)):
        data = os.urandom(size)
        ref = FieldRef("frames", "data", "0" * 32)
        n = max(20, (64 * 1024 * 1024) // size // 4)
        sealed = seal_field(key, data, ref)
        seal_s = _median(lambda: seal_field(key, data, ref), n)  # noqa: B023
        open_s = _median(lambda: open_field(key, sealed, ref), n)  # noqa: B023
        copy_s = _median(lambda: bytes(bytearray(data)), n)  # noqa: B023
        mbps = lambda s, size=size: round(size / s / 2**20, 1)  # noqa: E731
        out[label] = {"encrypt_MBps": mbps(seal_s), "decrypt_MBps": mbps(open_s),
                      "plain_copy_MBps": mbps(copy_s),
                      "encrypt_vs_copy": round(seal_s / copy_s, 1),
                      "decrypt_vs_copy": round(open_s / copy_s, 1)}
    return out


def _record(ts: datetime, rng: np.random.Generator) -> MemoryRecord:
    text = " ".join(rng.choice(WORDS, 12))
    return MemoryRecord(id=new_memory_id(), timestamp=ts, app="editor", title="notes",
                        ocr=OcrResult((OcrLine(text, 0.9, (0, 0, 10, 10)),)), width=1920,
                        height=1080, text_model="minilm-l6-int8")


def bench_forget_day(work: Path, memories: int, days: int = 10) -> dict[str, object]:
    vault = Vault.create(work / "big" / "vault", PASS,
                         KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1))
    store = EncryptedStore(work / "big" / "vault" / "store", vault)
    rng = np.random.default_rng(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    step = timedelta(days=days) / memories
    vec = rng.standard_normal((1, 384)).astype(np.float32)
    thumb = os.urandom(200)
    t0 = time.perf_counter()
    batch: list[NewMemory] = []
    for i in range(memories):
        batch.append(NewMemory(record=_record(start + step * i, rng), vectors=vec,
                               thumbnail=thumb, frame=None))
        if len(batch) == 5000:
            store.add(batch)
            batch = []
    if batch:
        store.add(batch)
    store.purge()
    write_s = time.perf_counter() - t0
    bytes_before = store.bytes_on_disk()
    purge_s = _median(store.purge, 1)  # baseline: compaction with nothing deleted

    # (a) one whole day by hours: locked, no re-key
    day = start + timedelta(days=3)
    buckets = {bucket_of(day) + h for h in range(24)}
    state = work / "big" / "vault" / "state"
    t0 = time.perf_counter()
    plan = plan_by_buckets(store, buckets)
    report = execute_forget(store, vault, plan, state_dir=state, measure_dir=work / "big")
    whole_s = time.perf_counter() - t0

    # (b) an exact day from 10:30 to 10:30: unlocked; selection decrypts every record;
    # the two partly forgotten hours are re-keyed
    vault.unlock(PASS)
    since = start + timedelta(days=5, hours=10, minutes=30)
    t0 = time.perf_counter()
    until = since + timedelta(days=1)
    records = store.load_records_where(
        f"bucket >= {bucket_of(since)} AND bucket <= {bucket_of(until)}")
    plan_exact = plan_by_records(_select(records, ForgetRequest(since=since, until=until)))
    select_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.load_all()
    index_build_s = time.perf_counter() - t0  # baseline: decrypting all (index on unlock)
    t0 = time.perf_counter()
    exact = execute_forget(store, vault, plan_exact, state_dir=state, measure_dir=work / "big")
    exact_s = time.perf_counter() - t0
    vault.close()
    return {
        "memories": memories, "days": days, "write_s": round(write_s, 1),
        "store_bytes": bytes_before, "purge_nothing_deleted_s": round(purge_s, 2),
        "whole_day_by_hours": {"memories": report.memories, "keys": report.data_keys,
                               "seconds": round(whole_s, 2),
                               "vs_purge_baseline": round(whole_s / purge_s, 1)},
        "exact_day_with_rekey": {"memories": exact.memories, "keys": exact.data_keys,
                                 "rekeyed_hours": exact.rekeyed_buckets,
                                 "select_s": round(select_s, 2),
                                 "decrypt_all_baseline_s": round(index_build_s, 2),
                                 "forget_s": round(exact_s, 2),
                                 "total_s": round(select_s + exact_s, 2)},
        "goal_s": 30,
    }


def bench_tiers(work: Path, n: int = 24) -> dict[str, object]:
    """Bytes on disk per memory in each tier, for 1920x1080 text screenshots."""
    cfg = Config().capture
    vault = Vault.create(work / "tiers" / "vault", PASS,
                         KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1))
    store = EncryptedStore(work / "tiers" / "vault" / "store", vault)
    rng = np.random.default_rng(3)
    png_bytes = []
    items = []
    from PIL import Image

    for i in range(n):
        lines = [" ".join(rng.choice(WORDS, 7)) for _ in range(14)]
        path = render_text_png(work / f"shot{i}.png", lines, size=(1920, 1080), font_size=30)
        png_bytes.append(path.stat().st_size)
        image = Image.open(path).convert("RGB")
        text = "\n".join(lines)
        rec = MemoryRecord(id=new_memory_id(), timestamp=datetime(2024, 2, 1, 9, i % 60,
                                                                  tzinfo=UTC),
                           app="editor", title="document",
                           ocr=OcrResult(tuple(OcrLine(line, 0.95, (40, 40 + 48 * k, 1800, 40))
                                               for k, line in enumerate(lines))),
                           width=1920, height=1080, text_model="minilm-l6-int8")
        vectors = rng.standard_normal((max(1, len(text.split()) // 120 + 1), 384)
                                      ).astype(np.float32)
        items.append(NewMemory(record=rec, vectors=vectors,
                               thumbnail=encode_thumbnail(image, cfg.thumbnail_max_px,
                                                          cfg.thumbnail_quality),
                               frame=encode_frame(image, cfg.frame_quality)))
    store.add(items)
    store.purge()
    _, sizes = measure(store)
    png = statistics.mean(png_bytes)
    text_tier = sizes.cost(0, 0, 1)
    thumb_tier = sizes.cost(0, 1, 0)
    full_tier = sizes.cost(1, 0, 0)
    vault.close()
    return {"screens": n, "raw_png_bytes": int(png),
            "full_bytes": int(full_tier), "thumbnail_bytes": int(thumb_tier),
            "text_bytes": int(text_tier),
            "full_vs_png": round(full_tier / png, 3),
            "thumbnail_vs_png": round(thumb_tier / png, 3),
            "text_vs_png": round(text_tier / png, 4),
            "tables_bytes": {t: store.table_bytes(t) for t in (MEMORIES, THUMBS, FRAMES)}}


def project_month(tiers: dict[str, object], *, changed_fraction: float = 0.25,
                  workdays: int = 22) -> dict[str, object]:
    per_day = int(8 * 3600 / 3 * changed_fraction)
    full = float(tiers["full_bytes"])  # type: ignore[arg-type]
    thumb = float(tiers["thumbnail_bytes"])  # type: ignore[arg-type]
    text = float(tiers["text_bytes"])  # type: ignore[arg-type]
    png = float(tiers["raw_png_bytes"])  # type: ignore[arg-type]
    gib = 2**30

    def month(full_days: int, thumb_days: int) -> float:
        text_days = workdays - full_days - thumb_days
        return per_day * (full_days * full + thumb_days * thumb + text_days * text) / gib

    return {
        "assumptions": {"hours_per_day": 8, "interval_s": 3, "workdays": workdays,
                        "changed_fraction": changed_fraction, "memories_per_day": per_day,
                        "monitors": 1},
        "raw_png_GiB": round(per_day * workdays * png / gib, 2),
        "all_full_GiB": round(month(workdays, 0), 2),
        "1_day_full_rest_text_GiB": round(month(1, 0), 3),
        "1_day_full_6_days_thumbnail_rest_text_GiB": round(month(1, 6), 3),
        "goal_GiB": 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/vault.json"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="afterimage-bench-vault-"))
    result: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "processor": platform.machine()},
    }
    result["unlock"] = bench_unlock(work)
    print(json.dumps(result["unlock"]), flush=True)
    result["throughput"] = bench_throughput()
    print(json.dumps(result["throughput"]), flush=True)
    result["tiers"] = bench_tiers(work)
    result["month"] = project_month(result["tiers"])  # type: ignore[arg-type]
    print(json.dumps(result["tiers"]), json.dumps(result["month"]), flush=True)
    result["forget_day"] = bench_forget_day(work, args.memories)
    print(json.dumps(result["forget_day"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
