"""Retention and the storage budget, with tiered degradation.

Memories are stored in one of three tiers (``core.records``): full screenshot + thumbnail +
text + vectors (0), thumbnail + text + vectors (1), text + vectors (2). Maintenance, in
this order:

1. **Age**: hours older than ``storage.max_age_days`` (when > 0) are forgotten.
2. **Budget**: when the store passes ``degrade_at_fraction`` x ``budget_mb``, the oldest
   memories lose their full screenshot (tier 0 -> 1), outside the newest
   ``keep_full_days``; if that is not enough, the oldest lose their thumbnail (-> 2),
   outside the newest ``keep_thumbnail_days``. Degradation stops at 90% of the trigger
   (hysteresis, so it does not run after every capture).
3. **Hard limit**: if the store is still over the budget, the oldest hours (outside the
   newest ``keep_full_days``) are forgotten through the same path as ``afterimage forget``.

Everything here works on plaintext metadata (hour bucket, tier) and table sizes, so the
capture service can run it while the vault is locked. Sizes are estimated from each
table's bytes on disk divided by its rows (sealed data does not compress, so this is close).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.config import StorageConfig
from core.forget import ForgetHook, execute_forget, plan_by_buckets
from core.records import TIER_FULL, TIER_NAMES, TIER_TEXT, TIER_THUMBNAIL, bucket_of
from core.store import FRAMES, MEMORIES, THUMBS, EncryptedStore
from core.vault import Vault

_log = logging.getLogger(__name__)

HYSTERESIS = 0.9
GROWTH_WINDOW_DAYS = 7


@dataclass(frozen=True)
class RowSizes:
    """Average bytes on disk of one row of each table, and the store's total."""

    memory: float
    thumb: float
    frame: float
    total: int

    def cost(self, full: int, thumbnail: int, text: int) -> float:
        return (self.memory * (full + thumbnail + text) + self.thumb * (full + thumbnail)
                + self.frame * full)


@dataclass
class BucketTiers:
    bucket: int
    counts: list[int] = field(default_factory=lambda: [0, 0, 0])  # by tier

    def cost(self, sizes: RowSizes) -> float:
        return sizes.cost(*self.counts)


def measure(store: EncryptedStore) -> tuple[dict[int, BucketTiers], RowSizes]:
    """Memories per hour bucket and tier, and average row sizes (no decryption)."""
    buckets: dict[int, BucketTiers] = {}
    for row in store.row_meta(MEMORIES):
        entry = buckets.setdefault(row.bucket, BucketTiers(row.bucket))
        entry.counts[min(max(row.tier, TIER_FULL), TIER_TEXT)] += 1

    def avg(name: str) -> float:
        n = store.count(name)
        return store.table_bytes(name) / n if n else 0.0

    sizes = RowSizes(memory=avg(MEMORIES), thumb=avg(THUMBS), frame=avg(FRAMES),
                     total=store.bytes_on_disk())
    return buckets, sizes


@dataclass(frozen=True)
class StorageReport:
    bytes_by_tier: dict[str, int]
    budget_bytes: int
    daily_growth_bytes: int | None
    days_until_budget: float | None
    # the size of one memory in each tier (for projections, core/storage_projection.py)
    row_bytes: dict[str, float] = field(default_factory=dict)


def storage_report(buckets: dict[int, BucketTiers], sizes: RowSizes,
                   storage: StorageConfig, now: datetime) -> StorageReport:
    by_tier = {name: 0 for name in TIER_NAMES.values()}
    for entry in buckets.values():
        full, thumb, text = entry.counts
        by_tier[TIER_NAMES[TIER_FULL]] += int(sizes.cost(full, 0, 0))
        by_tier[TIER_NAMES[TIER_THUMBNAIL]] += int(sizes.cost(0, thumb, 0))
        by_tier[TIER_NAMES[TIER_TEXT]] += int(sizes.cost(0, 0, text))
    budget = storage.budget_mb * 2**20
    now_b = bucket_of(now)
    window = [e for e in buckets.values()
              if now_b - GROWTH_WINDOW_DAYS * 24 < e.bucket <= now_b]
    growth: int | None = None
    days_left: float | None = None
    if window:
        span_days = max(1.0, (now_b - min(e.bucket for e in window) + 1) / 24)
        growth = int(sum(e.cost(sizes) for e in window) / span_days)
        if growth > 0:
            days_left = round(max(0.0, (budget - sizes.total) / growth), 1)
    row_bytes = {TIER_NAMES[TIER_FULL]: sizes.cost(1, 0, 0),
                 TIER_NAMES[TIER_THUMBNAIL]: sizes.cost(0, 1, 0),
                 TIER_NAMES[TIER_TEXT]: sizes.cost(0, 0, 1)}
    return StorageReport(bytes_by_tier=by_tier, budget_bytes=budget,
                         daily_growth_bytes=growth, days_until_budget=days_left,
                         row_bytes=row_bytes)


@dataclass(frozen=True)
class MaintenancePlan:
    forget_age: frozenset[int] = frozenset()
    to_thumbnail: frozenset[int] = frozenset()
    to_text: frozenset[int] = frozenset()
    forget_budget: frozenset[int] = frozenset()
    memories_forgotten: int = 0
    memories_degraded: int = 0
    bytes_before: int = 0
    bytes_after_estimate: int = 0
    over_budget_after: bool = False

    @property
    def empty(self) -> bool:
        return not (self.forget_age or self.to_thumbnail or self.to_text or self.forget_budget)


