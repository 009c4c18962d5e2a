"""Records and a small recall source for chat tests (no vault, no models)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.index import IndexFilter, MemoryIndex
from core.records import MemoryRecord
from core.types import OcrLine, OcrResult

NOW = datetime(2026, 3, 18, 16, 0, tzinfo=UTC)  # a Wednesday


def rec(i: int, at: datetime, app: str, title: str = "", text: str = "",
        caption: str | None = None) -> MemoryRecord:
    lines = tuple(OcrLine(t, 0.9, (0, 0, 1, 1)) for t in text.split("\n") if t)
    return MemoryRecord(id=f"{i:032x}", timestamp=at, app=app, title=title,
                        ocr=OcrResult(lines), caption=caption)


class KeywordSource:
    """A RecallSource over a MemoryIndex with keyword (BM25) scoring only."""

    def __init__(self, records: list[MemoryRecord]) -> None:
        import numpy as np

        self.index = MemoryIndex(dim=2)
        self.index.add(records, [np.zeros((1, 2), dtype=np.float32) for _ in records])
        self.queries: list[tuple] = []

    def apps(self):
        return self.index.apps()

    def records_between(self, since, until, app):
        return self.index.records_between(since, until, app)

    def search(self, query, *, since, until, app, limit):
        self.queries.append((query, since, until, app, limit))
        hits = self.index.search(None, query, IndexFilter(since=since, until=until, app=app),
                                 limit)
        return [(h.record, h.score) for h in hits if h.score > 0]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
