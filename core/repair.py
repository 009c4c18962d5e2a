"""Startup repair (SECURITY.md R9): make the vault consistent after a crash.

Run by the process that becomes the vault's single writer (``Memory.acquire_writer``), so
no other process is adding rows or keys meanwhile. Works while locked. It:

1. finishes a forget that was interrupted (``state/forget-pending.json``, core/forget.py);
   re-keying a partly forgotten hour waits for an unlocked writer, the rest is done now;
2. drops rows whose data key is missing (they can never be read again);
3. drops thumbnails and frames that have no memory row (a crash inside ``store.add``,
   which writes images before the memory row);
4. makes tiers agree with the images present (a crash inside a degrade step);
5. destroys data keys that no row uses, from hours before the current one and not
   created by this process (a crash between "key durable" and "rows written");
6. purges (materialises deletions, drops old versions) if anything was removed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.forget import clear_journal, finish_forget, read_journal
from core.records import TIER_FULL, TIER_TEXT, TIER_THUMBNAIL, bucket_of
from core.store import FRAMES, MEMORIES, TABLES, THUMBS, EncryptedStore, quote_ids
from core.store import quote_key_ids as _quote_keys
from core.vault import Vault

_log = logging.getLogger(__name__)
_CHUNK = 500


@dataclass(frozen=True)
class RepairReport:
    finished_forget: bool = False
    forget_waits_for_unlock: bool = False
    rows_without_key: int = 0
    orphan_images: int = 0
    tiers_fixed: int = 0
    orphan_keys: int = 0
    purged: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.finished_forget or self.rows_without_key or self.orphan_images
                    or self.tiers_fixed or self.orphan_keys)


def _delete_ids(store: EncryptedStore, name: str, ids: list[str]) -> None:
    for start in range(0, len(ids), _CHUNK):
        store.delete_where(name, f"id IN ({quote_ids(ids[start:start + _CHUNK])})")


def repair_vault(store: EncryptedStore, vault: Vault, *, state_dir: Path,
                 now: datetime | None = None,
                 other_live_keys: Callable[[], set[str]] | None = None) -> RepairReport:
    """Repair what a crash can leave behind. ``other_live_keys`` names data keys used outside
    the memory tables (chat history), which must never be destroyed as orphans."""
    finished = waits = False
    pending = read_journal(state_dir)
    if pending is not None:
        result = finish_forget(store, vault, pending, locked_ok=True)
        if result.rekeyed_buckets == -1:
            waits = True
            _log.warning("an interrupted forget will finish at the next unlocked start")
        else:
            clear_journal(state_dir)
            finished = True
            _log.info("repair: finished an interrupted forget (%d memories)", result.memories)

    keys = vault.key_ids()
    rows = {name: store.row_meta(name) for name in TABLES}

    # 2. rows whose key is missing
    missing = sorted({r.key_id for t in rows.values() for r in t if r.key_id not in keys})
    dropped = sum(1 for r in rows[MEMORIES] if r.key_id in set(missing))
    if missing:
        for name in TABLES:
            store.delete_where(name, f"key_id IN ({_quote_keys(missing)})")
        rows = {name: store.row_meta(name) for name in TABLES}

    # 3. images without a memory row
    memory_ids = {r.id for r in rows[MEMORIES]}
    orphan_images = 0
    for name in (THUMBS, FRAMES):
        orphans = sorted({r.id for r in rows[name] if r.id not in memory_ids})
        orphan_images += len(orphans)
        _delete_ids(store, name, orphans)

    # 4. tiers agree with the images present
    has_frame = {r.id for r in rows[FRAMES]}
    has_thumb = {r.id for r in rows[THUMBS]}
    stray_frames = sorted({r.id for r in rows[MEMORIES] if r.tier != TIER_FULL} & has_frame)
    stray_thumbs = sorted({r.id for r in rows[MEMORIES] if r.tier == TIER_TEXT} & has_thumb)
    _delete_ids(store, FRAMES, stray_frames)
    _delete_ids(store, THUMBS, stray_thumbs)
    fixed = len(stray_frames) + len(stray_thumbs)
    wrong: dict[int, list[str]] = {}
    for r in rows[MEMORIES]:
        actual = TIER_FULL if r.id in has_frame else (
            TIER_THUMBNAIL if r.id in has_thumb else TIER_TEXT)
        if r.tier < actual:
            wrong.setdefault(actual, []).append(r.id)
    for tier, ids in wrong.items():
        for start in range(0, len(ids), _CHUNK):
            store.set_tier(f"id IN ({quote_ids(sorted(ids)[start:start + _CHUNK])})", tier)
        fixed += len(ids)

    # 5. keys no row uses (after the deletions above)
    if orphan_images or stray_frames or stray_thumbs:
        rows = {name: store.row_meta(name) for name in TABLES}
    used = {r.key_id for t in rows.values() for r in t}
    if other_live_keys is not None:
        used |= other_live_keys()
    current = bucket_of(now or datetime.now(UTC))
    own = vault.own_write_key_ids()
    orphan_keys = [k for k, b in keys.items() if k not in used and b < current and k not in own]
    destroyed = vault.destroy_keys(orphan_keys) if orphan_keys else 0

    report = RepairReport(finished_forget=finished, forget_waits_for_unlock=waits,
                          rows_without_key=dropped, orphan_images=orphan_images,
                          tiers_fixed=fixed, orphan_keys=destroyed)
    if report.rows_without_key or report.orphan_images or report.tiers_fixed:
        store.purge()
        report = RepairReport(**{**report.__dict__, "purged": True})
    if report.changed:
        _log.info("repair: %d rows without key, %d orphan images, %d tiers fixed, "
                  "%d orphan keys destroyed", report.rows_without_key, report.orphan_images,
                  report.tiers_fixed, report.orphan_keys)
    return report