def plan_maintenance(buckets: dict[int, BucketTiers], sizes: RowSizes,
                     storage: StorageConfig, now: datetime) -> MaintenancePlan:
    """Decide what to forget and degrade (pure: no I/O)."""
    state = {b: BucketTiers(b, list(e.counts)) for b, e in buckets.items()}
    budget = storage.budget_mb * 2**20
    trigger = storage.degrade_at_fraction * budget
    target = HYSTERESIS * trigger
    size = float(sizes.total)
    forgotten = degraded = 0

    forget_age: set[int] = set()
    if storage.max_age_days > 0:
        limit = bucket_of(now - timedelta(days=storage.max_age_days))
        forget_age = {b for b in state if b < limit}
    for b in forget_age:
        size -= state[b].cost(sizes)
        forgotten += sum(state.pop(b).counts)

    to_thumb: set[int] = set()
    to_text: set[int] = set()
    forget_budget: set[int] = set()
    full_limit = bucket_of(now - timedelta(days=storage.keep_full_days))
    thumb_limit = bucket_of(now - timedelta(days=storage.keep_thumbnail_days))
    if size > trigger:
        for b in sorted(state):
            if size <= target or b >= full_limit:
                break
            full = state[b].counts[TIER_FULL]
            if full:
                size -= sizes.frame * full
                state[b].counts = [0, state[b].counts[1] + full, state[b].counts[2]]
                to_thumb.add(b)
        for b in sorted(state):
            if size <= target or b >= thumb_limit:
                break
            full, thumb, text = state[b].counts
            if full or thumb:
                size -= sizes.cost(full, thumb, 0) - sizes.cost(0, 0, full + thumb)
                state[b].counts = [0, 0, full + thumb + text]
                to_text.add(b)
        if size > budget:
            for b in sorted(state):
                if size <= target or b >= full_limit:
                    break
                size -= state[b].cost(sizes)
                forgotten += sum(state.pop(b).counts)
                forget_budget.add(b)
    for b in (to_thumb | to_text) - forget_budget:
        full, thumb, _ = buckets[b].counts
        degraded += full + (thumb if b in to_text else 0)
    return MaintenancePlan(
        forget_age=frozenset(forget_age), to_thumbnail=frozenset(to_thumb - forget_budget),
        to_text=frozenset(to_text - forget_budget), forget_budget=frozenset(forget_budget),
        memories_forgotten=forgotten, memories_degraded=degraded, bytes_before=sizes.total,
        bytes_after_estimate=max(0, int(size)), over_budget_after=size > budget)


@dataclass(frozen=True)
class MaintenanceReport:
    plan: MaintenancePlan
    bytes_after: int
    data_keys: int = 0


def _in(buckets: frozenset[int]) -> str:
    return "bucket IN ({})".format(", ".join(str(int(b)) for b in sorted(buckets)))


def run_maintenance(store: EncryptedStore, vault: Vault, plan: MaintenancePlan, *,
                    state_dir: Path, measure_dir: Path,
                    hooks: Sequence[ForgetHook] = ()) -> MaintenanceReport:
    """Carry out ``plan``. The caller holds the writer lock. Needs no unlock.

    Tier first, images second: a crash in between leaves images that repair removes
    (core/repair.py), never a memory whose tier promises an image it lacks.
    """
    if plan.empty:
        return MaintenanceReport(plan=plan, bytes_after=store.bytes_on_disk())
    if plan.to_thumbnail:
        store.set_tier(f"{_in(plan.to_thumbnail)} AND tier = {TIER_FULL}", TIER_THUMBNAIL)
        store.delete_where(FRAMES, _in(plan.to_thumbnail))
    if plan.to_text:
        store.set_tier(f"{_in(plan.to_text)} AND tier < {TIER_TEXT}", TIER_TEXT)
        store.delete_where(FRAMES, _in(plan.to_text))
        store.delete_where(THUMBS, _in(plan.to_text))
    keys = 0
    doomed = plan.forget_age | plan.forget_budget
    if doomed:
        report = execute_forget(store, vault, plan_by_buckets(store, doomed),
                                state_dir=state_dir, measure_dir=measure_dir, hooks=hooks)
        keys = report.data_keys
    else:
        store.purge()
    after = store.bytes_on_disk()
    _log.info("maintenance: %d memories forgotten, %d degraded, %d -> %d bytes",
              plan.memories_forgotten, plan.memories_degraded, plan.bytes_before, after)
    return MaintenanceReport(plan=plan, bytes_after=after, data_keys=keys)


def maintenance_due(sizes_total: int, oldest_bucket: int | None, storage: StorageConfig,
                    now: datetime | None = None) -> bool:
    """A cheap check: is the store past the trigger, or is anything past the maximum age?"""
    if sizes_total > storage.degrade_at_fraction * storage.budget_mb * 2**20:
        return True
    if storage.max_age_days > 0 and oldest_bucket is not None:
        limit = bucket_of((now or datetime.now(UTC)) - timedelta(days=storage.max_age_days))
        return oldest_bucket < limit
    return False
