"""Bad input (issue 3 §7): truncated/corrupted vault files, a newer vault, a full disk.
Each gives one clear error, overwrites nothing and loses nothing that was intact."""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from core.errors import StoreError, VaultCorrupt, VaultTooNew
from core.forget import ForgetRequest, journal_path
from core.store import MEMORIES
from tests.support import run_cli
from tests.vaultkit import PASS, new_memory, open_memory, synthetic, utc


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    mem = new_memory(home)
    mem.store_encoded([synthetic(utc(2024, 8, 1, 9, m), f"note {m}") for m in range(3)])
    mem.close()
    return home


def test_truncated_key_store_is_one_clear_error_and_nothing_changes(home: Path) -> None:
    keys = home / "vault" / "keys.db"
    keys.write_bytes(keys.read_bytes()[:100])
    before = _tree(home / "vault")
    with pytest.raises(VaultCorrupt, match="keys.db"):
        open_memory(home)
    res = run_cli(home, "stats")
    assert res.code == 1 and res.err.count("\n") == 1 and "keys.db" in res.err
    assert "Traceback" not in res.err
    assert _tree(home / "vault") == before


def test_key_store_from_a_newer_version_is_refused(home: Path) -> None:
    db = sqlite3.connect(home / "vault" / "keys.db")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    before = _tree(home / "vault")
    with pytest.raises(VaultTooNew, match="Update Afterimage"):
        open_memory(home)
    res = run_cli(home, "forget", "--all", "--yes")
    assert res.code == 1 and "Update Afterimage" in res.err
    assert _tree(home / "vault") == before


def test_corrupted_lance_data_is_a_store_error_and_repair_writes_nothing(home: Path) -> None:
    data_files = sorted((home / "vault" / "store" / "memories.lance" / "data").glob("*.lance"))
    target = data_files[0]
    raw = bytearray(target.read_bytes())
    for i in range(len(raw) // 3, len(raw) // 3 + 64):
        raw[i] ^= 0xFF
    target.write_bytes(bytes(raw[: len(raw) - 40]))  # damaged and truncated
    before = _tree(home / "vault")
    mem = open_memory(home)
    with pytest.raises(StoreError, match="memory store failed"):
        mem.acquire_writer()  # startup repair must read, fails, and changes nothing
    mem.close()
    res = run_cli(home, "stats", "--json")
    assert res.code == 1 and "memory store failed" in res.err and "Traceback" not in res.err
    assert _tree(home / "vault") == before


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_writing_loses_nothing(home: Path, monkeypatch) -> None:
    mem = open_memory(home)
    mem.acquire_writer()
    table = mem._store._table(MEMORIES)
    monkeypatch.setattr(type(table), "add", _disk_full)
    with pytest.raises(StoreError, match="disk is full"):
        mem.store_encoded([synthetic(utc(2024, 8, 1, 11), "in flight")])
    monkeypatch.undo()
    mem.close()
    mem = open_memory(home)
    mem.unlock(PASS)
    mem.repair()  # the in-flight memory's images and key are cleaned up
    records, _, unreadable = mem._store.load_all()
    assert sorted(r.text for r in records) == ["note 0", "note 1", "note 2"]
    assert unreadable == 0 and len(mem._vault.key_ids()) == 1
    mem.close()


def test_disk_full_during_forget_keeps_survivors_and_the_forget_finishes_later(
        home: Path, monkeypatch) -> None:
    mem = open_memory(home)
    mem.unlock(PASS)
    plan = mem.plan_forget(ForgetRequest(since=utc(2024, 8, 1, 9, 1), until=utc(2024, 8, 1, 9, 2)))
    assert plan.count == 1
    table = mem._store._table(MEMORIES)
    monkeypatch.setattr(type(table), "merge_insert", _disk_full)  # the re-key write fails
    with pytest.raises(StoreError, match="disk is full"):
        mem.forget(plan)
    monkeypatch.undo()
    assert journal_path(home / "vault" / "state").exists()
    mem.close()
    mem = open_memory(home)
    mem.unlock(PASS)
    report = mem.repair()
    assert report.finished_forget
    records, _, unreadable = mem._store.load_all()
    assert sorted(r.text for r in records) == ["note 0", "note 2"] and unreadable == 0
    mem.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root; the "
                    "monkeypatched ENOSPC tests above cover the same paths")
def test_a_really_full_disk(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                      capture_output=True, check=False).returncode != 0:
        pytest.skip("this container may not mount a tmpfs")
    try:
        home = mount / "home"
        mem = new_memory(home)
        stored: list[str] = []
        with pytest.raises(StoreError, match="disk"):
            for m in range(200):
                stored += mem.store_encoded([synthetic(utc(2024, 8, 1, 9, m % 60),
                                                       f"filler {m}", size=(300, 200),
                                                       noise=True)])
        mem.close()
        mem = open_memory(home)
        mem.unlock(PASS)
        records, _, unreadable = mem._store.load_all()
        assert {r.id for r in records} >= set(stored) and unreadable == 0
        assert len(stored) > 3
        mem.close()
    finally:
        subprocess.run(["umount", str(mount)], check=False)
