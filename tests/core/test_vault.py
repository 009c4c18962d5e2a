"""Vault lifecycle, key store, lock state, forgetting and back-off (SECURITY.md R2-R5, R9)."""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from core.errors import (
    KeyMissing,
    StoreError,
    VaultCorrupt,
    VaultExists,
    VaultLocked,
    VaultNotFound,
    WrongPassphrase,
)
from core.vault import DataKey, FieldRef, KdfParams, Vault, open_field, seal_field

PASS = "correct horse battery staple"


def cheap_kdf() -> KdfParams:
    return KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1)


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under root (relative name -> digest)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def all_file_bytes(root: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "vault"
    Vault.create(path, PASS, cheap_kdf()).close()
    yield path


def test_create_returns_unlocked_and_open_returns_locked(tmp_path: Path) -> None:
    path = tmp_path / "data" / "vault"
    assert not Vault.exists(path)
    with Vault.create(path, PASS, cheap_kdf()) as created:
        assert created.is_unlocked
        vault_id = created.vault_id
    assert Vault.exists(path)
    assert len(vault_id) == 32 and int(vault_id, 16) >= 0 and vault_id == vault_id.lower()
    with Vault.open(path) as opened:
        assert not opened.is_unlocked
        assert opened.vault_id == vault_id
        opened.unlock(PASS)
        assert opened.is_unlocked
        opened.lock()
        assert not opened.is_unlocked


def test_create_refuses_an_existing_vault(root: Path) -> None:
    before = snapshot(root)
    with pytest.raises(VaultExists):
        Vault.create(root, "other", cheap_kdf())
    assert snapshot(root) == before


def test_open_without_a_vault_raises_vault_not_found(tmp_path: Path) -> None:
    with pytest.raises(VaultNotFound):
        Vault.open(tmp_path / "nothing-here")
    with pytest.raises(VaultNotFound):
        Vault.open(tmp_path)


def test_wrong_passphrase_is_one_clear_error_and_changes_nothing(root: Path) -> None:
    with Vault.open(root) as writer:
        writer.write_key(1)
    before = snapshot(root)
    with Vault.open(root, sleep=lambda s: None) as vault:
        with pytest.raises(WrongPassphrase, match="nothing was changed"):
            vault.unlock("not the passphrase")
        assert not vault.is_unlocked
        with pytest.raises(VaultLocked):
            vault.read_key(next(iter(vault.key_ids())))
    assert snapshot(root) == before
    assert set(before) == {"vault.header", "vault.header.bak", "keys.db"}


def test_write_while_locked_then_read_after_unlock(root: Path) -> None:
    ref = FieldRef("memories", "ocr_text", "row-1")
    with Vault.open(root) as capture:
        key = capture.write_key(480_000)
        blob = seal_field(key, b"secret on screen", ref)
        assert not capture.is_unlocked
        # Its own write key stays usable while locked.
        assert capture.read_key(key.key_id) == key
        assert capture.key_ids() == {key.key_id: 480_000}
    with Vault.open(root) as gui:
        gui.unlock(PASS)
        read = gui.read_key(key.key_id)
        assert read == key
        assert open_field(read, blob, ref) == b"secret on screen"


def test_locked_vault_cannot_read_a_key_it_did_not_create(root: Path) -> None:
    with Vault.open(root) as capture:
        key = capture.write_key(7)
    with Vault.open(root) as other:
        with pytest.raises(VaultLocked):
            other.read_key(key.key_id)
        other.unlock(PASS)
        assert other.read_key(key.key_id) == key


def _reachable_bytes(obj: object, depth: int = 4) -> list[bytes]:
    """Every bytes/bytearray reachable from obj through attributes and containers."""
    found: list[bytes] = []
    seen: set[int] = set()

    def walk(o: object, d: int) -> None:
        if id(o) in seen or d < 0:
            return
        seen.add(id(o))
        if isinstance(o, (bytes, bytearray)):
            found.append(bytes(o))
        elif isinstance(o, dict):
            for k, v in o.items():
                walk(k, d - 1)
                walk(v, d - 1)
        elif isinstance(o, (list, tuple, set, frozenset)):
            for v in o:
                walk(v, d - 1)
        elif hasattr(o, "__dict__"):
            walk(vars(o), d - 1)
        elif hasattr(o, "__slots__") or hasattr(type(o), "__dataclass_fields__"):
            for name in getattr(type(o), "__dataclass_fields__", {}):
                walk(getattr(o, name), d - 1)

    walk(obj, depth)
    return found


def test_capture_process_holds_no_master_key(root: Path) -> None:
    with Vault.open(root) as owner:
        owner.unlock(PASS)
        assert owner._master_key is not None and owner._capture_private_key is not None
        master = bytes(owner._master_key)
        capture_private = owner._capture_private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    with Vault.open(root) as capture:
        key = capture.write_key(12)
        seal_field(key, b"x", FieldRef("t", "c", "r"))
        assert capture._master_key is None
        assert capture._capture_private_key is None
        assert capture._read_keys == {}
        for blob in _reachable_bytes(capture):
            assert master not in blob
            assert capture_private not in blob


def test_write_key_is_durable_before_it_returns(root: Path) -> None:
    with Vault.open(root) as capture:
        key = capture.write_key(100)
        # A separate connection (as another process would) sees the committed row.
        with sqlite3.connect(root / "keys.db") as db:
            rows = db.execute("SELECT key_id, bucket, length(sealed) FROM data_keys").fetchall()
        assert rows == [(key.key_id, 100, 92)]
        assert capture.write_key(100) is key
        assert capture.write_key(101).key_id != key.key_id
    with Vault.open(root) as second_writer:
        # Keys are per (bucket, writer process): a second writer gets its own key.
        assert second_writer.write_key(100).key_id != key.key_id
    with sqlite3.connect(root / "keys.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_data_keys_are_random_not_derived(root: Path) -> None:
    with Vault.open(root) as capture:
        keys = [capture.write_key(b) for b in range(20)]
    assert len({k.key for k in keys}) == 20
    assert len({k.key_id for k in keys}) == 20
    assert all(len(k.key) == 32 for k in keys)


def test_lock_drops_master_capture_and_read_keys_but_keeps_own_write_keys(root: Path) -> None:
    with Vault.open(root) as capture:
        foreign = capture.write_key(1)
    with Vault.open(root) as vault:
        own = vault.write_key(2)
        vault.unlock(PASS)
        assert vault.read_key(foreign.key_id) == foreign
        master_buffer = vault._master_key
        assert master_buffer is not None and any(master_buffer)
        vault.lock()
        assert master_buffer == bytearray(32)  # overwritten in place
        assert vault._master_key is None
        assert vault._capture_private_key is None
        assert vault._read_keys == {}
        with pytest.raises(VaultLocked):
            vault.read_key(foreign.key_id)
        assert vault.read_key(own.key_id) == own
        assert vault.write_key(2) is own


def test_read_key_of_unknown_id_is_key_missing(root: Path) -> None:
    with Vault.open(root) as vault:
        vault.unlock(PASS)
        with pytest.raises(KeyMissing):
            vault.read_key("0" * 32)
        with pytest.raises(KeyMissing):
            vault.read_key("not-a-key-id")


def test_change_passphrase_rewraps_only_the_master_key(root: Path) -> None:
    ref = FieldRef("memories", "title", "r9")
    with Vault.open(root) as capture:
        key = capture.write_key(3)
        blob = seal_field(key, b"payload", ref)
    keys_before = snapshot(root)["keys.db"]
    with Vault.open(root) as vault:
        vault.change_passphrase(PASS, "new passphrase", cheap_kdf())
        assert not vault.is_unlocked
    after = snapshot(root)
    assert after["keys.db"] == keys_before
    assert after["vault.header"] == after["vault.header.bak"]
    with Vault.open(root, sleep=lambda s: None) as vault:
        with pytest.raises(WrongPassphrase):
            vault.unlock(PASS)
        vault.unlock("new passphrase")
        assert open_field(vault.read_key(key.key_id), blob, ref) == b"payload"


def test_change_passphrase_with_wrong_old_changes_nothing(root: Path) -> None:
    before = snapshot(root)
    with Vault.open(root, sleep=lambda s: None) as vault:
        with pytest.raises(WrongPassphrase):
            vault.change_passphrase("wrong", "new", cheap_kdf())
    assert snapshot(root) == before


def test_unlock_sees_a_passphrase_changed_by_another_process(root: Path) -> None:
    with Vault.open(root) as early, Vault.open(root) as other:
        other.change_passphrase(PASS, "changed", cheap_kdf())
        early.unlock("changed")
        assert early.is_unlocked


def test_destroy_keys_removes_them_irrecoverably(root: Path) -> None:
    with Vault.open(root) as capture:
        keep, doomed, also_kept = (capture.write_key(b) for b in (10, 11, 12))
    with sqlite3.connect(root / "keys.db") as db:
        (sealed,) = db.execute(
            "SELECT sealed FROM data_keys WHERE key_id = ?", (doomed.key_id,)
        ).fetchone()
    assert len(sealed) == 92
    # The raw bytes are in the file before forgetting (so the check below means something).
    assert any(sealed in data for _, data in all_file_bytes(root))

    with Vault.open(root) as vault:
        vault.unlock(PASS)
        assert vault.read_key(doomed.key_id) == doomed  # cached for reading ...
        assert vault.destroy_keys([doomed.key_id, "f" * 32]) == 1
        assert doomed.key_id not in vault.key_ids()
        with pytest.raises(KeyMissing):  # ... and dropped from the cache too
            vault.read_key(doomed.key_id)
        assert set(vault.key_ids()) == {keep.key_id, also_kept.key_id}
        assert vault.destroy_keys([doomed.key_id]) == 0

    with Vault.open(root) as fresh:
        fresh.unlock(PASS)
        with pytest.raises(KeyMissing):
            fresh.read_key(doomed.key_id)
        assert fresh.read_key(keep.key_id) == keep
    for name, data in all_file_bytes(root.parent):
        assert sealed not in data, f"sealed key still in {name}"
        assert doomed.key not in data
        assert doomed.key_id.encode() not in data, f"key id still in {name}"
    assert not (root / "keys.db-journal").exists()
    assert not (root / "keys.db-wal").exists()


def test_a_write_key_destroyed_elsewhere_is_replaced(root: Path) -> None:
    with Vault.open(root) as capture, Vault.open(root) as gui:
        first = capture.write_key(5)
        assert gui.destroy_keys([first.key_id]) == 1
        second = capture.write_key(5)
        assert second.key_id != first.key_id
        assert gui.key_ids() == {second.key_id: 5}


def test_failed_unlocks_back_off_1s_doubling_capped_at_30s(root: Path) -> None:
    slept: list[float] = []
    with Vault.open(root, sleep=slept.append) as vault:
        for _ in range(8):
            with pytest.raises(WrongPassphrase):
                vault.unlock("guess")
        assert slept == [1, 2, 4, 8, 16, 30, 30]
    # A new Vault object in the same process does not reset the delay.
    with Vault.open(root, sleep=slept.append) as again:
        again.unlock(PASS)
        assert slept[-1] == 30
        slept.clear()
        again.lock()
        again.unlock(PASS)  # success reset the counter
        with pytest.raises(WrongPassphrase):
            again.unlock("guess")
        again.unlock(PASS)
    assert slept == [1]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_vault_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "vault"
    path.mkdir(mode=0o755)
    os.chmod(path, 0o755)
    with Vault.create(path, PASS, cheap_kdf()) as vault:
        vault.write_key(1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    for name in ("vault.header", "vault.header.bak", "keys.db"):
        assert stat.S_IMODE((path / name).stat().st_mode) == 0o600, name
    (path / "vault.header").unlink()
    Vault.open(path).close()  # repairs the primary
    assert stat.S_IMODE((path / "vault.header").stat().st_mode) == 0o600


def test_disk_full_while_writing_the_header_leaves_it_intact(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(root)

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    with Vault.open(root) as vault:
        monkeypatch.setattr(os, "write", full)
        with pytest.raises(StoreError, match="disk full"):
            vault.change_passphrase(PASS, "new", cheap_kdf())
        monkeypatch.undo()
    assert snapshot(root) == before  # no temp file left, header untouched
    with Vault.open(root) as vault:
        vault.unlock(PASS)


def test_disk_full_in_the_key_store_is_store_error_with_nothing_half_written(
    root: Path,
) -> None:
    with Vault.open(root) as capture:
        db = capture._store._db
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")  # the file cannot grow: SQLITE_FULL
        with pytest.raises(StoreError, match="disk full"):
            for bucket in range(1000):
                capture.write_key(bucket)
        stored = capture.key_ids()
        assert bucket not in stored.values()
        assert bucket not in capture._write_keys
        assert all(capture.write_key(b).key_id in stored for b in stored.values())
    with sqlite3.connect(root / "keys.db") as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_missing_or_garbage_key_store_is_vault_corrupt(root: Path) -> None:
    (root / "keys.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(VaultCorrupt, match="keys.db"):
        Vault.open(root)
    (root / "keys.db").unlink()
    with pytest.raises(VaultCorrupt, match="keys.db"):
        Vault.open(root)


def test_closed_vault_refuses_work(root: Path) -> None:
    vault = Vault.open(root)
    vault.close()
    vault.close()
    with pytest.raises(VaultLocked):
        vault.write_key(1)


def test_data_key_repr_hides_the_key() -> None:
    key = DataKey.generate(5)
    assert key.key.hex() not in repr(key)
    assert key.key_id in repr(key)


_WRITER_SCRIPT = """
import sys
from pathlib import Path
from core.vault import Vault
with Vault.open(Path(sys.argv[1])) as capture:
    for bucket in range(60):
        capture.write_key(bucket)
    assert not capture.is_unlocked
print("ok")
"""


def test_a_capture_process_writes_while_another_reads_and_destroys(root: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER_SCRIPT, str(root)],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    destroyed = 0
    with Vault.open(root) as gui:
        gui.unlock(PASS)
        while writer.poll() is None:
            ids = gui.key_ids()
            for key_id in list(ids)[:2]:
                gui.read_key(key_id)
            destroyed += gui.destroy_keys(list(ids)[:2])
        out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        assert out.strip() == "ok"
        remaining = gui.key_ids()
        for key_id in remaining:
            gui.read_key(key_id)
    assert len(remaining) + destroyed == 60
