"""The encrypted LanceDB store.

LanceDB has no encryption at rest, so every user-derived value is sealed with
AES-256-GCM before it reaches LanceDB (``core.vault``). What LanceDB sees in
the clear: a random row id, the hour bucket, the data key id and the storage
tier (SECURITY.md R1). Three tables:

``memories``  id, bucket, key_id, tier, payload (sealed JSON), vectors (sealed)
``thumbs``    id, bucket, key_id, data (sealed JPEG thumbnail)
``frames``    id, bucket, key_id, data (sealed full screenshot, WebP/JPEG)

Deletions are made physical: rows are deleted, the surviving rows of every fragment
that held a deleted row are re-written, and every old table version is cleaned up
(``purge``, ``core.shred``).
"""

from __future__ import annotations

import errno
import logging
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from core.errors import DecryptionFailed, KeyMissing, StoreError
from core.records import (
    MemoryRecord,
    bucket_of,
    decode_latent,
    decode_payload,
    decode_vectors,
    encode_payload,
    encode_vectors,
)
from core.shred import shred_deleted
from core.vault import DataKey, FieldRef, Vault, open_field, seal_field

_log = logging.getLogger(__name__)

MEMORIES = "memories"
THUMBS = "thumbs"
FRAMES = "frames"

_MEMORY_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("bucket", pa.int64()),
    ("key_id", pa.string()),
    ("tier", pa.int8()),
    ("payload", pa.binary()),
    ("vectors", pa.binary()),
])
_BLOB_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("bucket", pa.int64()),
    ("key_id", pa.string()),
    ("data", pa.binary()),
])
_SCHEMAS = {MEMORIES: _MEMORY_SCHEMA, THUMBS: _BLOB_SCHEMA, FRAMES: _BLOB_SCHEMA}
TABLES = (MEMORIES, THUMBS, FRAMES)
# Rows per re-write commit when shredding deletions (~10-30 MB each: a memory row is
# ~1.5-3 KB, a thumbnail ~15 KB, a frame 90-300 KB; bench/bench_shred.py).
_SHRED_CHUNK = {MEMORIES: 4096, THUMBS: 1024, FRAMES: 64}
# The sealed (encrypted) columns of each table, for re-keying.
SEALED_COLUMNS = {MEMORIES: ("payload", "vectors"), THUMBS: ("data",), FRAMES: ("data",)}


# LanceDB's default session caches the metadata of every table version it has seen, without
# a useful bound: a writer that appends all day (the capture service: a new version per
# stored memory) grew ~0.2 MB per memory (measured: +27 MB over 120 appends; flat with a
# bounded cache). Bounded here: small in the service, larger where the app reads.
SERVICE_CACHE_BYTES = 8 << 20
APP_CACHE_BYTES = 64 << 20


def lance_session() -> Any:
    from core.inference import background_inference
    from core.lance_import import import_lancedb

    lancedb = import_lancedb()

    size = SERVICE_CACHE_BYTES if background_inference() else APP_CACHE_BYTES
    return lancedb.Session(index_cache_size_bytes=size, metadata_cache_size_bytes=size)


@dataclass(frozen=True)
class NewMemory:
    """A memory ready to be written: record, chunk vectors and encoded images."""

    record: MemoryRecord
    vectors: npt.NDArray[np.float32]
    thumbnail: bytes | None
    frame: bytes | None


@dataclass(frozen=True)
class StoredRow:
    """A memory row as read back (not yet decrypted)."""

    id: str
    bucket: int
    key_id: str
    tier: int
    payload: bytes
    vectors: bytes


@dataclass(frozen=True)
class RowMeta:
    """The plaintext columns of one row of any table (no decryption needed)."""

    table: str
    id: str
    bucket: int
    key_id: str
    tier: int  # -1 for thumbs/frames rows


