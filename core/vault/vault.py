"""The vault: passphrase -> master key -> capture key pair -> data keys (SECURITY.md R2-R5, R9).

A ``Vault`` is opened locked. Writing (``write_key``) needs only the capture public
key, so the capture service works while the vault is locked and can never read
the archive; reading (``read_key``) needs ``unlock``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from types import TracebackType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import (
    KeyMissing,
    VaultCorrupt,
    VaultExists,
    VaultLocked,
    VaultNotFound,
    WrongPassphrase,
)

from . import _fs
from .envelope import KEY_ID_BYTES, DataKey, is_key_id
from .header import (
    BACKUP_NAME,
    HEADER_NAME,
    SCHEMA_VERSION,
    VaultHeader,
    WrappedKey,
    capture_key_ad,
    header_exists,
    load_header,
    master_key_ad,
    write_header,
)
from .kdf import KdfParams
from .keystore import KEYSTORE_NAME, KeyStore
from .sealing import open_data_key, public_bytes, seal_data_key

MASTER_KEY_BYTES = 32
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0

Sleep = Callable[[float], None]


class UnlockBackoff:
    """Failed-unlock delay (R5): 1 s after the first failure, doubling, capped at 30 s.

    One instance per process and vault id (``_BACKOFF``), so opening a new Vault object
    does not reset it. Nothing is persisted.
    """

    def __init__(self) -> None:
        self.failures = 0

    def delay(self) -> float:
        if self.failures == 0:
            return 0.0
        doubled: float = BACKOFF_FIRST_S * 2.0 ** min(self.failures - 1, 16)
        return min(BACKOFF_MAX_S, doubled)


_BACKOFF: dict[str, UnlockBackoff] = {}  # vault_id -> counter; holds no key material
_BACKOFF_LOCK = threading.Lock()


def _backoff_for(vault_id: str) -> UnlockBackoff:
    with _BACKOFF_LOCK:
        return _BACKOFF.setdefault(vault_id, UnlockBackoff())


def _wrap(key: bytes, plaintext: bytes, ad: bytes) -> WrappedKey:
    nonce = os.urandom(12)
    return WrappedKey(nonce=nonce, wrapped=AESGCM(key).encrypt(nonce, plaintext, ad))


def _unwrap(key: bytes, wrapped: WrappedKey, ad: bytes) -> bytes:
    """Raises InvalidTag when ``key`` or ``ad`` is wrong."""
    return AESGCM(key).decrypt(wrapped.nonce, wrapped.wrapped, ad)


def _wipe(buf: bytearray | None) -> None:
    if buf is not None:
        for i in range(len(buf)):
            buf[i] = 0


class Vault:
    """One vault folder: ``vault.header``, ``vault.header.bak``, ``keys.db``."""

    def __init__(self, root: Path, header: VaultHeader, header_raw: bytes, backup_in_sync: bool,
                 store: KeyStore, sleep: Sleep) -> None:
        """Use ``Vault.create`` or ``Vault.open``."""
        self._root = root
        self._header = header
        self._header_raw = header_raw
        self._backup_in_sync = backup_in_sync
        self._store = store
        self._sleep = sleep
        self._lock = threading.RLock()
        # Secrets: present only while unlocked.
        self._master_key: bytearray | None = None
        self._capture_private_key: X25519PrivateKey | None = None
        self._read_keys: dict[str, DataKey] = {}
        # Keys this process created for writing; kept across lock() (the capture service
        # writes while locked, and these were never protected by the passphrase anyway).
        self._write_keys: dict[int, DataKey] = {}
        self._closed = False

    # ----------------------------------------------------------------- lifecycle
    @staticmethod
    def exists(root: Path) -> bool:
        return header_exists(Path(root))

    @classmethod
    def create(cls, root: Path, passphrase: str, kdf: KdfParams, *,
               sleep: Sleep = time.sleep) -> Vault:
        """Create a vault in ``root`` (made 0700) and return it unlocked."""
        _fs.disable_core_dumps()
        root = Path(root)
        if header_exists(root):
            raise VaultExists(f"a vault already exists in {root}")
        _fs.ensure_private_dir(root)
        keys_path = root / KEYSTORE_NAME
        if keys_path.exists():
            # Left over by a create that crashed before writing the header: reuse it only
            # if it holds no keys.
            leftover = KeyStore(keys_path, create=True)
            try:
                if leftover.count():
                    raise VaultExists(f"{root} has a {KEYSTORE_NAME} with keys but no header")
            finally:
                leftover.close()

        master = bytearray(os.urandom(MASTER_KEY_BYTES))
        capture = X25519PrivateKey.generate()
        capture_pub = public_bytes(capture.public_key())
        vault_id = os.urandom(KEY_ID_BYTES).hex()
        capture_raw = capture.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        kek = kdf.derive(passphrase)
        header = VaultHeader(
            schema_version=SCHEMA_VERSION,
            vault_id=vault_id,
            kdf=kdf,
            master_key=_wrap(kek, bytes(master),
                             master_key_ad(SCHEMA_VERSION, vault_id, kdf, capture_pub)),
            capture_public_key=capture_pub,
            capture_private_key=_wrap(bytes(master), capture_raw,
                                      capture_key_ad(vault_id, capture_pub)),
        )
        store = KeyStore(keys_path, create=True)  # before the header: exists() => keys.db
        try:
            raw = write_header(root, header)
        except BaseException:
            store.close()
            raise
        vault = cls(root, header, raw, True, store, sleep)
        vault._master_key = master
        vault._capture_private_key = capture
        return vault

    @classmethod
    def open(cls, root: Path, *, sleep: Sleep = time.sleep) -> Vault:
        """Open a vault locked. Repairs a missing/corrupt header copy from the other one."""
        root = Path(root)
        if not root.is_dir() or not header_exists(root):
            raise VaultNotFound(f"no vault in {root} (run `afterimage init`)")
        loaded = load_header(root, repair=True)
        store = KeyStore(root / KEYSTORE_NAME, create=False)
        return cls(root, loaded.header, loaded.raw, loaded.backup_in_sync, store, sleep)

    def close(self) -> None:
        """Lock, forget the write keys and close the key store. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self.lock()
            self._write_keys.clear()
            self._closed = True
            self._store.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------- state
    @property
    def vault_id(self) -> str:
        return self._header.vault_id

    @property
    def root(self) -> Path:
        return self._root

    @property
    def is_unlocked(self) -> bool:
        return self._master_key is not None

    @property
    def kdf(self) -> KdfParams:
        return self._header.kdf

    @property
    def capture_public_key(self) -> bytes:
        """The capture public key (raw X25519, public): anything sealed to it needs unlock."""
        return self._header.capture_public_key

    def capture_exchange(self, peer_public: bytes) -> bytes:
        """X25519 shared secret of the capture private key with ``peer_public``.

        Lets callers open blobs sealed to the capture key without the key leaving the vault.
        """
        with self._lock:
            self._check_open()
            if self._capture_private_key is None:
                raise VaultLocked("the vault is locked")
            return self._capture_private_key.exchange(
                X25519PublicKey.from_public_bytes(peer_public))

    # ------------------------------------------------------------ lock/unlock
    def _unwrap_master(self, header: VaultHeader, passphrase: str) -> bytearray:
        """Derive the KEK and unwrap the master key, applying the failed-attempt back-off."""
        backoff = _backoff_for(header.vault_id)
        delay = backoff.delay()
        if delay:
            self._sleep(delay)
        kek = header.kdf.derive(passphrase)
        ad = master_key_ad(header.schema_version, header.vault_id, header.kdf,
                           header.capture_public_key)
        try:
            master = bytearray(_unwrap(kek, header.master_key, ad))
        except InvalidTag as exc:
            backoff.failures += 1
            raise WrongPassphrase(
                "wrong passphrase (or the vault header was modified); nothing was changed"
            ) from exc
        backoff.failures = 0
        return master

    def unlock(self, passphrase: str) -> None:
        """Unlock with ``passphrase``. WrongPassphrase changes nothing on disk."""
        _fs.disable_core_dumps()
        with self._lock:
            self._check_open()
            # Re-read (never repair) the header: another process may have changed the
            # passphrase since open().
            loaded = load_header(self._root, repair=False)
            if loaded.header.vault_id != self.vault_id:
                raise VaultCorrupt(f"{HEADER_NAME} now belongs to a different vault")
            master = self._unwrap_master(loaded.header, passphrase)
            header = loaded.header
            try:
                raw_private = _unwrap(bytes(master), header.capture_private_key,
                                      capture_key_ad(header.vault_id, header.capture_public_key))
            except InvalidTag as exc:
                _wipe(master)
                raise VaultCorrupt(
                    f"{HEADER_NAME}: the capture key does not match the master key"
                ) from exc
            capture = X25519PrivateKey.from_private_bytes(raw_private)
            if public_bytes(capture.public_key()) != header.capture_public_key:
                _wipe(master)
                raise VaultCorrupt(f"{HEADER_NAME}: capture key pair does not match")
            self._header, self._header_raw = header, loaded.raw
            if self._master_key is not None:
                _wipe(self._master_key)
            self._master_key = master
            self._capture_private_key = capture
            if not loaded.backup_in_sync:
                # The primary is now authenticated by the passphrase: refresh the backup
                # (e.g. after a crash between the two writes of change_passphrase).
                _fs.atomic_write_private(self._root / BACKUP_NAME, loaded.raw)

    def lock(self) -> None:
        """Drop the master key, the capture private key and every key unsealed for reading.

        Keys this process created with write_key stay (see class notes); bytearrays
        are overwritten, but Python cannot guarantee no other copy exists in memory.
        """
        with self._lock:
            _wipe(self._master_key)
            self._master_key = None
            self._capture_private_key = None
            self._read_keys.clear()

    def change_passphrase(self, old: str, new: str, kdf: KdfParams) -> None:
        """Re-wrap the master key under ``new`` with ``kdf``; keys.db is not touched."""
        with self._lock:
            self._check_open()
            loaded = load_header(self._root, repair=False)
            if loaded.header.vault_id != self.vault_id:
                raise VaultCorrupt(f"{HEADER_NAME} now belongs to a different vault")
            header = loaded.header
            master = self._unwrap_master(header, old)
            try:
                kek = kdf.derive(new)
                updated = replace(
                    header,
                    kdf=kdf,
                    master_key=_wrap(kek, bytes(master), master_key_ad(
                        header.schema_version, header.vault_id, kdf,
                        header.capture_public_key)),
                )
                self._header_raw = write_header(self._root, updated)
                self._header = updated
            finally:
                _wipe(master)

    # ----------------------------------------------------------------- writing
    def write_key(self, bucket: int) -> DataKey:
        """This process's data key for ``bucket``; durable in keys.db before it is returned.

        Works while locked. If another process destroyed it (forget), a new one is made.
        """
        with self._lock:
            self._check_open()
            key = self._write_keys.get(bucket)
            if key is not None and self._store.contains(key.key_id):
                return key
            key = DataKey.generate(bucket)
            sealed = seal_data_key(self.vault_id, self._header.capture_public_key, key)
            self._store.insert(key.key_id, key.bucket, sealed)
            self._write_keys[bucket] = key
            return key

    def new_data_key(self, bucket: int) -> DataKey:
        """A fresh data key for ``bucket``, durable in keys.db before it is returned.

        Used to re-key a partly forgotten bucket: unlike ``write_key`` it never returns
        an existing key and does not become this process's write key.
        """
        with self._lock:
            self._check_open()
            key = DataKey.generate(bucket)
            sealed = seal_data_key(self.vault_id, self._header.capture_public_key, key)
            self._store.insert(key.key_id, key.bucket, sealed)
            if self._capture_private_key is not None:
                self._read_keys[key.key_id] = key
            return key

    # ----------------------------------------------------------------- reading
    def read_key(self, key_id: str) -> DataKey:
        """The data key ``key_id``. Needs unlock, except for this process's own write keys."""
        with self._lock:
            self._check_open()
            for own in self._write_keys.values():
                if own.key_id == key_id:
                    return own
            if self._capture_private_key is None:
                raise VaultLocked("the vault is locked; unlock it to read memories")
            cached = self._read_keys.get(key_id)
            if cached is not None:
                return cached
            row = self._store.get(key_id) if is_key_id(key_id) else None
            if row is None:
                raise KeyMissing(f"data key {key_id} does not exist (forgotten or never stored)")
            bucket, sealed = row
            key = open_data_key(self.vault_id, self._capture_private_key, key_id, bucket, sealed)
            self._read_keys[key_id] = key
            return key

    def own_write_key_ids(self) -> set[str]:
        """Ids of the keys this process created for writing (repair must not touch them)."""
        with self._lock:
            return {k.key_id for k in self._write_keys.values()}

    def key_ids(self) -> dict[str, int]:
        """key_id -> bucket of every live key in the store (works while locked)."""
        with self._lock:
            self._check_open()
            return self._store.all_ids()

    # --------------------------------------------------------------- forgetting
    def destroy_keys(self, key_ids: Iterable[str]) -> int:
        """Delete keys irrecoverably from keys.db; returns how many existed."""
        ids = set(key_ids)
        with self._lock:
            self._check_open()
            count = self._store.delete(ids)
            for key_id in ids:
                self._read_keys.pop(key_id, None)
            for bucket in [b for b, k in self._write_keys.items() if k.key_id in ids]:
                del self._write_keys[bucket]
            return count

    def _check_open(self) -> None:
        if self._closed:
            raise VaultLocked("the vault has been closed")

    def __repr__(self) -> str:
        state = "unlocked" if self.is_unlocked else "locked"
        return f"Vault({str(self._root)!r}, id={self.vault_id}, {state})"

