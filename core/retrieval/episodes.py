"""Episodes and days: moment -> episode -> day.

An **episode** is a run of consecutive memories of the same app and document (window
title without the app's suffix), with gaps of at most ``gap`` between them; a short
visit elsewhere (under ``interruption``) does not split it. Its title is the document
(or app); its summary comes from the captions when the captioner has made them
(the most representative ones), else it is extractive: the OCR lines that recur most
across the episode's screens. A **day** summarises its episodes: active time, the apps
that took it, the main episodes.

They are recomputed from the decrypted records (never stored) and cached in memory per
index state by :class:`core.memory.Memory`: grouping 100,000 memories takes seconds once
per unlock/change (``bench/bench_episodes.py``), while a stored copy would be one more
plaintext-derived artefact to seal, re-key and forget (R1, R7).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from core.records import MemoryRecord

_TITLE_SUFFIX = re.compile(r"\s+[—–\-|·]\s+[^—–\-|·]{1,40}$")


@dataclass(frozen=True)
class Episode:
    id: str
    start: datetime
    end: datetime
    app: str
    title: str
    summary: str
    memory_ids: tuple[str, ...]
    summary_source: str  # "captions" | "extractive"

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class DaySummary:
    day: date
    start: datetime
    end: datetime
    memories: int
    episodes: int
    active: timedelta
    top_apps: tuple[tuple[str, timedelta], ...]
    summary: str


def document_of(rec: MemoryRecord) -> str:
    """The window title without a trailing " — App Name" part."""
    title = " ".join(rec.title.split())
    stripped = _TITLE_SUFFIX.sub("", title)
    return (stripped or title).casefold()


def _episode_id(first: str) -> str:
    return hashlib.sha256(b"episode:" + first.encode()).hexdigest()[:16]


def _fmt(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    if minutes == 0:
        return "under a minute"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _summary(members: Sequence[MemoryRecord], title: str) -> tuple[str, str]:
    captions = [m.caption for m in members if m.caption]
    if captions:
        counts = Counter(captions)
        ranked = sorted(counts, key=lambda c: (-counts[c], captions.index(c)))
        return " ".join(ranked[:2]), "captions"
    line_counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for i, m in enumerate(members):
        for line in {" ".join(ln.text.split()) for ln in m.ocr.lines}:
            if len(line) >= 12 and line.casefold() != title.casefold():
                line_counts[line] += 1
                first_seen.setdefault(line, i)
    ranked_lines = sorted(line_counts, key=lambda s: (-line_counts[s] * min(len(s), 80),
                                                      first_seen[s]))
    picked = [s if len(s) <= 100 else s[:99] + "…" for s in ranked_lines[:3]]
    return ("; ".join(picked) if picked else title), "extractive"


def build_episodes(records: Iterable[MemoryRecord], *, gap: timedelta = timedelta(minutes=10),
                   interruption: timedelta = timedelta(minutes=2)) -> list[Episode]:
    """Group memories into episodes (oldest first)."""
    ordered = sorted(records, key=lambda r: (r.timestamp, r.id))
    keys = {r.id: (r.app.casefold(), document_of(r)) for r in ordered}
    groups: list[list[MemoryRecord]] = []
    for rec in ordered:
        key = keys[rec.id]
        placed = False
        # Join the current group, or the one before it when the latest was a brief detour.
        for back in (1, 2):
            if len(groups) < back:
                break
            g = groups[-back]
            last = g[-1]
            same = keys[last.id] == key
            if back == 2:
                detour = groups[-1]
                if detour[-1].timestamp - detour[0].timestamp > interruption:
                    break
            if same and rec.timestamp - last.timestamp <= gap:
                if back == 2:  # fold the detour back into the episode it interrupted
                    g.extend(groups.pop())
                g.append(rec)
                placed = True
                break
        if not placed:
            groups.append([rec])
    episodes = []
    for g in groups:
        g.sort(key=lambda r: (r.timestamp, r.id))
        titles = Counter(r.title for r in g if r.title)
        title = titles.most_common(1)[0][0] if titles else (g[0].app or "Unknown app")
        apps = Counter(r.app for r in g)
        summary, source = _summary(g, title)
        episodes.append(Episode(id=_episode_id(g[0].id), start=g[0].timestamp,
                                end=g[-1].timestamp, app=apps.most_common(1)[0][0],
                                title=title, summary=summary,
                                memory_ids=tuple(r.id for r in g), summary_source=source))
    return episodes


def local_day(ts: datetime, tz: tzinfo | None = None) -> date:
    return (ts.astimezone(tz) if tz else ts.astimezone()).date()


def summarise_days(episodes: Sequence[Episode], tz: tzinfo | None = None,
                   min_span: timedelta = timedelta(seconds=30)) -> list[DaySummary]:
    """One summary per local day with memories (newest day first)."""
    by_day: dict[date, list[Episode]] = {}
    for ep in episodes:
        by_day.setdefault(local_day(ep.start, tz), []).append(ep)
    out = []
    for day, eps in by_day.items():
        app_time: Counter[str] = Counter()
        active = timedelta()
        for ep in eps:
            span = max(ep.duration, min_span)
            active += span
            app_time[ep.app or "unknown"] += int(span.total_seconds())
        top = tuple((app, timedelta(seconds=s)) for app, s in app_time.most_common(3))
        main = sorted(eps, key=lambda e: (-e.duration.total_seconds(), e.start))[:3]
        text = (f"{_fmt(active)} across {len(eps)} episode{'s' if len(eps) != 1 else ''}: "
                + ", ".join(f"{a} ({_fmt(t)})" for a, t in top)
                + ". Main: " + "; ".join(e.title for e in main) + ".")
        out.append(DaySummary(day=day, start=min(e.start for e in eps),
                              end=max(e.end for e in eps),
                              memories=sum(len(e.memory_ids) for e in eps), episodes=len(eps),
                              active=active, top_apps=top, summary=text))
    out.sort(key=lambda d: d.day, reverse=True)
    return out
