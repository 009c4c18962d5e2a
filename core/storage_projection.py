"""What a storage budget holds once it is full: days and bytes per tier.

Maintenance (``core.retention``) keeps the budget by degrading the oldest memories first:
full screenshots become thumbnails (outside the newest ``keep_full_days``), thumbnails
become text (outside the newest ``keep_thumbnail_days``), and only then the oldest hours
are forgotten. At a steady daily growth ``G`` this settles into: the newest
``keep_full_days`` as full screenshots, up to ``keep_thumbnail_days`` as thumbnails, and
as many days of text as the rest of the budget holds. ``max_age_days`` cuts the history.

Pure arithmetic on counts and sizes (no user content), so the GUI can update the
projection as the user edits the budget, before anything is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.config import StorageConfig

TIERS = ("full", "thumbnail", "text")


@dataclass(frozen=True)
class TierProjection:
    tier: str  # "full", "thumbnail" or "text"
    days: float  # how many days of history this tier holds (newest tier first)
    bytes: int


@dataclass(frozen=True)
class BudgetProjection:
    budget_bytes: int
    days_until_full: float | None  # None: never (or no growth measured yet)
    tiers: tuple[TierProjection, ...]  # full, thumbnail, text
    history_days: float  # how far back memories reach at the steady state
    limited_by_age: bool  # max_age_days, not the budget, ends the history

    @property
    def known(self) -> bool:
        return bool(self.tiers)


def project_budget(storage: StorageConfig, used_bytes: int, daily_growth_bytes: int | None,
                   row_bytes: Mapping[str, float]) -> BudgetProjection:
    """Project ``storage`` at a growth of ``daily_growth_bytes`` (full-tier bytes a day).

    ``row_bytes`` is the size of one memory in each tier (``Stats.row_bytes``). With no
    growth measured yet, the projection is unknown (``tiers`` empty).
    """
    budget = storage.budget_mb * 2**20
    full_row = row_bytes.get("full", 0.0)
    growth = daily_growth_bytes or 0
    if growth <= 0 or full_row <= 0:
        return BudgetProjection(budget, None, (), 0.0, False)
    ratio_thumb = min(1.0, row_bytes.get("thumbnail", 0.0) / full_row)
    ratio_text = min(1.0, max(1e-6, row_bytes.get("text", 0.0) / full_row))
    capacity = budget * storage.degrade_at_fraction
    keep_full = float(storage.keep_full_days)
    keep_thumb = float(max(storage.keep_thumbnail_days, storage.keep_full_days))
    full_days = min(keep_full, capacity / growth)
    left = capacity - full_days * growth
    thumb_days = min(keep_thumb - full_days, left / (growth * ratio_thumb)) \
        if ratio_thumb > 0 and full_days >= keep_full else 0.0
    thumb_days = max(0.0, thumb_days)
    left -= thumb_days * growth * ratio_thumb
    text_days = max(0.0, left / (growth * ratio_text)) \
        if full_days + thumb_days >= keep_thumb else 0.0
    history = full_days + thumb_days + text_days
    age = float(storage.max_age_days)
    limited = False
    days_until: float | None = max(0.0, (capacity - used_bytes) / growth)
    if age > 0 and age * growth <= capacity:
        # Everything within the age limit fits at full quality: the budget is never reached.
        full_days, thumb_days, text_days, limited, days_until = age, 0.0, 0.0, True, None
    elif age > 0 and history > age:
        limited = True
        cut = history - age
        text_cut = min(text_days, cut)
        text_days -= text_cut
        thumb_days -= min(thumb_days, cut - text_cut)
    days = (full_days, thumb_days, text_days)
    ratios = (1.0, ratio_thumb, ratio_text)
    tiers = tuple(TierProjection(name, round(d, 1), int(d * growth * r))
                  for name, d, r in zip(TIERS, days, ratios, strict=True))
    return BudgetProjection(budget, None if days_until is None else round(days_until, 1),
                            tiers, round(sum(days), 1), limited)
