"""Forget is real (SECURITY.md R7, T4): rows, versions, keys, re-keying, hooks, index."""

from __future__ import annotations

import shutil
from pathlib import Path

import lance
import pytest

from core.embed import MiniLmEmbedder
from core.errors import DecryptionFailed, InvalidInput, KeyMissing, VaultLocked
from core.forget import ForgetRequest
from core.records import bucket_of
from core.store import FRAMES, MEMORIES, THUMBS, EncryptedStore
from core.vault import Vault
from tests.support import assert_secret_absent
from tests.vaultkit import PASS, new_memory, open_memory, synthetic, utc

SECRET = "QPXW-walrus-9083-tangerine"


@pytest.fixture(scope="module")
def embedder() -> MiniLmEmbedder:
    return MiniLmEmbedder()


def _embedded(embedder, ts, text, **kw):
    return synthetic(ts, text, vectors=embedder.embed([text]), **kw)


@pytest.fixture
def filled(tmp_path: Path, embedder):
    """Hour 10: three memories (one holds the secret); hour 11: two; hour 12: one."""
    home = tmp_path / "home"
    mem = new_memory(home, embedder=lambda: embedder)
    items = {
        "a": _embedded(embedder, utc(2024, 3, 1, 10, 5), "quarterly budget spreadsheet"),
        "secret": _embedded(embedder, utc(2024, 3, 1, 10, 20),
                            f"bank login recovery code {SECRET}", app="browser"),
        "c": _embedded(embedder, utc(2024, 3, 1, 10, 40), "holiday photos in Lisbon"),
        "d": _embedded(embedder, utc(2024, 3, 1, 11, 10), "kubernetes pod logs", app="term"),
        "e": _embedded(embedder, utc(2024, 3, 1, 11, 30), "sourdough recipe notes", app="term"),
        "f": _embedded(embedder, utc(2024, 3, 1, 12, 15), "piano practice schedule"),
    }
    mem.store_encoded(list(items.values()))
    ids = {k: v.record.id for k, v in items.items()}
    yield home, mem, ids
    mem.close()


def _ids_in_every_version(store_dir: Path) -> set[str]:
    seen: set[str] = set()
    for table_dir in store_dir.glob("*.lance"):
        ds = lance.dataset(str(table_dir))
        for version in ds.versions():
            snap = lance.dataset(str(table_dir), version=version["version"])
            seen.update(snap.to_table(columns=["id"]).column("id").to_pylist())
    return seen


def test_forget_by_id_and_time_is_gone_everywhere_and_old_copies_stay_unreadable(
        filled, tmp_path: Path) -> None:
    home, mem, ids = filled
    assert mem.search("bank recovery code")[0].id == ids["secret"]
    before_copy = tmp_path / "copy-before"
    shutil.copytree(home, before_copy)
    keys_before = Vault.open(home / "vault")
    key_count_before = len(keys_before.key_ids())
    keys_before.close()

    seen: list[frozenset[str]] = []
    mem.on_forget.append(seen.append)
    plan = mem.plan_forget(ForgetRequest(ids=(ids["secret"],)))
    assert plan.count == 1 and plan.apps == {"browser": 1}
    report = mem.forget(plan)
    assert (report.memories, report.rekeyed_buckets) == (1, 1)
    assert report.data_keys == 1  # hour 10's old key, replaced by a fresh one
    plan = mem.plan_forget(ForgetRequest(since=utc(2024, 3, 1, 11), until=utc(2024, 3, 1, 12)))
    assert plan.ids == {ids["d"], ids["e"]} and plan.apps == {"term": 2}
    report = mem.forget(plan)
    assert (report.memories, report.data_keys, report.rekeyed_buckets) == (2, 1, 0)
    assert report.bytes_freed > 0
    assert seen == [frozenset({ids["secret"]}), frozenset({ids["d"], ids["e"]})]

    forgotten = {ids["secret"], ids["d"], ids["e"]}
    kept = {ids["a"], ids["c"], ids["f"]}
    # gone from search and from the index
    assert all(h.id not in forgotten for h in mem.search("bank recovery code", limit=20))
    assert all(mem.get(i) is None for i in forgotten)
    assert {mem.get(i).id for i in kept} == kept  # type: ignore[union-attr]
    # gone from every version of every table, and from every byte on disk
    assert not forgotten & _ids_in_every_version(home / "vault" / "store")
    assert kept <= _ids_in_every_version(home / "vault" / "store")
    assert_secret_absent(home, SECRET)
    vault = Vault.open(home / "vault")
    assert len(vault.key_ids()) == key_count_before - 1  # -2 destroyed, +1 fresh (hour 10)
    vault.close()

    # The copy taken before forget, with keys.db taken after forget: forgotten rows cannot
    # be decrypted; rows of untouched hours still can.
    shutil.copy2(home / "vault" / "keys.db", before_copy / "vault" / "keys.db")
    old_vault = Vault.open(before_copy / "vault")
    old_vault.unlock(PASS)
    old_store = EncryptedStore(before_copy / "vault" / "store", old_vault)
    rows = {r.id: r for r in old_store.rows()}
    assert forgotten <= set(rows)
    for rid in forgotten:
        with pytest.raises((KeyMissing, DecryptionFailed)):
            old_store.decrypt(rows[rid])
        for table in (THUMBS, FRAMES):
            with pytest.raises((KeyMissing, DecryptionFailed)):
                old_store.blob(table, rid)
    record, _ = old_store.decrypt(rows[ids["f"]])  # hour 12 was not touched
    assert record.text == "piano practice schedule"
    assert old_store.blob(FRAMES, ids["f"]) is not None
    old_store.close()
    old_vault.close()

    # The survivors of the partly forgotten hour were re-keyed and read fine.
    live = {r.id: r for r in EncryptedStore(home / "vault" / "store", mem._vault).rows()}
    assert live[ids["a"]].key_id == live[ids["c"]].key_id != rows[ids["a"]].key_id
    assert mem.get(ids["a"]).text == "quarterly budget spreadsheet"  # type: ignore[union-attr]
    assert mem.frame(ids["c"]) is not None and mem.thumbnail(ids["c"]) is not None