def _is_disk_full(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if "No space left" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _store_error(action: str, exc: BaseException) -> StoreError:
    if _is_disk_full(exc):
        return StoreError(f"the disk is full: could not {action}. Free some space; nothing "
                          "already stored was lost")
    return StoreError(f"the memory store failed to {action} ({type(exc).__name__})")


def quote_key_ids(ids: Iterable[str]) -> str:
    """A SQL list of key ids (32 lowercase hex characters each)."""
    from core.vault.envelope import is_key_id

    cleaned = []
    for key_id in ids:
        if not is_key_id(key_id):
            raise StoreError("invalid data key id")
        cleaned.append(f"'{key_id}'")
    return ", ".join(cleaned)


def quote_ids(ids: Iterable[str]) -> str:
    return _quote_ids(ids)


def _quote_ids(ids: Iterable[str]) -> str:
    cleaned = []
    for row_id in ids:
        if not row_id.isalnum():
            raise StoreError("invalid memory id")
        cleaned.append(f"'{row_id}'")
    return ", ".join(cleaned)


class EncryptedStore:
    """LanceDB tables whose every user-derived value is sealed by the vault."""

    def __init__(self, root: Path, vault: Vault) -> None:
        self._root = root
        self._vault = vault
        self._db: Any = None
        self._tables: dict[str, Any] = {}

    @property
    def root(self) -> Path:
        return self._root

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self._db is None:
            try:
                from core.lance_import import import_lancedb

                lancedb = import_lancedb()

                self._root.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._db = lancedb.connect(str(self._root), session=lance_session())
            except Exception as exc:  # noqa: BLE001 - lancedb raises many types
                raise _store_error("open", exc) from exc
        return self._db

    def _table(self, name: str, *, create: bool = True) -> Any | None:
        table = self._tables.get(name)
        if table is not None:
            return table
        db = self._connect()
        try:
            listed = name in table_names(self._root)
            if listed and not _has_committed_version(self._root / f"{name}.lance"):
                # A process killed inside create_table leaves a folder with no manifest:
                # LanceDB lists it but cannot open it. It holds no committed row. Readers
                # see an empty table; the writer (the only caller with create=True)
                # removes the remains and creates the table afresh.
                if not create:
                    return None
                _log.warning("store: removing an unfinished table folder (%s)", name)
                shutil.rmtree(self._root / f"{name}.lance")
                listed = False
            if listed:
                table = db.open_table(name)
            elif create:
                table = db.create_table(name, schema=_SCHEMAS[name], exist_ok=True)
            else:
                return None
        except Exception as exc:  # noqa: BLE001
            raise _store_error(f"open table {name}", exc) from exc
        self._tables[name] = table
        return table

    def refresh(self) -> None:
        """See other processes' writes."""
        for table in self._tables.values():
            try:
                table.checkout_latest()
            except Exception as exc:  # noqa: BLE001
                raise _store_error("refresh", exc) from exc

    def version(self) -> int:
        table = self._table(MEMORIES, create=False)
        if table is None:
            return 0
        try:
            table.checkout_latest()
            return int(table.version)
        except Exception as exc:  # noqa: BLE001
            raise _store_error("read the table version", exc) from exc

    # -- writing ----------------------------------------------------------------------------
    def add(self, items: Sequence[NewMemory]) -> list[str]:
        """Seal and append memories. Data keys are durable before any row that uses them."""
        if not items:
            return []
        mem_rows: dict[str, list[Any]] = {k: [] for k in _MEMORY_SCHEMA.names}
        thumb_rows: dict[str, list[Any]] = {k: [] for k in _BLOB_SCHEMA.names}
        frame_rows: dict[str, list[Any]] = {k: [] for k in _BLOB_SCHEMA.names}
        for item in items:
            rec = item.record
            bucket = bucket_of(rec.timestamp)
            key = self._vault.write_key(bucket)
            tier = 0 if item.frame is not None else (1 if item.thumbnail is not None else 2)
            mem_rows["id"].append(rec.id)
            mem_rows["bucket"].append(bucket)
            mem_rows["key_id"].append(key.key_id)
            mem_rows["tier"].append(tier)
            mem_rows["payload"].append(
                seal_field(key, encode_payload(rec), FieldRef(MEMORIES, "payload", rec.id)))
            mem_rows["vectors"].append(
                seal_field(key, encode_vectors(item.vectors), FieldRef(MEMORIES, "vectors",
                                                                       rec.id)))
            for blob_table, rows, blob in ((THUMBS, thumb_rows, item.thumbnail),
                                           (FRAMES, frame_rows, item.frame)):
                if blob is None:
                    continue
                rows["id"].append(rec.id)
                rows["bucket"].append(bucket)
                rows["key_id"].append(key.key_id)
                rows["data"].append(seal_field(key, blob, FieldRef(blob_table, "data",
                                                                   rec.id)))
        # Images first, then the memory row: a crash in between leaves an orphan image
        # (repaired at startup), never a memory that points at nothing.
        for name, rows in ((FRAMES, frame_rows), (THUMBS, thumb_rows), (MEMORIES, mem_rows)):
            if not rows["id"]:
                continue
            target = self._table(name)
            assert target is not None
            try:
                target.add(pa.table(rows, schema=_SCHEMAS[name]))
            except Exception as exc:  # noqa: BLE001
                raise _store_error("write new memories", exc) from exc
        return [item.record.id for item in items]

    # -- reading ----------------------------------------------------------------------------
    def count(self, name: str = MEMORIES) -> int:
        table = self._table(name, create=False)
        if table is None:
            return 0
        try:
            table.checkout_latest()
            return int(table.count_rows())
        except Exception as exc:  # noqa: BLE001
            raise _store_error("count memories", exc) from exc

    def rows(self, *, exclude: set[str] | None = None) -> Iterator[StoredRow]:
        table = self._table(MEMORIES, create=False)
        if table is None:
            return
        try:
            table.checkout_latest()
            data = table.to_arrow()
        except Exception as exc:  # noqa: BLE001
            raise _store_error("read memories", exc) from exc
        cols = {name: data.column(name).to_pylist() for name in _MEMORY_SCHEMA.names}
        for i, row_id in enumerate(cols["id"]):
            if exclude and row_id in exclude:
                continue
            yield StoredRow(id=row_id, bucket=int(cols["bucket"][i]), key_id=cols["key_id"][i],
                            tier=int(cols["tier"][i]), payload=cols["payload"][i],
                            vectors=cols["vectors"][i])

    def ids(self) -> set[str]:
        """Every memory id (reads the id column only)."""
        table = self._table(MEMORIES, create=False)
        if table is None:
            return set()
        try:
            table.checkout_latest()
            column = table.search().select(["id"]).limit(None).to_arrow() \
                .column("id").to_pylist()
        except Exception as exc:  # noqa: BLE001
            raise _store_error("read memory ids", exc) from exc
        return {str(x) for x in column}

    def load_ids(self, ids: Sequence[str]
                 ) -> tuple[list[MemoryRecord], list[npt.NDArray[np.float32]]]:
        """Decrypt the given memories (missing or unreadable ones are left out)."""
        got = self.load_ids_latent(ids)
        return [r for r, _, _ in got], [v for _, v, _ in got]

    def load_ids_latent(self, ids: Sequence[str]
                        ) -> list[tuple[MemoryRecord, npt.NDArray[np.float32],
                                        npt.NDArray[np.float32] | None]]:
        """Decrypt the given memories with their image vectors (unreadable ones left out)."""
        table = self._table(MEMORIES, create=False)
        out: list[tuple[MemoryRecord, npt.NDArray[np.float32],
                        npt.NDArray[np.float32] | None]] = []
        if table is None or not ids:
            return out
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            try:
                table.checkout_latest()
                data = table.search().where(f"id IN ({_quote_ids(chunk)})") \
                    .limit(None).to_arrow().to_pylist()
            except Exception as exc:  # noqa: BLE001
                raise _store_error("read memories", exc) from exc
            for row in data:
                stored = StoredRow(id=row["id"], bucket=int(row["bucket"]), key_id=row["key_id"],
                                   tier=int(row["tier"]), payload=row["payload"],
                                   vectors=row["vectors"])
                try:
                    out.append(self.decrypt_latent(stored))
                except (KeyMissing, DecryptionFailed):
                    continue
        return out

    def update_memories(self, items: Sequence[tuple[MemoryRecord, npt.NDArray[np.float32],
                                                     npt.NDArray[np.float32] | None]]) -> int:
        """Re-seal existing memory rows with a new payload/vectors (captions, image vectors).

        One atomic LanceDB ``merge_insert`` on the id: a crash leaves the old row or the
        new one, never neither. Rows that no longer exist are not recreated.
        """
        table = self._table(MEMORIES, create=False)
        if table is None or not items:
            return 0
        current = {}
        ids = [rec.id for rec, _, _ in items]
        try:
            table.checkout_latest()
            for start in range(0, len(ids), 500):
                got = table.search() \
                    .where(f"id IN ({_quote_ids(ids[start:start + 500])})") \
                    .select(["id", "tier"]).limit(None).to_arrow().to_pylist()
                current.update({r["id"]: int(r["tier"]) for r in got})
        except Exception as exc:  # noqa: BLE001
            raise _store_error("read memories", exc) from exc
        rows: dict[str, list[Any]] = {k: [] for k in _MEMORY_SCHEMA.names}
        for rec, vectors, image in items:
            if rec.id not in current:
                continue
            bucket = bucket_of(rec.timestamp)
            key = self._vault.write_key(bucket)
            rows["id"].append(rec.id)
            rows["bucket"].append(bucket)
            rows["key_id"].append(key.key_id)
            rows["tier"].append(current[rec.id])
            rows["payload"].append(
                seal_field(key, encode_payload(rec), FieldRef(MEMORIES, "payload", rec.id)))
            rows["vectors"].append(seal_field(key, encode_vectors(vectors, image),
                                              FieldRef(MEMORIES, "vectors", rec.id)))
        if not rows["id"]:
            return 0
        try:
            (table.merge_insert("id").when_matched_update_all()
             .execute(pa.table(rows, schema=_MEMORY_SCHEMA)))
        except Exception as exc:  # noqa: BLE001
            raise _store_error("update memories", exc) from exc
        return len(rows["id"])

    def decrypt_latent(self, row: StoredRow) -> tuple[MemoryRecord, npt.NDArray[np.float32],
                                                      npt.NDArray[np.float32] | None]:
        """A row's record, chunk vectors and (when present) CLIP image vector."""
        key = self._vault.read_key(row.key_id)
        record = decode_payload(row.id, open_field(key, row.payload,
                                                   FieldRef(MEMORIES, "payload", row.id)))
        text, image = decode_latent(open_field(key, row.vectors,
                                               FieldRef(MEMORIES, "vectors", row.id)))
        return record, text, image

    def tier_counts(self) -> dict[int, int]:
        table = self._table(MEMORIES, create=False)
        if table is None:
            return {}
        try:
            table.checkout_latest()
            tiers = table.to_arrow().column("tier").to_pylist()
        except Exception as exc:  # noqa: BLE001
            raise _store_error("read memories", exc) from exc
        counts: dict[int, int] = {}
        for tier in tiers:
            counts[int(tier)] = counts.get(int(tier), 0) + 1
        return counts

    def bucket_counts(self) -> dict[int, int]:
        """How many memories each plaintext hour bucket holds (reads one column, no keys)."""
        table = self._table(MEMORIES, create=False)
        if table is None:
            return {}
        try:
            table.checkout_latest()
            column = table.search().select(["bucket"]).limit(None).to_arrow().column("bucket")
        except Exception as exc:  # noqa: BLE001
            raise _store_error("read the timeline", exc) from exc
        import pyarrow.compute as pc

        counts = pc.value_counts(column)
        return {int(v["values"].as_py()): int(v["counts"].as_py()) for v in counts}

    def rows_in_bucket(self, bucket: int) -> list[StoredRow]:
        """The (still sealed) memory rows of one hour bucket, without their vectors."""
        table = self._table(MEMORIES, create=False)
        if table is None:
            return []
        try:
            table.checkout_latest()
            data = table.search().where(f"bucket = {int(bucket)}") \
                .select(["id", "bucket", "key_id", "tier", "payload"]).limit(None).to_arrow()
        except Exception as exc:  # noqa: BLE001
            raise _store_error("read the timeline", exc) from exc
        cols = {name: data.column(name).to_pylist()
                for name in ("id", "bucket", "key_id", "tier", "payload")}
        return [StoredRow(id=row_id, bucket=int(cols["bucket"][i]), key_id=cols["key_id"][i],
                          tier=int(cols["tier"][i]), payload=cols["payload"][i], vectors=b"")
                for i, row_id in enumerate(cols["id"])]

    def row(self, row_id: str) -> StoredRow | None:
        """One sealed memory row by id (without its vectors), or None."""
        table = self._table(MEMORIES, create=False)
        if table is None or not row_id.isalnum():
            return None
        try:
            table.checkout_latest()
            data = table.search().where(f"id = '{row_id}'") \
                .select(["id", "bucket", "key_id", "tier", "payload"]).limit(1).to_arrow()
        except Exception as exc:  # noqa: BLE001
            raise _store_error("read a memory", exc) from exc
        if data.num_rows == 0:
            return None
        return StoredRow(id=row_id, bucket=int(data.column("bucket")[0].as_py()),
                         key_id=data.column("key_id")[0].as_py(),
                         tier=int(data.column("tier")[0].as_py()),
                         payload=data.column("payload")[0].as_py(), vectors=b"")

    def decrypt_record(self, row: StoredRow) -> MemoryRecord:
        """Only the record of a row (no vectors)."""
        key = self._vault.read_key(row.key_id)
        record = decode_payload(row.id, open_field(key, row.payload,
                                                   FieldRef(MEMORIES, "payload", row.id)))
        from dataclasses import replace

        return replace(record, id=row.id)

    def decrypt(self, row: StoredRow) -> tuple[MemoryRecord, npt.NDArray[np.float32]]:
        key = self._vault.read_key(row.key_id)
        record = decode_payload(row.id, open_field(key, row.payload,
                                                   FieldRef(MEMORIES, "payload", row.id)))
        vectors = decode_vectors(open_field(key, row.vectors,
                                            FieldRef(MEMORIES, "vectors", row.id)))
        from dataclasses import replace

        return replace(record, id=row.id), vectors

    def load_all(self, *, exclude: set[str] | None = None
                 ) -> tuple[list[MemoryRecord], list[npt.NDArray[np.float32]], int]:
        """Decrypt every memory (except ``exclude``). Returns records, vectors, unreadable."""
        keys: dict[str, DataKey] = {}
        records: list[MemoryRecord] = []
        vectors: list[npt.NDArray[np.float32]] = []
        unreadable = 0
        for row in self.rows(exclude=exclude):
            try:
                if row.key_id not in keys:
                    keys[row.key_id] = self._vault.read_key(row.key_id)
                rec, vec = self.decrypt(row)
            except (KeyMissing, DecryptionFailed):
                unreadable += 1
                continue
            records.append(rec)
            vectors.append(vec)
        if unreadable:
            _log.warning("skipped %d memories that could not be decrypted", unreadable)
        return records, vectors, unreadable

    def load_records_where(self, where: str) -> list[MemoryRecord]:
        """Decrypt only the memories matching ``where`` (e.g. a bucket range)."""
        data = self.select(MEMORIES, where)
        cols = {name: data.column(name).to_pylist() for name in _MEMORY_SCHEMA.names}
        records = []
        for i, row_id in enumerate(cols["id"]):
            row = StoredRow(id=row_id, bucket=int(cols["bucket"][i]), key_id=cols["key_id"][i],
                            tier=int(cols["tier"][i]), payload=cols["payload"][i],
                            vectors=cols["vectors"][i])
            try:
                key = self._vault.read_key(row.key_id)
                records.append(decode_payload(row.id, open_field(
                    key, row.payload, FieldRef(MEMORIES, "payload", row.id))))
            except (KeyMissing, DecryptionFailed):
                continue
        return records

    def blob(self, name: str, row_id: str) -> bytes | None:
        """The decrypted thumbnail or frame of a memory, or None if not kept."""
        table = self._table(name, create=False)
        if table is None:
            return None
        try:
            table.checkout_latest()
            found = table.search().where(f"id = '{row_id}'").limit(1).to_arrow() \
                if row_id.isalnum() else None
        except Exception as exc:  # noqa: BLE001
            raise _store_error("read an image", exc) from exc
        if found is None or found.num_rows == 0:
            return None
        key = self._vault.read_key(found.column("key_id")[0].as_py())
        return open_field(key, found.column("data")[0].as_py(), FieldRef(name, "data", row_id))

    # -- deleting ---------------------------------------------------------------------------
    def delete_ids(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        deleted = 0
        for name in (MEMORIES, THUMBS, FRAMES):
            table = self._table(name, create=False)
            if table is None:
                continue
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                try:
                    before = table.count_rows()
                    table.delete(f"id IN ({_quote_ids(chunk)})")
                    if name == MEMORIES:
                        deleted += before - table.count_rows()
                except Exception as exc:  # noqa: BLE001
                    raise _store_error("delete memories", exc) from exc
        return deleted

    def purge(self) -> None:
        """Make deletions physical: re-write the survivors of every fragment that holds
        deleted rows and drop every old version (``core.shred``, docs/security.md)."""
        for name in (MEMORIES, THUMBS, FRAMES):
            table = self._table(name, create=False)
            if table is None:
                continue
            try:
                shred_deleted(table, self._root / f"{name}.lance", chunk=_SHRED_CHUNK[name])
            except Exception as exc:  # noqa: BLE001
                raise _store_error("remove deleted data from disk", exc) from exc

    def drop_everything(self) -> None:
        """Remove every table and its files (forget everything)."""
        db = self._connect()
        try:
            for name in table_names(self._root):
                db.drop_table(name)
        except Exception as exc:  # noqa: BLE001
            raise _store_error("delete the memory tables", exc) from exc
        self._tables.clear()
        # Anything LanceDB left behind (transaction files, stray folders) goes too.
        for child in self._root.iterdir() if self._root.exists() else ():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=False)
            else:
                child.unlink()

    def bytes_on_disk(self) -> int:
        return _dir_size(self._root)

    # -- primitives for forget, repair and retention (core/forget.py, repair.py, ...) -------
    def row_meta(self, name: str) -> list[RowMeta]:
        """id, bucket, key_id (and tier) of every row of ``name``; reads no sealed column."""
        table = self._table(name, create=False)
        if table is None:
            return []
        columns = ["id", "bucket", "key_id"] + (["tier"] if name == MEMORIES else [])
        try:
            table.checkout_latest()
            data = table.search().select(columns).limit(None).to_arrow()
        except Exception as exc:  # noqa: BLE001
            raise _store_error(f"read {name}", exc) from exc
        ids = data.column("id").to_pylist()
        buckets = data.column("bucket").to_pylist()
        keys = data.column("key_id").to_pylist()
        tiers = data.column("tier").to_pylist() if name == MEMORIES else [-1] * len(ids)
        return [RowMeta(name, str(i), int(b), str(k), int(t))
                for i, b, k, t in zip(ids, buckets, keys, tiers, strict=True)]

    def select(self, name: str, where: str) -> pa.Table:
        """Every column of the rows of ``name`` matching ``where`` (still sealed)."""
        table = self._table(name, create=False)
        if table is None:
            return _SCHEMAS[name].empty_table()
        try:
            table.checkout_latest()
            data = table.search().where(where).limit(None).to_arrow()
            return data.select(_SCHEMAS[name].names).cast(_SCHEMAS[name])
        except Exception as exc:  # noqa: BLE001
            raise _store_error(f"read {name}", exc) from exc

    def upsert(self, name: str, rows: pa.Table) -> None:
        """Replace rows by id in one atomic commit of ``name`` (used to re-key)."""
        if rows.num_rows == 0:
            return
        table = self._table(name)
        assert table is not None
        try:
            (table.merge_insert("id").when_matched_update_all()
             .when_not_matched_insert_all().execute(rows.cast(_SCHEMAS[name])))
        except Exception as exc:  # noqa: BLE001
            raise _store_error("re-encrypt memories", exc) from exc

    def delete_where(self, name: str, where: str) -> None:
        table = self._table(name, create=False)
        if table is None:
            return
        try:
            table.delete(where)
        except Exception as exc:  # noqa: BLE001
            raise _store_error("delete memories", exc) from exc

    def set_tier(self, where: str, tier: int) -> None:
        """Set the storage tier of the memories matching ``where`` (plaintext column)."""
        table = self._table(MEMORIES, create=False)
        if table is None:
            return
        try:
            table.update(where=where, values={"tier": tier})
        except Exception as exc:  # noqa: BLE001
            raise _store_error("record a storage tier", exc) from exc

    def table_bytes(self, name: str) -> int:
        """Bytes on disk of one table (all files of its folder)."""
        return _dir_size(self._root / f"{name}.lance")

    def close(self) -> None:
        self._tables.clear()
        self._db = None


def table_names(root: Path) -> list[str]:
    """The tables in a LanceDB folder: its ``<name>.lance`` folders, which is what LanceDB's
    ``list_tables`` reports for a local folder (read here without it: it builds a namespace
    client model, core/lance_import.py)."""
    try:
        return sorted(p.name[:-len(".lance")] for p in root.iterdir()
                      if p.name.endswith(".lance") and p.is_dir())
    except FileNotFoundError:
        return []


def _has_committed_version(table_dir: Path) -> bool:
    """True once LanceDB has written the table's first manifest (its commit point)."""
    versions = table_dir / "_versions"
    try:
        return any(p.name.endswith(".manifest") for p in versions.iterdir())
    except FileNotFoundError:
        return False


def _dir_size(path: Path) -> int:
    if not path.exists():
        return 0
    total = 0
    for p in path.rglob("*"):
        try:
            if p.is_file():
                total += p.stat().st_size
        except OSError:
            continue
    return total


def dir_size(path: Path) -> int:
    return _dir_size(path)
