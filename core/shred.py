"""Make LanceDB deletions physical with lancedb's own API (no ``pylance``).

A Lance ``delete`` only writes a deletion vector: the deleted rows' bytes stay in the
fragment's data file until that fragment is rewritten, and old table versions keep
referencing the old files. lancedb's ``optimize()`` rewrites a fragment only when at
least 10% of it is deleted, so on its own it leaves small deletions on disk.

``shred_deleted`` closes that gap (SECURITY.md R7; measured in docs/security.md):

1. The fragments that carry deletions are named by their deletion files
   (``_deletions/{fragment_id}-{version}-{n}.arrow|bin``, the Lance format layout).
2. Every surviving row of those fragments is re-written with one
   ``merge_insert(key).when_matched_update_all()`` per chunk of ``chunk`` rows. An update
   deletes the old copy, so each such fragment ends fully deleted and Lance drops it.
   Every commit is atomic: a surviving row always exists in the old fragment or in the
   new one, never in neither (R9).
3. ``optimize(cleanup_older_than=timedelta(0))`` removes every old version and every
   file no version references any more (the old data and deletion files).
4. The latest version's metadata must then count zero deletion files and the
   ``_deletions`` folder must be empty; if the file layout ever changed and step 1
   missed a fragment, the whole table is re-written the same way and checked again.
   A table that still carries deletions is an error.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)

_FRAGMENT_BITS = 32  # without stable row ids, _rowid = fragment_id << 32 | offset


class ShredIncomplete(RuntimeError):
    """Deleted rows could not be made physical (the table still has deletion files)."""


def deletion_files(table: Any) -> int | None:
    """How many deletion files the latest version of ``table`` still references
    (None when lancedb does not report it)."""
    table.checkout_latest()
    versions = table.list_versions()
    if not versions:
        return 0
    latest = max(versions, key=lambda v: int(v["version"]))
    count = (latest.get("metadata") or {}).get("total_deletion_files")
    return None if count is None else int(count)


def has_deletions(table: Any, folder: Path) -> bool:
    """Whether ``table`` may still hold deleted rows' bytes: its latest version references
    deletion files (the folder's files when lancedb does not report that). A deletion file
    that no version references is left by a transaction killed before its commit: it holds
    only row offsets, and the rows it names were never deleted, so it is not counted (it
    would otherwise make every later purge fail after a crash)."""
    count = deletion_files(table)
    if count is not None:
        return count != 0
    return bool(fragments_with_deletions(folder))


def fragments_with_deletions(folder: Path) -> set[int]:
    """Fragment ids named by the deletion files in a table folder (a superset: files of
    old versions are listed too until cleanup removes them)."""
    found: set[int] = set()
    deletions = folder / "_deletions"
    if not deletions.is_dir():
        return found
    for path in deletions.iterdir():
        head = path.name.split("-", 1)[0]
        if head.isdigit():
            found.add(int(head))
    return found


def _quote(ids: Sequence[str]) -> str:
    return ", ".join("'" + i.replace("'", "''") + "'" for i in ids)


def _rewrite(table: Any, key: str, fragments: set[int] | None, chunk: int) -> int:
    """Re-write the live rows of ``fragments`` (all rows when None); returns how many."""
    table.checkout_latest()
    live = table.search().with_row_id(True).select([key]).limit(None).to_arrow()
    ids = [str(k) for k, rowid in zip(live.column(key).to_pylist(),
                                     live.column("_rowid").to_pylist(), strict=True)
           if fragments is None or (int(rowid) >> _FRAGMENT_BITS) in fragments]
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        rows = table.search().where(f"{key} IN ({_quote(part)})").limit(None).to_arrow()
        if rows.num_rows:
            rows = rows.select(table.schema.names).cast(table.schema)
            table.merge_insert(key).when_matched_update_all().execute(rows)
    return len(ids)


def _cleanup(table: Any) -> None:
    with warnings.catch_warnings():
        # lancedb warns that cleanup_older_than=0 can break concurrent readers; that is
        # the point (old versions must go), and our readers check out the latest first.
        warnings.simplefilter("ignore")
        table.optimize(cleanup_older_than=timedelta(0))
    table.checkout_latest()


def shred_deleted(table: Any, folder: Path, *, key: str = "id", chunk: int = 1024) -> int:
    """Physically remove every deleted row of ``table`` (stored in ``folder``) and every
    old version. Returns how many surviving rows had to be re-written."""
    rewritten = 0
    if has_deletions(table, folder):
        rewritten += _rewrite(table, key, fragments_with_deletions(folder), chunk)
    _cleanup(table)
    if has_deletions(table, folder):
        _log.warning("deletion files left after a targeted rewrite; re-writing the table")
        rewritten += _rewrite(table, key, None, chunk)
        _cleanup(table)
        if has_deletions(table, folder):
            raise ShredIncomplete("deleted rows are still referenced by the table")
    return rewritten
