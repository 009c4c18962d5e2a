"""The child side of the crash test (T5): capture-like writes, forgets, compaction, degrade
and passphrase changes through the real Memory facade, vault and store, until killed.

Every operation is journaled (ids, hour buckets and passphrase numbers only) to a plain
file *before* it starts (lower-case tag) and *after* it returns (upper-case tag), so the
parent knows what was committed and what was in flight when ``kill -9`` arrived.
"""

from __future__ import annotations

import os
import random
from datetime import timedelta
from pathlib import Path

from core.config import Config, SecurityConfig
from core.forget import ForgetRequest, bucket_start
from core.retention import MaintenancePlan, run_maintenance
from core.store import MEMORIES
from tests.vaultkit import open_memory, synthetic, utc

PASSPHRASES = ("crash test passphrase zero", "crash test passphrase one")
BASE = utc(2024, 5, 1, 8)
HOURS = 6
CHEAP = Config(security=SecurityConfig(kdf_memory_mib=8, kdf_iterations=1, kdf_lanes=1,
                                       kdf_min_seconds=0.0))

WEIGHTS = {
    "capture": {"add": 8, "forget": 1, "purge": 1, "degrade": 0, "passwd": 0, "hours": 0},
    "forget": {"add": 4, "forget": 4, "purge": 0, "degrade": 0, "passwd": 0, "hours": 2},
    "compaction": {"add": 4, "forget": 1, "purge": 4, "degrade": 3, "passwd": 0, "hours": 0},
    "passwd": {"add": 3, "forget": 1, "purge": 0, "degrade": 0, "passwd": 4, "hours": 0},
}


class Journal:
    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(self, tag: str, *values: object) -> None:
        os.write(self._fd, (" ".join([tag, *map(str, values)]) + "\n").encode("ascii"))


def drive(home: str, journal_path: str, scenario: str, seed: int, passphrase_no: int) -> None:
    rng = random.Random(seed)
    journal = Journal(Path(journal_path))
    mem = open_memory(Path(home), config=CHEAP)
    mem.unlock(PASSPHRASES[passphrase_no])
    mem.acquire_writer("crash-test")  # runs startup repair
    ops = list(WEIGHTS[scenario])
    weights = [WEIGHTS[scenario][op] for op in ops]
    while True:
        op = rng.choices(ops, weights)[0]
        if op == "add":
            items = []
            for _ in range(rng.randint(1, 3)):
                ts = BASE + timedelta(hours=rng.randrange(HOURS), minutes=rng.randrange(60))
                items.append(synthetic(ts, f"memory {rng.random()}", tier=rng.choice((0, 0, 1))))
            ids = [f"{i.record.id}:{int(i.record.timestamp.timestamp()) // 3600}"
                   for i in items]
            journal.write("a", *ids)
            mem.store_encoded(items)
            journal.write("A", *ids)
        elif op == "forget":
            rows = mem._store.row_meta(MEMORIES)
            if not rows:
                continue
            chosen = [r.id for r in rng.sample(rows, min(len(rows), rng.randint(1, 3)))]
            journal.write("f", *chosen)
            mem.forget(mem.plan_forget(ForgetRequest(ids=tuple(chosen))))
            journal.write("F", *chosen)
        elif op == "hours":
            bucket = int(BASE.timestamp()) // 3600 + rng.randrange(HOURS)
            start = bucket_start(bucket)
            journal.write("h", bucket)
            mem.forget(mem.plan_forget(ForgetRequest(since=start,
                                                     until=start + timedelta(hours=1)),
                                       whole_hours=True))
            journal.write("H", bucket)
        elif op == "purge":
            journal.write("c")
            mem._store.purge()
            journal.write("C")
        elif op == "degrade":
            bucket = int(BASE.timestamp()) // 3600 + rng.randrange(HOURS)
            plan = (MaintenancePlan(to_thumbnail=frozenset({bucket})) if rng.random() < 0.6
                    else MaintenancePlan(to_text=frozenset({bucket})))
            journal.write("d", bucket)
            run_maintenance(mem._store, mem._vault, plan, state_dir=mem._state_dir,
                            measure_dir=mem.paths.vault_dir)
            journal.write("D", bucket)
        elif op == "passwd":
            new = 1 - passphrase_no
            journal.write("p", new)
            mem.change_passphrase(PASSPHRASES[passphrase_no], PASSPHRASES[new])
            passphrase_no = new
            journal.write("P", new)
