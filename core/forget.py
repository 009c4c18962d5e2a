"""Forgetting that is real (SECURITY.md R7).

A forget is planned first (:func:`plan_by_records` or :func:`plan_by_buckets`), shown to
the user, then carried out by :func:`execute_forget`:

1. A small journal (``state/forget-pending.json``: random row ids, hour buckets and key ids
   only, never content) records what is being forgotten, so that startup repair
   (:mod:`core.repair`) can finish a forget that was interrupted.
2. The rows are deleted from ``memories``, ``thumbs`` and ``frames``.
3. Every data key the forgotten rows used is dealt with:
   - a key none of whose rows survive is destroyed;
   - a key that also encrypts surviving rows (a *partly* forgotten bucket) is replaced: the
     survivors are decrypted, sealed with a fresh data key (durable in ``keys.db`` first)
     and written back in one atomic commit per table, then the old key is destroyed.
   After this step a copy of the data folder taken *before* the forget cannot be read with
   the key store taken *after* it, for the forgotten rows (T4).
4. Deletions are materialised and every old table version is removed (``store.purge``).
5. The journal is removed, and the forget hooks run (in-memory index, and later derived
   data such as captions, cached answers and chat turns that cite forgotten ids).

Whole-bucket plans (``plan_by_buckets``) need no passphrase: every key of those hours is
destroyed and nothing is re-keyed. Record plans need the vault unlocked to select and to
re-key.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from core.errors import StoreError, VaultLocked
from core.records import MemoryRecord, bucket_of
from core.store import (
    SEALED_COLUMNS,
    TABLES,
    EncryptedStore,
    RowMeta,
    dir_size,
    quote_ids,
    quote_key_ids,
)
from core.vault import FieldRef, Vault, open_field, seal_field
from core.vault._fs import atomic_write_private
from core.vault.envelope import is_key_id

_log = logging.getLogger(__name__)

JOURNAL_NAME = "forget-pending.json"
_CHUNK = 500

ForgetHook = Callable[[frozenset[str]], None]
"""Called after a forget with the ids of the forgotten memories (ids only, never content),
or with ``FORGET_EVERYTHING`` after ``forget --all``."""

FORGET_EVERYTHING: frozenset[str] = frozenset({"*"})


@dataclass(frozen=True)
class ForgetReport:
    memories: int
    data_keys: int
    bytes_freed: int
    rekeyed_buckets: int = 0


@dataclass(frozen=True)
class ForgetPlan:
    """What a forget will remove. ``ids`` are memory ids; ``buckets`` are whole hours."""

    ids: frozenset[str]
    buckets: frozenset[int] = frozenset()
    first: datetime | None = None
    last: datetime | None = None
    apps: dict[str, int] = field(default_factory=dict)  # only known when unlocked
    whole_hours: bool = False

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def empty(self) -> bool:
        return not self.ids and not self.buckets


def bucket_start(bucket: int) -> datetime:
    return datetime.fromtimestamp(bucket * 3600, UTC)


def plan_by_records(records: Iterable[MemoryRecord]) -> ForgetPlan:
    """Forget exactly these memories (selected from decrypted records)."""
    chosen = list(records)
    stamps = [r.timestamp for r in chosen]
    apps = Counter(r.app for r in chosen if r.app)
    return ForgetPlan(ids=frozenset(r.id for r in chosen),
                      first=min(stamps) if stamps else None,
                      last=max(stamps) if stamps else None,
                      apps=dict(apps.most_common()))


def buckets_overlapping(since: datetime | None, until: datetime | None,
                        present: Iterable[int]) -> set[int]:
    """Hour buckets among ``present`` that overlap [since, until) (rounded outward)."""
    lo = bucket_of(since) if since is not None else None
    hi = bucket_of(until - timedelta(microseconds=1)) if until is not None else None
    return {b for b in present if (lo is None or b >= lo) and (hi is None or b <= hi)}


def plan_by_buckets(store: EncryptedStore, buckets: Iterable[int]) -> ForgetPlan:
    """Forget every memory of these whole hours; needs no passphrase."""
    wanted = set(buckets)
    ids = {m.id for m in store.row_meta("memories") if m.bucket in wanted}
    return ForgetPlan(ids=frozenset(ids), buckets=frozenset(wanted),
                      first=bucket_start(min(wanted)) if wanted else None,
                      last=bucket_start(max(wanted) + 1) if wanted else None,
                      whole_hours=True)


# -- the journal --------------------------------------------------------------------------
@dataclass(frozen=True)
class PendingForget:
    ids: frozenset[str]
    buckets: frozenset[int]
    # the data keys the forgotten rows used, recorded before any row is deleted, so that
    # a resumed forget still re-keys/destroys them once the rows themselves are gone
    keys: frozenset[str] = frozenset()


def journal_path(state_dir: Path) -> Path:
    return state_dir / JOURNAL_NAME


def write_journal(state_dir: Path, plan: ForgetPlan | PendingForget) -> None:
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys = sorted(plan.keys) if isinstance(plan, PendingForget) else []
    doc = {"ids": sorted(plan.ids), "buckets": sorted(plan.buckets), "keys": keys}
    atomic_write_private(journal_path(state_dir), json.dumps(doc).encode("ascii"))


def read_journal(state_dir: Path) -> PendingForget | None:
    path = journal_path(state_dir)
    try:
        doc = json.loads(path.read_text(encoding="ascii"))
        ids = frozenset(str(i) for i in doc["ids"] if str(i).isalnum())
        buckets = frozenset(int(b) for b in doc["buckets"])
        keys = frozenset(str(k) for k in doc.get("keys", []) if is_key_id(k))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise StoreError(f"the interrupted-forget journal {path.name} is unreadable") from exc
    return PendingForget(ids=ids, buckets=buckets, keys=keys)


def clear_journal(state_dir: Path) -> None:
    journal_path(state_dir).unlink(missing_ok=True)


# -- execution ----------------------------------------------------------------------------
def _rows_by_table(store: EncryptedStore) -> dict[str, list[RowMeta]]:
    return {name: store.row_meta(name) for name in TABLES}


def rekey_rows(store: EncryptedStore, vault: Vault, old_key_id: str, bucket: int,
               ids: Sequence[str]) -> int:
    """Re-seal the rows ``ids`` that use ``old_key_id`` with a fresh key. Returns rows moved.

    The new key is durable before any row uses it; each table is rewritten in atomic
    commits (``merge_insert`` on id), so a crash leaves every row readable with one of
    the two keys, both of which still exist.
    """
    if not ids:
        return 0
    if not vault.is_unlocked:
        raise VaultLocked("re-encrypting the rest of a partly forgotten hour needs the "
                          "vault unlocked")
    old = vault.read_key(old_key_id)
    new = vault.new_data_key(bucket)
    moved = 0
    for name in TABLES:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            rows = store.select(
                name, f"key_id = '{old_key_id}' AND id IN ({quote_ids(chunk)})")
            if rows.num_rows == 0:
                continue
            columns = {col: rows.column(col).to_pylist() for col in rows.column_names}
            row_ids = columns["id"]
            for col in SEALED_COLUMNS[name]:
                columns[col] = [
                    seal_field(new, open_field(old, blob, FieldRef(name, col, rid)),
                               FieldRef(name, col, rid))
                    for rid, blob in zip(row_ids, columns[col], strict=True)]
            columns["key_id"] = [new.key_id] * len(row_ids)
            store.upsert(name, pa.table(columns, schema=rows.schema))
            if name == "memories":
                moved += len(row_ids)
    return moved


def execute_forget(store: EncryptedStore, vault: Vault, plan: ForgetPlan, *,
                   state_dir: Path, measure_dir: Path,
                   hooks: Sequence[ForgetHook] = ()) -> ForgetReport:
    """Carry out ``plan`` (see the module docstring). The caller holds the writer lock."""
    if plan.empty:
        return ForgetReport(memories=0, data_keys=0, bytes_freed=0)
    before = dir_size(measure_dir)
    keys = {r.key_id for name in TABLES for r in store.row_meta(name)
            if r.id in plan.ids or r.bucket in plan.buckets}
    pending = PendingForget(ids=plan.ids, buckets=plan.buckets, keys=frozenset(keys))
    write_journal(state_dir, pending)
    report = finish_forget(store, vault, pending)
    clear_journal(state_dir)
    _run_hooks(hooks, plan.ids)
    after = dir_size(measure_dir)
    report = ForgetReport(memories=report.memories, data_keys=report.data_keys,
                          bytes_freed=max(0, before - after),
                          rekeyed_buckets=report.rekeyed_buckets)
    _log.info("forget: %d memories, %d keys destroyed, %d hours re-keyed", report.memories,
              report.data_keys, report.rekeyed_buckets)
    return report


def finish_forget(store: EncryptedStore, vault: Vault, pending: PendingForget, *,
                  locked_ok: bool = False) -> ForgetReport:
    """Steps 2-4 of a forget; idempotent, so repair can re-run an interrupted one.

    Re-keying needs the vault unlocked. With ``locked_ok`` (repair while locked) everything
    else is done and the partly forgotten keys are left for a later, unlocked run; the
    report then says ``rekeyed_buckets=-1``.
    """
    rows = _rows_by_table(store)
    doomed = {r.id for table in rows.values() for r in table
              if r.id in pending.ids or r.bucket in pending.buckets}
    forgotten = sum(1 for r in rows["memories"] if r.id in doomed)
    live_keys = vault.key_ids()
    touched: dict[str, int] = {r.key_id: r.bucket for table in rows.values() for r in table
                               if r.id in doomed}
    touched.update({k: b for k, b in live_keys.items()
                    if b in pending.buckets or k in pending.keys})
    survivors: dict[str, set[str]] = {}
    for table in rows.values():
        for r in table:
            if r.key_id in touched and r.id not in doomed:
                survivors.setdefault(r.key_id, set()).add(r.id)
    partial = {k for k in touched if survivors.get(k) and k in live_keys}
    deferred = bool(partial) and not vault.is_unlocked and locked_ok
    if partial and not vault.is_unlocked and not locked_ok:
        raise VaultLocked("forgetting part of an hour needs the vault unlocked (the rest "
                          "of that hour is re-encrypted with a new key)")

    # 2. rows
    doomed_list = sorted(doomed)
    for name in TABLES:
        for start in range(0, len(doomed_list), _CHUNK):
            store.delete_where(name, f"id IN ({quote_ids(doomed_list[start:start + _CHUNK])})")
        if pending.buckets:
            store.delete_where(name, "bucket IN ({})".format(
                ", ".join(str(int(b)) for b in sorted(pending.buckets))))
    # 3. keys: re-key partly forgotten buckets, then destroy every touched key
    if deferred:
        destroyed = vault.destroy_keys(set(touched) - partial)
        store.purge()
        return ForgetReport(memories=forgotten, data_keys=destroyed, bytes_freed=0,
                            rekeyed_buckets=-1)
    for key_id in sorted(partial):
        rekey_rows(store, vault, key_id, touched[key_id], sorted(survivors[key_id]))
    destroyed = vault.destroy_keys(set(touched))
    # 4. make it physical
    store.purge()
    return ForgetReport(memories=forgotten, data_keys=destroyed, bytes_freed=0,
                        rekeyed_buckets=len({touched[k] for k in partial}))


def _run_hooks(hooks: Sequence[ForgetHook], ids: frozenset[str]) -> None:
    for hook in hooks:
        hook(ids)


def keys_in_use(store: EncryptedStore) -> set[str]:
    return {r.key_id for name in TABLES for r in store.row_meta(name)}


def where_key_ids(key_ids: Iterable[str]) -> str:
    return f"key_id IN ({quote_key_ids(key_ids)})"


@dataclass(frozen=True)
class ForgetRequest:
    """What the user asked to forget. Criteria combine with AND."""

    since: datetime | None = None
    until: datetime | None = None
    app: str | None = None
    ids: tuple[str, ...] = ()
    query: str | None = None
    limit: int | None = None

    @property
    def needs_passphrase(self) -> bool:
        """Time ranges can be forgotten by whole hours while locked; the rest must read."""
        return bool(self.app or self.ids or self.query)

    @property
    def is_empty(self) -> bool:
        return (self.since is None and self.until is None and not self.needs_passphrase)


def select_records(records: Iterable[MemoryRecord], request: ForgetRequest
                   ) -> list[MemoryRecord]:
    """Records matching the time range, app (exact, case-insensitive) and ids."""
    wanted_ids = set(request.ids)
    app = request.app.casefold() if request.app else None
    out = []
    for rec in records:
        if request.since is not None and rec.timestamp < request.since:
            continue
        if request.until is not None and rec.timestamp >= request.until:
            continue
        if app is not None and rec.app.casefold() != app:
            continue
        if wanted_ids and rec.id not in wanted_ids:
            continue
        out.append(rec)
    return out
