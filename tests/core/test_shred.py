"""Deletions are made physical without pylance (core/shred.py; SECURITY.md R7, T4).

Byte-level checks of the table folders: no Lance reader is needed. The deleted values are
random (incompressible) bytes, so if any file still held them a plain byte search finds them.
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta
from pathlib import Path

import lancedb
import pyarrow as pa
import pytest

from core.forget import ForgetRequest
from core.shred import deletion_files, shred_deleted
from core.store import FRAMES, MEMORIES, THUMBS, EncryptedStore
from tests.vaultkit import new_memory, synthetic, utc


def _files_holding(folder: Path, needle: bytes) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _rows(start: int, count: int) -> pa.Table:
    return pa.table({"id": [f"r{i:04d}" for i in range(start, start + count)],
                     "data": [os.urandom(48) for _ in range(count)]})


@pytest.fixture
def table(tmp_path: Path):
    """One fragment of 40 rows (each value 48 random bytes): lancedb's compaction has no
    neighbour to merge it with, so only its deletion threshold could rewrite it."""
    db = lancedb.connect(str(tmp_path / "db"))
    table = db.create_table("t", _rows(0, 40))
    return table, tmp_path / "db" / "t.lance"


def _values(table) -> dict[str, bytes]:
    data = table.to_arrow()
    return dict(zip(data.column("id").to_pylist(), data.column("data").to_pylist(),
                    strict=True))


def test_lancedb_optimize_alone_leaves_a_small_deletion_on_disk(table) -> None:
    """The fact shred_deleted exists for (measured: lancedb 0.40 materialises >= 10%)."""
    table, folder = table
    doomed = _values(table)["r0007"]
    table.delete("id = 'r0007'")  # 1 of 40 rows of its fragment
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table.optimize(cleanup_older_than=timedelta(0))
    assert _files_holding(folder, doomed)


def test_shred_removes_the_bytes_and_keeps_every_survivor(table) -> None:
    table, folder = table
    values = _values(table)
    table.delete("id IN ('r0007', 'r0031')")  # 2 of 40: under lancedb's 10% threshold
    assert deletion_files(table) == 1

    rewritten = shred_deleted(table, folder)

    assert rewritten == 38  # the survivors of fragment 0 only
    for gone in ("r0007", "r0031"):
        assert _files_holding(folder, values[gone]) == []
    after = _values(table)
    assert set(after) == set(values) - {"r0007", "r0031"}
    assert all(after[k] == values[k] for k in after)
    for key in after:  # every survivor is still on disk, exactly once
        assert len(_files_holding(folder / "data", values[key])) == 1
    assert deletion_files(table) == 0
    assert not any((folder / "_deletions").iterdir())
    assert len(table.list_versions()) == 1  # every old version is gone


def test_an_orphan_deletion_file_from_a_killed_commit_does_not_block_shredding(table) -> None:
    """A delete killed between writing its deletion file and committing leaves a file no
    version references (seen in tests/core/test_crash.py): the next purge must still
    succeed and still remove what was really deleted."""
    table, folder = table
    values = _values(table)
    table.delete("id = 'r0003'")
    deletions = folder / "_deletions"
    real = next(deletions.iterdir())
    (deletions / ("0-999-" + real.name.split("-", 2)[-1])).write_bytes(real.read_bytes())
    shred_deleted(table, folder)
    assert _files_holding(folder, values["r0003"]) == []
    assert deletion_files(table) == 0
    assert set(_values(table)) == set(values) - {"r0003"}


def test_shred_without_deletions_rewrites_nothing(table) -> None:
    table, folder = table
    before = sorted(p.name for p in (folder / "data").iterdir())
    assert shred_deleted(table, folder) == 0
    assert sorted(p.name for p in (folder / "data").iterdir()) == before


def test_forgetting_one_hour_of_many_removes_its_ciphertext_bytes(tmp_path: Path) -> None:
    """A forgotten memory's sealed payload, vectors, thumbnail and frame leave every file of
    the store, though it was 1 of 30 rows of one fragment (R7, T4 at byte level)."""
    home = tmp_path / "home"
    mem = new_memory(home)
    items = [synthetic(utc(2024, 5, 1) + timedelta(hours=h), f"memory number {h}")
             for h in range(30)]
    mem.store_encoded(items)  # one batch: one fragment per table
    store = EncryptedStore(home / "vault" / "store", mem._vault)
    target = items[12].record.id
    sealed = {}
    for name, columns in ((MEMORIES, ("payload", "vectors")), (THUMBS, ("data",)),
                          (FRAMES, ("data",))):
        got = store.select(name, f"id = '{target}'")
        assert got.num_rows == 1
        for column in columns:
            sealed[(name, column)] = got.column(column)[0].as_py()
    keeper = store.select(MEMORIES, f"id = '{items[20].record.id}'").column("payload")[0]
    root = home / "vault" / "store"
    for value in sealed.values():
        assert _files_holding(root, value[-32:])  # the scan sees them before forget

    plan = mem.plan_forget(ForgetRequest(since=utc(2024, 5, 1, 12), until=utc(2024, 5, 1, 13)),
                           whole_hours=True)
    assert plan.ids == {target}
    mem.forget(plan)

    for (name, column), value in sealed.items():
        for start in range(12, len(value) - 32, 32):  # no 32-byte piece of it survives
            assert _files_holding(root, value[start:start + 32]) == [], (name, column)
    assert _files_holding(root, keeper.as_py()[-32:])
    assert len(store.ids()) == 29
    store.close()
    mem.close()
