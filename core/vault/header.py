"""The vault header: non-secret parameters and wrapped keys, as JSON, kept twice.

``vault.header`` and ``vault.header.bak`` hold the same JSON (bytes as standard
base64)::

    {
      "format": "afterimage-vault",
      "schema_version": 1,
      "vault_id": "<32 hex>",
      "kdf": {"algorithm": "argon2id", "salt": b64(16), "memory_kib": int,
              "iterations": int, "lanes": int},
      "master_key": {"nonce": b64(12), "wrapped": b64(48)},
      "capture_public_key": b64(32),
      "capture_private_key": {"nonce": b64(12), "wrapped": b64(48)}
    }

The master-key wrap authenticates ``master_key_ad()``: vault id, schema version,
KDF parameters and capture public key, so editing any of them makes unlock fail.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import VaultCorrupt, VaultNotFound, VaultTooNew

from . import _fs
from .envelope import is_key_id
from .kdf import KdfParams, kdf_params_problem

SCHEMA_VERSION = 1
FORMAT_NAME = "afterimage-vault"
HEADER_NAME = "vault.header"
BACKUP_NAME = "vault.header.bak"
MAX_HEADER_BYTES = 64 * 1024
WRAP_NONCE_BYTES = 12
WRAPPED_KEY_BYTES = 32 + 16


@dataclass(frozen=True)
class WrappedKey:
    """AES-256-GCM ciphertext+tag of a 32-byte key, with its nonce."""

    nonce: bytes
    wrapped: bytes


@dataclass(frozen=True)
class VaultHeader:
    schema_version: int
    vault_id: str
    kdf: KdfParams
    master_key: WrappedKey
    capture_public_key: bytes
    capture_private_key: WrappedKey

    def to_bytes(self) -> bytes:
        doc = {
            "format": FORMAT_NAME,
            "schema_version": self.schema_version,
            "vault_id": self.vault_id,
            "kdf": {
                "algorithm": "argon2id",
                "salt": _b64(self.kdf.salt),
                "memory_kib": self.kdf.memory_kib,
                "iterations": self.kdf.iterations,
                "lanes": self.kdf.lanes,
            },
            "master_key": _wrapped_doc(self.master_key),
            "capture_public_key": _b64(self.capture_public_key),
            "capture_private_key": _wrapped_doc(self.capture_private_key),
        }
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("ascii")


def _lp(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def master_key_ad(schema_version: int, vault_id: str, kdf: KdfParams,
                  capture_public_key: bytes) -> bytes:
    """Associated data of the master-key wrap: every header field that is not a wrap."""
    return b"afterimage/master-key/v1" + b"".join((
        _lp(vault_id.encode("ascii")),
        struct.pack(">I", schema_version),
        _lp(b"argon2id"),
        _lp(kdf.salt),
        struct.pack(">QII", kdf.memory_kib, kdf.iterations, kdf.lanes),
        _lp(capture_public_key),
    ))


def capture_key_ad(vault_id: str, capture_public_key: bytes) -> bytes:
    """Associated data of the capture-private-key wrap (under the master key)."""
    return b"afterimage/capture-key/v1" + _lp(vault_id.encode("ascii")) + _lp(capture_public_key)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _wrapped_doc(w: WrappedKey) -> dict[str, str]:
    return {"nonce": _b64(w.nonce), "wrapped": _b64(w.wrapped)}


class _Bad(Exception):
    """Internal: the header document is malformed (becomes VaultCorrupt)."""


def _field(doc: dict[str, Any], name: str, kind: type) -> Any:
    value = doc.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Bad(f"field {name!r} is missing or not a {kind.__name__}")
    return value


def _bytes_field(doc: dict[str, Any], name: str, size: int) -> bytes:
    text = _field(doc, name, str)
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise _Bad(f"field {name!r} is not base64") from exc
    if len(raw) != size:
        raise _Bad(f"field {name!r} must be {size} bytes")
    return raw


def _wrapped_field(doc: dict[str, Any], name: str) -> WrappedKey:
    sub = _field(doc, name, dict)
    return WrappedKey(nonce=_bytes_field(sub, "nonce", WRAP_NONCE_BYTES),
                      wrapped=_bytes_field(sub, "wrapped", WRAPPED_KEY_BYTES))


def parse_header(data: bytes, name: str = HEADER_NAME) -> VaultHeader:
    """Parse header bytes. Raises only VaultCorrupt or VaultTooNew (naming ``name``)."""
    try:
        if len(data) > MAX_HEADER_BYTES:
            raise _Bad("file is too large")
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError) as exc:  # JSON, UTF-8 and int-size errors
            raise _Bad("not valid JSON") from exc
        if not isinstance(doc, dict):
            raise _Bad("not a JSON object")
        if doc.get("format") != FORMAT_NAME:
            raise _Bad("not an Afterimage vault header")
        version = _field(doc, "schema_version", int)
        if version > SCHEMA_VERSION:
            raise VaultTooNew(
                f"{name} has schema version {version}; this Afterimage supports up to "
                f"{SCHEMA_VERSION}. Update Afterimage to open this vault."
            )
        if version < 1:
            raise _Bad(f"schema version {version} is invalid")
        vault_id = _field(doc, "vault_id", str)
        if not is_key_id(vault_id):
            raise _Bad("vault_id must be 32 lowercase hex characters")
        kdf_doc = _field(doc, "kdf", dict)
        if kdf_doc.get("algorithm") != "argon2id":
            raise _Bad("unsupported key derivation")
        salt = _bytes_field(kdf_doc, "salt", 16)
        memory, iterations, lanes = (_field(kdf_doc, k, int)
                                     for k in ("memory_kib", "iterations", "lanes"))
        problem = kdf_params_problem(salt, memory, iterations, lanes)
        if problem:
            raise _Bad(problem)
        return VaultHeader(
            schema_version=version,
            vault_id=vault_id,
            kdf=KdfParams(salt=salt, memory_kib=memory, iterations=iterations, lanes=lanes),
            master_key=_wrapped_field(doc, "master_key"),
            capture_public_key=_bytes_field(doc, "capture_public_key", 32),
            capture_private_key=_wrapped_field(doc, "capture_private_key"),
        )
    except _Bad as exc:
        raise VaultCorrupt(f"vault header {name} is corrupt: {exc}") from exc


def header_exists(root: Path) -> bool:
    return (root / HEADER_NAME).exists() or (root / BACKUP_NAME).exists()


def _read(path: Path) -> bytes | None:
    """File bytes, or None when it is missing. Over-long files are cut (and fail to parse)."""
    try:
        with path.open("rb") as f:
            return f.read(MAX_HEADER_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise VaultCorrupt(f"cannot read vault header {path.name}: {exc.strerror}") from exc


@dataclass(frozen=True)
class LoadedHeader:
    header: VaultHeader
    raw: bytes
    backup_in_sync: bool  # the backup file holds exactly ``raw``


def load_header(root: Path, *, repair: bool) -> LoadedHeader:
    """Read the header, falling back to the backup copy.

    With ``repair``, a missing or unparseable copy is rewritten from the good one.
    Never writes when either copy is from a newer Afterimage (VaultTooNew).
    A backup that parses but differs from the primary is left alone here: it is
    refreshed only after a passphrase has authenticated the primary.
    """
    primary_path, backup_path = root / HEADER_NAME, root / BACKUP_NAME
    primary_raw, backup_raw = _read(primary_path), _read(backup_path)
    if primary_raw is None and backup_raw is None:
        raise VaultNotFound(f"no vault header in {root}")
    primary_error: VaultCorrupt | None = None
    if primary_raw is not None:
        try:
            header = parse_header(primary_raw, HEADER_NAME)
        except VaultCorrupt as exc:
            primary_error = exc
        else:
            backup_ok = backup_raw is not None and _parses(backup_raw)
            if repair and not backup_ok:
                _fs.atomic_write_private(backup_path, primary_raw)
                backup_raw = primary_raw
            return LoadedHeader(header, primary_raw, backup_raw == primary_raw)
    if backup_raw is None:
        assert primary_error is not None
        raise VaultCorrupt(f"{primary_error} and the backup {BACKUP_NAME} is missing")
    try:
        header = parse_header(backup_raw, BACKUP_NAME)
    except VaultCorrupt as exc:
        first = str(primary_error) if primary_error else f"vault header {HEADER_NAME} is missing"
        raise VaultCorrupt(f"{first}; {exc}") from exc
    if repair:
        _fs.atomic_write_private(primary_path, backup_raw)
    return LoadedHeader(header, backup_raw, True)


def _parses(raw: bytes) -> bool:
    try:
        parse_header(raw, BACKUP_NAME)
    except VaultTooNew:
        raise
    except VaultCorrupt:
        return False
    return True


def write_header(root: Path, header: VaultHeader) -> bytes:
    """Write the primary, then the backup, each atomically. Returns the bytes written."""
    raw = header.to_bytes()
    _fs.atomic_write_private(root / HEADER_NAME, raw)
    _fs.atomic_write_private(root / BACKUP_NAME, raw)
    return raw

