"""The key store: sealed data keys in SQLite ``keys.db`` (SECURITY.md R4, R9).

Schema (``PRAGMA user_version = 1``)::

    CREATE TABLE data_keys (key_id TEXT PRIMARY KEY, bucket INTEGER NOT NULL,
                            sealed BLOB NOT NULL)

``secure_delete=ON`` zeroes deleted rows in the file, ``journal_mode=DELETE``
removes the rollback journal (which briefly holds old pages) after each
transaction, ``synchronous=FULL`` makes a commit durable before it returns.
Several processes may share the file: each transaction is short and waits up to
``BUSY_TIMEOUT_S`` for the others.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import StoreError, VaultCorrupt, VaultTooNew

from . import _fs

KEYSTORE_NAME = "keys.db"
KEYSTORE_VERSION = 1
BUSY_TIMEOUT_S = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS data_keys (
    key_id TEXT PRIMARY KEY,
    bucket INTEGER NOT NULL,
    sealed BLOB NOT NULL
)
"""

_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_FULL_CODE = 13  # SQLITE_FULL


def _translate(exc: sqlite3.Error, action: str) -> Exception:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _CORRUPT_CODES:
        return VaultCorrupt(f"{KEYSTORE_NAME} is corrupt ({action})")
    if code is not None and code & 0xFF == _FULL_CODE:
        return StoreError(f"disk full while {action} in {KEYSTORE_NAME}; nothing was changed")
    name = getattr(exc, "sqlite_errorname", type(exc).__name__)
    return StoreError(f"{KEYSTORE_NAME} failed while {action} ({name})")


class KeyStore:
    """Thread-safe access to one ``keys.db``. Holds sealed keys only, never plaintext keys."""

    def __init__(self, path: Path, *, create: bool) -> None:
        self.path = path
        self._lock = threading.RLock()
        if create:
            _fs.create_private_file(path)
        elif not path.is_file():
            raise VaultCorrupt(f"the key store {KEYSTORE_NAME} is missing from {path.parent}")
        try:
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                       check_same_thread=False)
        except sqlite3.Error as exc:
            raise _translate(exc, "opening") from exc
        try:
            self._configure(create)
        except BaseException:
            self._db.close()
            raise

    def _configure(self, create: bool) -> None:
        with self._errors("opening"):
            self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.execute("PRAGMA synchronous = FULL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > KEYSTORE_VERSION:
                raise VaultTooNew(
                    f"{KEYSTORE_NAME} has version {version}; this Afterimage supports up to "
                    f"{KEYSTORE_VERSION}. Update Afterimage to open this vault."
                )
            mode = self._db.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "delete":
                self._db.execute("PRAGMA journal_mode = DELETE")
            if create:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(_SCHEMA)
                self._db.execute(f"PRAGMA user_version = {KEYSTORE_VERSION}")
                self._db.execute("COMMIT")
            has_table = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'data_keys'"
            ).fetchone()
            if not has_table:
                raise VaultCorrupt(f"{KEYSTORE_NAME} has no data_keys table")

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise _translate(exc, action) from exc

    def count(self) -> int:
        with self._errors("counting keys"):
            return int(self._db.execute("SELECT count(*) FROM data_keys").fetchone()[0])

    def insert(self, key_id: str, bucket: int, sealed: bytes) -> None:
        """Store one sealed key; durable (committed with synchronous=FULL) on return."""
        with self._errors("storing a data key"):
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO data_keys (key_id, bucket, sealed) VALUES (?, ?, ?)",
                (key_id, bucket, sealed),
            )
            self._db.execute("COMMIT")

    def contains(self, key_id: str) -> bool:
        with self._errors("looking up a data key"):
            row = self._db.execute("SELECT 1 FROM data_keys WHERE key_id = ?", (key_id,))
            return row.fetchone() is not None

    def get(self, key_id: str) -> tuple[int, bytes] | None:
        """(bucket, sealed bytes) of a key, or None if unknown or destroyed."""
        with self._errors("reading a data key"):
            row = self._db.execute(
                "SELECT bucket, sealed FROM data_keys WHERE key_id = ?", (key_id,)
            ).fetchone()
        if row is None:
            return None
        bucket, sealed = row
        if not isinstance(bucket, int) or not isinstance(sealed, bytes):
            raise VaultCorrupt(f"data key {key_id} in {KEYSTORE_NAME} has a malformed row")
        return bucket, sealed

    def all_ids(self) -> dict[str, int]:
        with self._errors("listing data keys"):
            rows = self._db.execute("SELECT key_id, bucket FROM data_keys").fetchall()
        return {str(key_id): int(bucket) for key_id, bucket in rows}

    def delete(self, key_ids: Iterable[str]) -> int:
        """Delete keys in one transaction; secure_delete overwrites them in the file."""
        ids = sorted(set(key_ids))
        if not ids:
            return 0
        with self._errors("destroying data keys"):
            self._db.execute("BEGIN IMMEDIATE")
            deleted = 0
            for key_id in ids:
                deleted += self._db.execute(
                    "DELETE FROM data_keys WHERE key_id = ?", (key_id,)
                ).rowcount
            self._db.execute("COMMIT")
            # A no-op in DELETE journal mode; truncates the WAL if someone switched modes.
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return deleted

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error as exc:
                raise _translate(exc, "closing") from exc