def test_forget_by_app_and_query_and_dry_run_plans(filled) -> None:
    home, mem, ids = filled
    assert mem.plan_forget(ForgetRequest(app="TERM")).ids == {ids["d"], ids["e"]}
    assert mem.plan_forget(ForgetRequest(app="ter")).ids == set()  # exact names only
    plan = mem.plan_forget(ForgetRequest(query="bread baking", limit=1))
    assert plan.ids == {ids["e"]}
    assert mem.stats().memories == 6  # planning changes nothing
    mem.forget(plan)
    assert mem.stats().memories == 5
    assert mem.get(ids["e"]) is None


def test_last_minutes_relative_to_now(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    mem = new_memory(tmp_path / "h")
    old = synthetic(now - timedelta(hours=3), "older")
    recent = [synthetic(now - timedelta(minutes=m), f"recent {m}") for m in (2, 9)]
    mem.store_encoded([old, *recent])
    mem.unlock(PASS)
    plan = mem.plan_forget(ForgetRequest(since=now - timedelta(minutes=15)))
    assert plan.ids == {r.record.id for r in recent}
    mem.forget(plan)
    assert mem.stats().memories == 1
    mem.close()


def test_whole_hours_needs_no_passphrase_and_locked_exact_forget_is_refused(filled) -> None:
    home, mem, ids = filled
    mem.close()
    locked = open_memory(home)
    with pytest.raises(VaultLocked):
        locked.plan_forget(ForgetRequest(since=utc(2024, 3, 1, 10, 30)))
    with pytest.raises(InvalidInput):
        locked.plan_forget(ForgetRequest(app="term"), whole_hours=True)
    plan = locked.plan_forget(ForgetRequest(since=utc(2024, 3, 1, 10, 30),
                                            until=utc(2024, 3, 1, 11, 1)), whole_hours=True)
    assert plan.whole_hours and plan.buckets == {bucket_of(utc(2024, 3, 1, 10)),
                                                 bucket_of(utc(2024, 3, 1, 11))}
    assert plan.ids == {ids[k] for k in ("a", "secret", "c", "d", "e")}
    report = locked.forget(plan)
    assert (report.memories, report.data_keys, report.rekeyed_buckets) == (5, 2, 0)
    assert not locked.is_unlocked
    locked.unlock(PASS)
    assert [r.id for r in locked._store.load_all()[0]] == [ids["f"]]
    assert_secret_absent(home, SECRET)
    locked.close()


def test_bad_requests_are_clear_errors(filled) -> None:
    _, mem, _ = filled
    with pytest.raises(InvalidInput):
        mem.plan_forget(ForgetRequest())
    with pytest.raises(InvalidInput):
        mem.plan_forget(ForgetRequest(since=utc(2024, 3, 2), until=utc(2024, 3, 1)))
    assert mem.plan_forget(ForgetRequest(ids=("0" * 32,))).empty
    assert mem._store.count(MEMORIES) == 6
