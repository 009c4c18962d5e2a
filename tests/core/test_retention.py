"""Retention, the storage budget and tiered degradation (core/retention.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from core.config import Config, StorageConfig
from core.records import TIER_FULL, TIER_TEXT, TIER_THUMBNAIL, bucket_of
from core.retention import BucketTiers, RowSizes, plan_maintenance, storage_report
from core.store import FRAMES, MEMORIES, THUMBS
from tests.vaultkit import PASS, new_memory, open_memory, synthetic, utc

NOW = utc(2024, 6, 30, 12)
MB = 2**20


def _day(days_ago: float) -> int:
    return bucket_of(NOW - timedelta(days=days_ago))


def _buckets(spec: dict[float, tuple[int, int, int]]) -> dict[int, BucketTiers]:
    return {_day(d): BucketTiers(_day(d), list(c)) for d, c in spec.items()}


KIB = 1024
SIZES = RowSizes(memory=10 * KIB, thumb=20 * KIB, frame=100 * KIB, total=0)  # 12.7 MiB/100


def _total(buckets: dict[int, BucketTiers]) -> int:
    return int(sum(b.cost(SIZES) for b in buckets.values()))


def test_under_the_trigger_nothing_happens() -> None:
    buckets = _buckets({10: (50, 0, 0), 0.1: (50, 0, 0)})
    sizes = replace(SIZES, total=_total(buckets))
    plan = plan_maintenance(buckets, sizes, StorageConfig(budget_mb=100), NOW)
    assert plan.empty and not plan.over_budget_after


def test_oldest_lose_full_frames_first_and_recent_days_are_protected() -> None:
    buckets = _buckets({20: (100, 0, 0), 10: (100, 0, 0), 5: (100, 0, 0), 0.2: (100, 0, 0)})
    sizes = replace(SIZES, total=_total(buckets))  # 52 MB
    storage = StorageConfig(budget_mb=50, keep_full_days=1, keep_thumbnail_days=7,
                            degrade_at_fraction=0.9)
    plan = plan_maintenance(buckets, sizes, storage, NOW)
    # 50.8 MiB; trigger 45, target 40.5: frames of day -20 (-> 41.0) and -10 (-> 31.3)
    assert plan.to_thumbnail == {_day(20), _day(10)}
    assert not plan.to_text and not plan.forget_budget and not plan.forget_age
    assert plan.bytes_after_estimate <= 0.9 * 0.9 * 50 * MB


def test_then_thumbnails_of_the_oldest_outside_keep_thumbnail_days() -> None:
    buckets = _buckets({30: (100, 0, 0), 20: (100, 0, 0), 3: (100, 0, 0), 0.2: (100, 0, 0)})
    sizes = replace(SIZES, total=_total(buckets))
    storage = StorageConfig(budget_mb=25, keep_full_days=1, keep_thumbnail_days=7)
    plan = plan_maintenance(buckets, sizes, storage, NOW)
    # trigger 22.5, target 20.25 MiB: frames of days -30, -20, -3 go (-> 21.5), then the
    # thumbnails of day -30 (-> 19.6); day -0.2 is protected; nothing is forgotten
    assert plan.to_thumbnail == {_day(30), _day(20), _day(3)}
    assert plan.to_text == {_day(30)}
    assert not plan.forget_budget and not plan.over_budget_after
    assert plan.memories_degraded == 300


def test_hard_budget_forgets_oldest_but_never_the_protected_day() -> None:
    buckets = _buckets({30: (100, 0, 0), 20: (100, 0, 0), 10: (100, 0, 0), 0.2: (100, 0, 0)})
    sizes = replace(SIZES, total=_total(buckets))
    storage = StorageConfig(budget_mb=14, keep_full_days=1, keep_thumbnail_days=2)
    plan = plan_maintenance(buckets, sizes, storage, NOW)
    # frames and thumbnails of days -30..-10 go (-> 15.6 MiB > 14): then those hours are
    # forgotten oldest first; the newest day (12.7 MiB) is kept whole
    assert plan.forget_budget == {_day(30), _day(20), _day(10)}
    assert not plan.to_thumbnail and not plan.to_text  # forgotten instead
    assert plan.memories_forgotten == 300
    assert not plan.over_budget_after


def test_max_age_forgets_old_hours_regardless_of_budget() -> None:
    buckets = _buckets({40: (5, 0, 0), 29.9: (5, 0, 0), 1: (5, 0, 0)})
    sizes = replace(SIZES, total=_total(buckets))
    plan = plan_maintenance(buckets, sizes, StorageConfig(max_age_days=30), NOW)
    assert plan.forget_age == {_day(40)} and plan.memories_forgotten == 5


def test_stats_projection_from_recent_growth() -> None:
    buckets = _buckets({1: (100, 0, 0), 0.1: (100, 0, 0), 30: (0, 0, 100)})
    sizes = replace(SIZES, total=_total(buckets))
    report = storage_report(buckets, sizes, StorageConfig(budget_mb=100), NOW)
    assert report.bytes_by_tier == {"full": 200 * 130 * KIB, "thumbnail": 0,
                                    "text": 100 * 10 * KIB}
    span_days = 25 / 24  # the growth window starts at the oldest recent hour
    growth = int(200 * 130 * KIB / span_days)
    assert report.daily_growth_bytes == growth
    assert report.days_until_budget == round((100 * MB - sizes.total) / growth, 1)


def test_maintain_degrades_real_rows_and_forgets_old_hours_while_locked(tmp_path: Path) -> None:
    home = tmp_path / "h"
    storage = StorageConfig(budget_mb=1, keep_full_days=1, keep_thumbnail_days=3,
                            max_age_days=60, degrade_at_fraction=0.9)
    config = Config(storage=storage)
    mem = new_memory(home, config=config)
    now = utc(2024, 6, 30, 12)
    items = [synthetic(now - timedelta(days=d) + timedelta(minutes=m), f"day {d} memory {m}",
                       size=(400, 300), noise=True)
             for d in (90, 10, 5, 2, 0) for m in range(4)]
    mem.store_encoded(items)
    mem.close()

    locked = open_memory(home, config=config)  # maintenance needs no passphrase
    before = locked.stats(now=now)
    assert before.bytes_store > 1 * MB and before.tiers["full"] == 20
    report = locked.maintain(now=now)
    plan = report.plan
    assert plan.forget_age == {bucket_of(now - timedelta(days=90))}
    assert report.bytes_after < before.bytes_store
    tiers = {r.id: r.tier for r in locked._store.row_meta(MEMORIES)}
    by_day = {d: [tiers.get(i.record.id) for i in items[k * 4:(k + 1) * 4]]
              for k, d in enumerate((90, 10, 5, 2, 0))}
    assert by_day[90] == [None] * 4  # forgotten (max age)
    assert by_day[0] == [TIER_FULL] * 4  # the newest day keeps its screenshots
    assert all(t in (TIER_THUMBNAIL, TIER_TEXT, None) for t in by_day[10])
    # images follow the tiers exactly
    frames = {r.id for r in locked._store.row_meta(FRAMES)}
    thumbs = {r.id for r in locked._store.row_meta(THUMBS)}
    assert frames == {i for i, t in tiers.items() if t == TIER_FULL}
    assert thumbs == {i for i, t in tiers.items() if t <= TIER_THUMBNAIL}
    after = locked.stats(now=now)
    assert after.bytes_by_tier["full"] < before.bytes_by_tier["full"]
    locked.unlock(PASS)
    records, _, unreadable = locked._store.load_all()
    assert unreadable == 0 and len(records) == len(tiers)
    locked.close()
