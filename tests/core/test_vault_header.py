"""Vault header: tampering, backup copy and repair, newer versions, fuzzing (R2, T2, T8)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import VaultCorrupt, VaultTooNew, WrongPassphrase
from core.vault import KdfParams, Vault
from core.vault.header import parse_header

PASS = "hunter2 but longer"


def cheap_kdf() -> KdfParams:
    return KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1)


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.iterdir())
        if p.is_file()
    }


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "vault"
    with Vault.create(path, PASS, cheap_kdf()) as vault:
        vault.write_key(1)
    yield path


def edit_both(root: Path, change: Any) -> None:
    for name in ("vault.header", "vault.header.bak"):
        doc = json.loads((root / name).read_text())
        change(doc)
        (root / name).write_text(json.dumps(doc))


def new_public_key() -> str:
    raw = X25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode()


TAMPERING = {
    "iterations": lambda d: d["kdf"].__setitem__("iterations", d["kdf"]["iterations"] + 1),
    "memory": lambda d: d["kdf"].__setitem__("memory_kib", 16384),
    "lanes": lambda d: d["kdf"].__setitem__("lanes", 2),
    "salt": lambda d: d["kdf"].__setitem__("salt", base64.b64encode(os.urandom(16)).decode()),
    "public_key": lambda d: d.__setitem__("capture_public_key", new_public_key()),
    "vault_id": lambda d: d.__setitem__("vault_id", os.urandom(16).hex()),
}


@pytest.mark.parametrize("field", sorted(TAMPERING))
def test_tampered_header_field_makes_unlock_fail(root: Path, field: str) -> None:
    edit_both(root, TAMPERING[field])
    before = snapshot(root)
    with Vault.open(root, sleep=lambda s: None) as vault:
        # Documented choice: AES-GCM cannot tell a wrong passphrase from edited
        # parameters, so both are WrongPassphrase.
        with pytest.raises(WrongPassphrase):
            vault.unlock(PASS)
        assert not vault.is_unlocked
    assert snapshot(root) == before


def test_tampered_capture_private_key_is_vault_corrupt(root: Path) -> None:
    def flip(doc: dict[str, Any]) -> None:
        raw = bytearray(base64.b64decode(doc["capture_private_key"]["wrapped"]))
        raw[0] ^= 1
        doc["capture_private_key"]["wrapped"] = base64.b64encode(bytes(raw)).decode()

    edit_both(root, flip)
    with Vault.open(root) as vault, pytest.raises(VaultCorrupt):
        vault.unlock(PASS)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "delete", "empty"])
def test_bad_primary_with_good_backup_opens_and_repairs(root: Path, damage: str) -> None:
    primary, backup = root / "vault.header", root / "vault.header.bak"
    good = backup.read_bytes()
    if damage == "truncate":
        primary.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        primary.write_bytes(os.urandom(300))
    elif damage == "delete":
        primary.unlink()
    else:
        primary.write_bytes(b"")
    with Vault.open(root) as vault:
        assert primary.read_bytes() == good
        vault.unlock(PASS)


def test_bad_backup_is_repaired_from_good_primary(root: Path) -> None:
    primary, backup = root / "vault.header", root / "vault.header.bak"
    backup.write_bytes(b"{")
    Vault.open(root).close()
    assert backup.read_bytes() == primary.read_bytes()


def test_both_headers_bad_is_vault_corrupt_and_touches_nothing(root: Path) -> None:
    (root / "vault.header").write_bytes(b'{"format": "afterimage-vault"')
    (root / "vault.header.bak").write_bytes(b"\x00" * 50)
    before = snapshot(root)
    with pytest.raises(VaultCorrupt) as info:
        Vault.open(root)
    assert "vault.header" in str(info.value) and "vault.header.bak" in str(info.value)
    assert snapshot(root) == before


@pytest.mark.parametrize("where", ["both", "primary", "backup_only"])
def test_newer_schema_version_is_vault_too_new_and_touches_nothing(
    root: Path, where: str
) -> None:
    def bump(name: str) -> None:
        doc = json.loads((root / name).read_text())
        doc["schema_version"] = 2
        (root / name).write_text(json.dumps(doc))

    if where in ("both", "primary"):
        bump("vault.header")
    if where in ("both", "backup_only"):
        bump("vault.header.bak")
    if where == "backup_only":
        (root / "vault.header").write_bytes(b"damaged")
    before = snapshot(root)
    with pytest.raises(VaultTooNew, match="Update Afterimage"):
        Vault.open(root)
    assert snapshot(root) == before


def test_stale_backup_is_refreshed_only_after_an_authenticated_unlock(root: Path) -> None:
    primary, backup = root / "vault.header", root / "vault.header.bak"
    old = backup.read_bytes()
    with Vault.open(root) as vault:
        vault.change_passphrase(PASS, "new one", cheap_kdf())
    backup.write_bytes(old)  # as if we crashed between the primary and backup writes
    with Vault.open(root, sleep=lambda s: None) as vault:
        assert backup.read_bytes() == old  # open() does not pick a winner
        with pytest.raises(WrongPassphrase):
            vault.unlock(PASS)
        assert backup.read_bytes() == old  # a failed unlock writes nothing
        vault.unlock("new one")
    assert backup.read_bytes() == primary.read_bytes()


def test_valid_header_round_trips(root: Path) -> None:
    raw = (root / "vault.header").read_bytes()
    assert parse_header(raw).to_bytes() == raw


# ------------------------------------------------------------------ fuzzing (T8)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _parse_only_vault_errors(data: bytes) -> None:
    try:
        parse_header(data)
    except (VaultCorrupt, VaultTooNew):
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_parse_header_on_arbitrary_bytes_raises_only_vault_errors(data: bytes) -> None:
    _parse_only_vault_errors(data)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_parse_header_on_arbitrary_json_raises_only_vault_errors(value: Any) -> None:
    _parse_only_vault_errors(json.dumps(value).encode())


def b64(n: int) -> str:
    return base64.b64encode(os.urandom(n)).decode()


def _valid_doc() -> dict[str, Any]:
    return {
        "format": "afterimage-vault",
        "schema_version": 1,
        "vault_id": os.urandom(16).hex(),
        "kdf": {"algorithm": "argon2id", "salt": b64(16), "memory_kib": 8192,
                "iterations": 1, "lanes": 4},
        "master_key": {"nonce": b64(12), "wrapped": b64(48)},
        "capture_public_key": b64(32),
        "capture_private_key": {"nonce": b64(12), "wrapped": b64(48)},
    }


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from([
        ("format",), ("schema_version",), ("vault_id",), ("kdf",), ("kdf", "algorithm"),
        ("kdf", "salt"), ("kdf", "memory_kib"), ("kdf", "iterations"), ("kdf", "lanes"),
        ("master_key",), ("master_key", "nonce"), ("master_key", "wrapped"),
        ("capture_public_key",), ("capture_private_key", "wrapped"),
    ]),
    value=json_values | st.integers(min_value=-(2**70), max_value=2**70),
    delete=st.booleans(),
)
def test_parse_header_with_one_field_mutated_raises_only_vault_errors(
    path: tuple[str, ...], value: Any, delete: bool
) -> None:
    doc = _valid_doc()
    target = doc
    for part in path[:-1]:
        target = target[part]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    _parse_only_vault_errors(json.dumps(doc).encode())


def test_huge_kdf_cost_in_header_is_refused_as_corrupt() -> None:
    doc = _valid_doc()
    doc["kdf"]["memory_kib"] = 2**40
    with pytest.raises(VaultCorrupt, match="memory_kib"):
        parse_header(json.dumps(doc).encode())
    doc = _valid_doc()
    doc["kdf"]["iterations"] = True
    with pytest.raises(VaultCorrupt):
        parse_header(json.dumps(doc).encode())


def test_deeply_nested_json_is_corrupt_not_recursion_error() -> None:
    with pytest.raises(VaultCorrupt):
        parse_header(b"[" * 30_000 + b"]" * 30_000)
