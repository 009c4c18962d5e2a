"""The budget projection: days and bytes per tier once the budget is full."""

from __future__ import annotations

import pytest

from core.config import StorageConfig
from core.storage_projection import project_budget

MB = 2**20
ROWS = {"full": 400_000.0, "thumbnail": 40_000.0, "text": 4_000.0}  # 10x steps


def _by_tier(p):
    return {t.tier: t for t in p.tiers}


def test_steady_state_follows_the_degradation_order():
    storage = StorageConfig(budget_mb=1000, keep_full_days=2, keep_thumbnail_days=7,
                            degrade_at_fraction=1.0)
    growth = 50 * MB  # a day at full quality
    p = project_budget(storage, used_bytes=100 * MB, daily_growth_bytes=growth,
                       row_bytes=ROWS)
    tiers = _by_tier(p)
    assert tiers["full"].days == 2 and tiers["full"].bytes == 100 * MB
    assert tiers["thumbnail"].days == 5 and tiers["thumbnail"].bytes == pytest.approx(
        25 * MB, rel=1e-6)
    # the rest of 1000 MB (875 MB) holds text at 0.5 MB a day
    assert tiers["text"].days == pytest.approx(1750, abs=0.1)
    assert sum(t.bytes for t in p.tiers) == pytest.approx(1000 * MB, rel=1e-3)
    assert p.days_until_full == pytest.approx(18.0)
    assert not p.limited_by_age
    # a bigger budget holds more history, and takes longer to fill
    bigger = project_budget(StorageConfig(budget_mb=2000, keep_full_days=2,
                                          keep_thumbnail_days=7, degrade_at_fraction=1.0),
                            100 * MB, growth, ROWS)
    assert bigger.history_days > p.history_days
    assert bigger.days_until_full > p.days_until_full


def test_small_budget_keeps_only_recent_full_days():
    storage = StorageConfig(budget_mb=60, keep_full_days=2, keep_thumbnail_days=7,
                            degrade_at_fraction=1.0)
    p = project_budget(storage, 0, 50 * MB, ROWS)
    tiers = _by_tier(p)
    assert tiers["full"].days == pytest.approx(1.2)
    assert tiers["thumbnail"].days == 0 and tiers["text"].days == 0


def test_age_limit_and_unknown_growth():
    storage = StorageConfig(budget_mb=10_000, max_age_days=30, degrade_at_fraction=1.0)
    p = project_budget(storage, 0, 50 * MB, ROWS)
    assert p.limited_by_age and p.days_until_full is None
    assert _by_tier(p)["full"].days == 30 and p.history_days == 30
    cut = project_budget(StorageConfig(budget_mb=1000, max_age_days=60, keep_full_days=2,
                                       keep_thumbnail_days=7, degrade_at_fraction=1.0),
                         0, 50 * MB, ROWS)
    assert cut.limited_by_age and cut.history_days == 60
    assert _by_tier(cut)["text"].days == pytest.approx(53)
    unknown = project_budget(storage, 0, None, ROWS)
    assert not unknown.known and unknown.days_until_full is None
