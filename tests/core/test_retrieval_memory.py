"""Memory.search end to end over a real vault, real MiniLM vectors and the sealed
index snapshot (no OCR: memories are written to the store directly)."""

import os
from datetime import UTC, datetime, timedelta

import pytest

from core.config import Config, Paths
from core.embed import MiniLmEmbedder
from core.memory import Factories, Memory
from core.records import MemoryRecord
from core.retrieval.keeper import SNAPSHOT_FILE
from core.store import NewMemory
from core.types import MonitorGeometry, OcrLine, OcrResult
from core.vault import KdfParams
from tests.support import PASSPHRASE, encodings_of

NOW = datetime(2026, 4, 15, 14, 30, tzinfo=UTC)
SECRET = "Zanzibarquokka"


@pytest.fixture(scope="module")
def embedder():
    return MiniLmEmbedder()


def _factories(embedder):
    def unavailable():
        raise AssertionError("not used in this test")
    return Factories(ocr=unavailable, embedder=lambda: embedder, screen=unavailable,
                     windows=unavailable)


def _memory(tmp_path, embedder):
    paths = Paths(config_file=tmp_path / "config.toml", data_dir=tmp_path / "data")
    kdf = KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1)
    return Memory.create(Config(), paths, PASSPHRASE, kdf=kdf, factories=_factories(embedder))


def _new(embedder, mid, when, app, title, text, monitor=1):
    rec = MemoryRecord(id=mid, timestamp=when, app=app, title=title,
                       ocr=OcrResult((OcrLine(text, 0.9, (0, 0, 10, 10)),)),
                       monitor=MonitorGeometry(monitor, 0, 0, 1920, 1080))
    return NewMemory(record=rec, vectors=embedder.embed([f"{title}\n{text}"]), thumbnail=None,
                     frame=None)


def _fill(memory, embedder):
    items = [
        _new(embedder, "a" * 32, NOW - timedelta(days=1, hours=-1), "libreoffice",
             "Q3 budget.ods", f"Quarterly budget forecast revenue costs {SECRET}"),
        _new(embedder, "b" * 32, NOW - timedelta(days=1, hours=-1, minutes=-1), "libreoffice",
             "Q3 budget.ods", f"Quarterly budget forecast revenue costs {SECRET}"),
        _new(embedder, "c" * 32, NOW - timedelta(hours=2), "firefox", "Cat videos",
             "funny kittens playing with yarn", monitor=2),
        _new(embedder, "d" * 32, NOW - timedelta(minutes=20), "terminal", "bash",
             "Traceback ZeroDivisionError division by zero in budget.py"),
    ]
    memory._store.add(items)


def test_search_time_words_duplicates_and_snapshot(tmp_path, embedder):
    memory = _memory(tmp_path, embedder)
    _fill(memory, embedder)
    hits = memory.search("spreadsheet with the budget forecast", now=NOW)
    assert hits[0].id in {"a" * 32, "b" * 32} and len(hits[0].duplicates) == 1
    # "yesterday afternoon" is a filter, not words to match (13:30-15:30 UTC yesterday)
    y = memory.search("budget yesterday afternoon", now=NOW)
    assert {h.id for h in y} <= {"a" * 32, "b" * 32} and y
    assert [h.id for h in memory.search("kittens two hours ago", now=NOW)] == ["c" * 32]
    assert memory.search("kittens", monitor=1, now=NOW)[0].id != "c" * 32
    assert memory.search("kittens two hours ago", natural_time=False, now=NOW)[0].id == "c" * 32
    # timeline: moment -> episode -> day, and query routing to episodes
    days = memory.days()
    assert [d.memories for d in days] == [2, 2]  # today (c, d) and yesterday (a, b)
    yesterday = memory.episodes(days[1].day)
    assert len(yesterday) == 1 and set(yesterday[0].memory_ids) == {"a" * 32, "b" * 32}
    assert yesterday[0].title == "Q3 budget.ods"
    routed = memory.search_episodes("budget forecast spreadsheet", now=NOW)
    assert routed[0][0].id == yesterday[0].id
    # the newest day alone, from that day's memories only (the timeline's way)
    assert [d.day for d in memory.days(last=1)] == [days[0].day]
    assert memory.days(last=1)[0].memories == 2 and memory.days(last=0) == []
    # lock writes the sealed snapshot; it holds no plaintext
    memory.lock()
    snap = tmp_path / "data" / "vault" / SNAPSHOT_FILE
    raw = snap.read_bytes()
    assert all(form not in raw for form in encodings_of(SECRET))
    assert b"libreoffice" not in raw and b"Traceback" not in raw
    # unlock: the index comes back from the snapshot, records decrypt on demand
    memory.unlock(PASSPHRASE)
    hits = memory.search("division by zero error", now=NOW)
    assert memory._keeper is not None and memory._keeper.loaded_from_snapshot
    assert hits[0].id == "d" * 32 and "ZeroDivisionError" in hits[0].snippet
    # a memory captured after the snapshot is searchable at the next query
    memory._store.add([_new(embedder, "e" * 32, NOW, "mail", "Invoice 4711",
                            "invoice from ACME payable in 30 days")])
    assert memory.search("ACME invoice", now=NOW)[0].id == "e" * 32
    assert memory.stats().oldest_bucket > datetime(2000, 1, 1, tzinfo=UTC)
    # forgetting deletes the snapshot and its key
    memory.lock()
    assert snap.exists()
    memory.unlock(PASSPHRASE)
    memory.forget_all()
    assert not snap.exists()
    assert memory.search("budget", now=NOW) == []
    memory.close()


def test_removing_from_the_index_discards_the_snapshot(tmp_path, embedder):
    memory = _memory(tmp_path, embedder)
    _fill(memory, embedder)
    memory.search("budget", now=NOW)
    memory.lock()
    snap = tmp_path / "data" / "vault" / SNAPSHOT_FILE
    key_id = snap.read_bytes()[8:24].hex()
    memory.unlock(PASSPHRASE)
    index = memory._ensure_index()
    index.remove(["c" * 32])  # what the forget issue does after store.delete_ids
    assert not snap.exists() and key_id not in memory._vault.key_ids()
    memory.close()
