"""Startup repair (core/repair.py, SECURITY.md R9): each kind of damage a crash can leave."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from core.forget import PendingForget, journal_path, write_journal
from core.records import bucket_of
from core.store import FRAMES, MEMORIES, THUMBS
from tests.vaultkit import PASS, new_memory, open_memory, synthetic, utc


def _ids(mem, name):
    return {r.id for r in mem._store.row_meta(name)}


def test_repair_drops_orphans_and_keeps_everything_sound(tmp_path: Path) -> None:
    home = tmp_path / "h"
    mem = new_memory(home)
    keep = synthetic(utc(2024, 4, 1, 9, 10), "kept")
    half = synthetic(utc(2024, 4, 1, 10, 10), "images written, row not")
    keyless = synthetic(utc(2024, 4, 1, 11, 10), "its key is gone")
    mem.store_encoded([keep, half, keyless])
    # a crash inside store.add: images and key written, memory row not
    mem._store.delete_where(MEMORIES, f"id = '{half.record.id}'")
    # a key destroyed with its rows still there
    keyless_key = next(r.key_id for r in mem._store.row_meta(MEMORIES)
                       if r.id == keyless.record.id)
    mem._vault.destroy_keys([keyless_key])
    # a key made durable just before a crash, never used (an old hour), and one of now
    stale = mem._vault.new_data_key(bucket_of(utc(2024, 4, 1, 12)))
    fresh = mem._vault.new_data_key(bucket_of(datetime.now(UTC)))
    mem.close()

    mem = open_memory(home)
    report = mem.repair()
    assert report.rows_without_key == 1 and report.orphan_images == 2
    assert report.orphan_keys == 2  # the stale key and the key of the half-written row
    assert report.purged
    keys = mem._vault.key_ids()
    assert stale.key_id not in keys and fresh.key_id in keys  # the current hour is left
    for name in (MEMORIES, THUMBS, FRAMES):
        assert _ids(mem, name) == {keep.record.id}
    mem.unlock(PASS)
    records, _, unreadable = mem._store.load_all()
    assert [r.text for r in records] == ["kept"] and unreadable == 0
    assert mem.repair().changed is False  # idempotent
    mem.close()


def test_repair_fixes_tiers_after_a_crash_inside_degrade(tmp_path: Path) -> None:
    mem = new_memory(tmp_path / "h")
    a = synthetic(utc(2024, 4, 1, 9), "a")
    b = synthetic(utc(2024, 4, 1, 9, 5), "b")
    mem.store_encoded([a, b])
    mem._store.set_tier(f"id = '{a.record.id}'", 1)  # tier set, frame not yet deleted
    mem._store.delete_where(FRAMES, f"id = '{b.record.id}'")  # frame gone, tier not set
    report = mem.repair()
    assert report.tiers_fixed == 2
    tiers = {r.id: r.tier for r in mem._store.row_meta(MEMORIES)}
    assert tiers == {a.record.id: 1, b.record.id: 1}
    assert _ids(mem, FRAMES) == set() and _ids(mem, THUMBS) == {a.record.id, b.record.id}
    mem.close()


def test_an_interrupted_forget_is_finished_and_waits_for_unlock_to_rekey(
        tmp_path: Path) -> None:
    home = tmp_path / "h"
    mem = new_memory(home)
    gone = synthetic(utc(2024, 4, 1, 9, 10), "to forget")
    stays = synthetic(utc(2024, 4, 1, 9, 20), "same hour, stays")
    mem.store_encoded([gone, stays])
    old_key = next(iter(mem._vault.key_ids()))
    state = home / "vault" / "state"
    write_journal(state, PendingForget(ids=frozenset({gone.record.id}), buckets=frozenset(),
                                       keys=frozenset({old_key})))  # crash right after
    mem.close()

    locked = open_memory(home)
    report = locked.repair()  # locked: rows go now, the re-key waits
    assert report.forget_waits_for_unlock and journal_path(state).exists()
    assert _ids(locked, MEMORIES) == {stays.record.id}
    assert old_key in locked._vault.key_ids()
    locked.close()

    unlocked = open_memory(home)
    unlocked.unlock(PASS)
    report = unlocked.repair()
    assert report.finished_forget and not journal_path(state).exists()
    assert old_key not in unlocked._vault.key_ids()
    records, _, unreadable = unlocked._store.load_all()
    assert [r.text for r in records] == ["same hour, stays"] and unreadable == 0
    unlocked.close()


def test_repair_keeps_the_keys_of_chat_turns(tmp_path: Path) -> None:
    """Chat turns are sealed with data keys too: repair must not destroy them as orphans."""
    from core.chat.answer import Answer

    home = tmp_path / "h"
    mem = new_memory(home)
    answer = Answer(question="what did I read?", text="A note about otters.", citations=(),
                    route="search", model=None, supported=False)
    conv, _ = mem.conversations.add_turn(answer)
    mem.close()
    mem = open_memory(home)
    # An hour later than the turn's bucket: its key is "old" and unused by any memory row.
    later = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
    from core.repair import repair_vault

    report = repair_vault(mem._store, mem._vault, state_dir=mem._state_dir, now=later,
                          other_live_keys=mem.conversations.live_key_ids)
    assert report.orphan_keys == 0
    mem.unlock(PASS)
    turns = mem.conversations.turns(conv)
    assert [t.answer for t in turns] == ["A note about otters."]
    mem.close()


def test_a_table_folder_left_by_a_kill_inside_create_table(tmp_path: Path) -> None:
    """kill -9 inside LanceDB's create_table leaves a folder with no manifest, which LanceDB
    lists but cannot open (seen once in the T5 crash test): readers see no rows, the next
    write creates the table and nothing already stored is lost."""
    home = tmp_path / "h"
    mem = new_memory(home)
    first = synthetic(utc(2024, 4, 1, 9), "first", tier=1)
    mem.store_encoded([first])
    frames_dir = mem._store.root / f"{FRAMES}.lance"
    assert not frames_dir.exists()  # no frame stored yet, so no frames table
    (frames_dir / "_versions").mkdir(parents=True)
    (frames_dir / "data").mkdir()
    (frames_dir / "data" / "half-written.lance").write_bytes(b"\x00" * 64)
    mem.close()

    mem = open_memory(home)
    assert _ids(mem, FRAMES) == set()
    mem.repair()
    second = synthetic(utc(2024, 4, 1, 10), "second")
    mem.store_encoded([second])
    assert _ids(mem, FRAMES) == {second.record.id}
    assert _ids(mem, MEMORIES) == {first.record.id, second.record.id}
    mem.close()
