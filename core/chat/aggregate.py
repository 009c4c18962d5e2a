"""Exact answers to "how long / how many times / which apps most / when first or last".

Computed from memory metadata (timestamps, app names, words on screen), never guessed by a
model, and phrased by templates.

How time is measured: memories at the same instant (one per monitor) form one *moment*;
the moment's app is the focused window's app (the first non-empty one). A moment lasts until
the next moment, capped at ``max_gap`` (default 5 min: a longer gap means the computer was
idle, locked, asleep or not capturing, and is not counted); the last moment in the range
lasts one capture interval. Time in an app = the sum of its moments' durations. A *visit*
(for "how many times") is a run of consecutive matching moments; a different app or a gap
longer than ``max_gap`` ends it. A subject that is not an app ("the hotel page") matches the
moments whose window title, screen text or app contains all of its words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.chat.router import AggregateKind, RoutedQuestion
from core.index import query_terms, tokenize
from core.records import MemoryRecord

DEFAULT_MAX_GAP = timedelta(minutes=5)
DEFAULT_INTERVAL = timedelta(seconds=3)


@dataclass(frozen=True)
class Moment:
    timestamp: datetime
    records: tuple[MemoryRecord, ...]

    @property
    def app(self) -> str:
        for rec in self.records:
            if rec.app:
                return rec.app
        return ""

    @property
    def focus(self) -> MemoryRecord:
        for rec in self.records:
            if rec.app:
                return rec
        return self.records[0]


@dataclass(frozen=True)
class AggregateAnswer:
    text: str  # with [n] markers matching ``cited``
    cited: tuple[MemoryRecord, ...]
    facts: dict[str, object] = field(default_factory=dict)


def moments_of(records: Sequence[MemoryRecord]) -> list[Moment]:
    by_time: dict[datetime, list[MemoryRecord]] = {}
    for rec in records:
        by_time.setdefault(rec.timestamp, []).append(rec)
    return [Moment(ts, tuple(recs)) for ts, recs in sorted(by_time.items())]


def durations(moments: Sequence[Moment], max_gap: timedelta,
              interval: timedelta) -> list[timedelta]:
    out = []
    for i, moment in enumerate(moments):
        if i + 1 < len(moments):
            gap = moments[i + 1].timestamp - moment.timestamp
            out.append(gap if gap <= max_gap else min(interval, max_gap))
        else:
            out.append(min(interval, max_gap))
    return out


def human_duration(d: timedelta) -> str:
    seconds = int(round(d.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def when(ts: datetime) -> str:
    return ts.astimezone().strftime("%a %d %b %Y %H:%M")


def _describe(rec: MemoryRecord) -> str:
    bits = [b for b in (rec.app, f"“{rec.title}”" if rec.title else "") if b]
    return " — ".join(bits) or "an untitled screen"


class _Matcher:
    def __init__(self, app: str | None, subject: str) -> None:
        self.app = app.casefold() if app else None
        self.terms = set(query_terms(subject)) if subject and not app else set()

    def label(self, app: str | None, subject: str) -> str:
        return app if app else f"“{subject}”"

    def matches(self, moment: Moment) -> bool:
        if self.app is not None:
            return self.app in moment.app.casefold()
        if not self.terms:
            return True
        for rec in moment.records:
            words = set(tokenize(rec.searchable_text() + "\n" + rec.app))
            if self.terms <= words:
                return True
        return False


def answer_aggregate(routed: RoutedQuestion, records: Sequence[MemoryRecord], *,
                     span_words: str, max_gap: timedelta = DEFAULT_MAX_GAP,
                     interval: timedelta = DEFAULT_INTERVAL) -> AggregateAnswer:
    """The exact answer for an ``aggregate`` route over ``records`` (already time-filtered)."""
    kind = routed.aggregate
    moments = moments_of(records)
    where = f" {span_words}" if span_words else ""
    if kind == AggregateKind.TOP_APPS:
        return _top_apps(moments, where, max_gap, interval)
    matcher = _Matcher(routed.app, routed.subject)
    label = matcher.label(routed.app, routed.subject)
    spans = durations(moments, max_gap, interval)
    hits = [i for i, m in enumerate(moments) if matcher.matches(m)]
    if not hits:
        return AggregateAnswer(f"I found no memories of {label}{where}, so there is nothing "
                               "to count.", (), {"matches": 0})
    first, last = moments[hits[0]].focus, moments[hits[-1]].focus
    if kind == AggregateKind.FIRST:
        return AggregateAnswer(f"The first time{where} was {when(first.timestamp)}, in "
                               f"{_describe(first)} [1].", (first,),
                               {"timestamp": first.timestamp.isoformat()})
    if kind == AggregateKind.LAST:
        return AggregateAnswer(f"The last time{where} was {when(last.timestamp)}, in "
                               f"{_describe(last)} [1].", (last,),
                               {"timestamp": last.timestamp.isoformat()})
    visits = 0
    previous = -2
    for i in hits:
        gap_ok = previous == i - 1 and \
            moments[i].timestamp - moments[previous].timestamp <= max_gap
        if not gap_ok:
            visits += 1
        previous = i
    total = sum((spans[i] for i in hits), timedelta())
    cited = (first,) if first is last else (first, last)
    refs = "[1]" if len(cited) == 1 else "[1][2]"
    facts: dict[str, object] = {"seconds": int(total.total_seconds()), "visits": visits,
                                "moments": len(hits)}
    if kind == AggregateKind.DURATION:
        text = (f"About {human_duration(total)} in {label}{where}: {visits} "
                f"{'visit' if visits == 1 else 'visits'} over {len(hits)} captured "
                f"{'moment' if len(hits) == 1 else 'moments'}, first {when(first.timestamp)}, "
                f"last {when(last.timestamp)} {refs}.")
    else:
        text = (f"{visits} {'time' if visits == 1 else 'times'}{where}: {label} shows up in "
                f"{visits} separate {'visit' if visits == 1 else 'visits'} "
                f"({len(hits)} captured moments, about {human_duration(total)} in all), "
                f"first {when(first.timestamp)}, last {when(last.timestamp)} {refs}.")
    return AggregateAnswer(text, cited, facts)


def _top_apps(moments: Sequence[Moment], where: str, max_gap: timedelta,
              interval: timedelta) -> AggregateAnswer:
    spans = durations(moments, max_gap, interval)
    per_app: dict[str, timedelta] = {}
    first_of: dict[str, MemoryRecord] = {}
    for moment, spent in zip(moments, spans, strict=True):
        if not moment.app:
            continue
        per_app[moment.app] = per_app.get(moment.app, timedelta()) + spent
        first_of.setdefault(moment.app, moment.focus)
    if not per_app:
        return AggregateAnswer(f"I found no memories with a known app{where}.", (),
                               {"apps": {}})
    total = sum(per_app.values(), timedelta())
    ranked = sorted(per_app.items(), key=lambda kv: (-kv[1], kv[0].casefold()))[:5]
    parts = []
    cited = []
    for n, (app, spent) in enumerate(ranked, 1):
        share = 100 * spent / total if total else 0.0
        parts.append(f"{app} {human_duration(spent)} ({share:.0f}%) [{n}]")
        cited.append(first_of[app])
    text = f"Most time{where}: " + ", ".join(parts) + "."
    return AggregateAnswer(text, tuple(cited),
                           {"apps": {a: int(s.total_seconds()) for a, s in ranked}})
