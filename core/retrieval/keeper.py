"""Keeps the in-memory index in step with the encrypted store, via the sealed snapshot.

At the first search after unlock: load the snapshot (one read, one decrypt) if its key
is still alive, else rebuild from the store; then add memories the store has and the
index lacks (new captures: searchable at the next query) and drop those it no longer
has. Records (OCR text, titles) are decrypted on demand for the hits shown.

At lock/close the index is sealed to a new snapshot when it changed. Whenever
memories leave the index (forget), the snapshot file is deleted and its key
destroyed first, so no copy of a forgotten vector survives under a live key (R7).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt

from core.errors import AfterimageError, DecryptionFailed, KeyMissing
from core.index import MemoryIndex
from core.memtrim import return_freed_memory
from core.records import MemoryRecord
from core.retrieval.latent import FusionConfig, LatentIndex
from core.retrieval.snapshot import (
    discard_snapshot,
    read_snapshot,
    snapshot_key_id,
    write_snapshot,
)
from core.store import EncryptedStore
from core.vault import Vault

_log = logging.getLogger(__name__)

# Snapshot data keys live in keys.db under this reserved hour bucket (1970-01-01 00:00),
# which no capture can use. Destroying the key (retention, repair) only costs a rebuild.
SNAPSHOT_BUCKET = 0
SNAPSHOT_FILE = "index.snapshot"


class IndexKeeper:
    def __init__(self, store: EncryptedStore, vault: Vault, folder: Path, dim: int, *,
                 image_dim: int = 0, fusion: FusionConfig | None = None) -> None:
        self._store = store
        self._vault = vault
        self._lock = threading.RLock()
        self.path = folder / SNAPSHOT_FILE
        self._dim = dim
        self._image_dim = image_dim
        self._fusion = fusion
        self.index: MemoryIndex | None = None
        self._version = -1
        self.loaded_from_snapshot = False

    def _load_records(self, ids: list[str]) -> list[MemoryRecord]:
        records, _ = self._store.load_ids(ids)
        return records

    def _load_latent(self, new: list[str], known: set[str]
                     ) -> list[tuple[MemoryRecord, npt.NDArray[np.float32],
                                     npt.NDArray[np.float32] | None]]:
        if len(new) <= 2000:
            return self._store.load_ids_latent(new)
        out = []
        unreadable = 0
        for row in self._store.rows(exclude=known):
            try:
                out.append(self._store.decrypt_latent(row))
            except (KeyMissing, DecryptionFailed):
                unreadable += 1
        if unreadable:
            _log.warning("skipped %d memories that could not be decrypted", unreadable)
        return out

    def _from_snapshot(self) -> MemoryIndex | None:
        key_id = snapshot_key_id(self.path)
        if key_id is None:
            return None
        try:
            key = self._vault.read_key(key_id)
            latent = LatentIndex.from_state(read_snapshot(self.path, key), self._fusion)
        except (KeyMissing, DecryptionFailed) as exc:
            _log.warning("index snapshot unusable (%s); rebuilding", type(exc).__name__)
            self.discard()
            return None
        except AfterimageError as exc:
            _log.warning("index snapshot unreadable (%s); rebuilding", type(exc).__name__)
            return None
        if latent.text_dim != self._dim or latent.image_dim != self._image_dim:
            self.discard()  # another text/image model: vectors are not comparable
            return None
        self.loaded_from_snapshot = True
        index = MemoryIndex.from_latent(latent, self._load_records, self._fusion)
        return_freed_memory()  # the decrypt buffers and build temporaries
        return index

    def ensure(self) -> MemoryIndex:
        with self._lock:  # two workers must not bring the index up to date at once
            return self._ensure()

    def _ensure(self) -> MemoryIndex:
        version = self._store.version()
        if self.index is None:
            self.index = self._from_snapshot() or MemoryIndex(
                self._dim, image_dim=self._image_dim, fusion=self._fusion,
                loader=self._load_records)
            self.index.on_remove.append(self.discard)
            self._version = -1
        if version != self._version:
            index = self.index
            live = self._store.ids()
            known = index.ids()
            gone = [i for i in known if i not in live]
            if gone:
                index.remove(gone)  # on_remove discards the snapshot first
            new = [i for i in live if i not in known]
            if new:
                got = self._load_latent(new, known)
                images = [img if img is not None and img.shape[0] == self._image_dim else None
                          for _, _, img in got]
                index.add([r for r, _, _ in got], [v for _, v, _ in got], images)
            self._version = version
        return self.index

    def save(self) -> bool:
        """Seal the index to disk if it changed since it was loaded (needs unlock)."""
        index = self.index
        if index is None or index.mutations == 0 or not self._vault.is_unlocked:
            return False
        old = snapshot_key_id(self.path)
        # A fresh key per snapshot that never becomes a cached write key: this runs at lock,
        # and a key still held after lock would decrypt every vector in the snapshot.
        key = self._vault.new_data_key(SNAPSHOT_BUCKET)
        write_snapshot(self.path, key, index.latent.state())
        if old is not None and old != key.key_id:
            self._vault.destroy_keys([old])
        index.mutations = 0
        return True

    def discard(self) -> None:
        """Delete the snapshot and destroy its key (after forget)."""
        key_id = discard_snapshot(self.path)
        if key_id is not None:
            self._vault.destroy_keys([key_id])

    def drop(self) -> None:
        """Forget the decrypted index (lock)."""
        with self._lock:
            if self.index is not None:
                self.index.clear()
            self.index = None
            self._version = -1
            self.loaded_from_snapshot = False
