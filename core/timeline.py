"""Timeline listing: what the desktop app's timeline shows, without decrypting everything.

Days and hours come from the plaintext hour bucket of each row (SECURITY.md R1 allows a
coarse time bucket in the clear), so listing 100k memories reads one integer column and
decrypts nothing. The moments of one hour are decrypted on demand, metadata only (time,
app, title, tier): no OCR text, vectors or images.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class TimelineHour:
    """One hour that holds memories: its plaintext bucket and how many."""

    bucket: int  # hours since the Unix epoch (UTC)
    count: int

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.bucket * 3600, UTC)


@dataclass(frozen=True)
class MomentSummary:
    """One memory as the timeline lists it (decrypted metadata only)."""

    id: str
    timestamp: datetime  # timezone-aware UTC
    app: str
    title: str
    tier: int
    origin: str = "capture"
    source: str | None = None


@dataclass(frozen=True)
class TimelineGap:
    """A stretch with no memories between two moments (reason when the capture log knows it)."""

    start: datetime
    end: datetime
    reason: str | None = None  # "paused", "locked", "filtered", "idle", "not running"

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def find_gaps(moments: list[MomentSummary], min_seconds: float) -> list[TimelineGap]:
    """Gaps of at least ``min_seconds`` between consecutive moments (sorted by time)."""
    ordered = sorted(moments, key=lambda m: m.timestamp)
    gaps: list[TimelineGap] = []
    for before, after in zip(ordered, ordered[1:], strict=False):
        if (after.timestamp - before.timestamp).total_seconds() >= min_seconds:
            gaps.append(TimelineGap(start=before.timestamp, end=after.timestamp))
    return gaps
