"""Natural-language time inside a search query ("yesterday afternoon", "last Tuesday",
"two hours ago", "in March") -> a time range, and the query without those words.

Kept apart from ``core.timeparse`` (which parses explicit ``--since``/``--until``
arguments). All ranges are computed in the user's local time zone (that of ``now``)
and returned as timezone-aware UTC datetimes, ``since`` inclusive, ``until`` exclusive.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_NUM_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "few": 3, "couple": 2,
    "several": 4,
}
_UNITS = {"minute": 60, "min": 60, "mins": 60, "hour": 3600, "hr": 3600, "hrs": 3600,
          "day": 86400, "week": 604800, "month": 30 * 86400}
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WEEKDAYS.update({name.lower(): i for i, name in enumerate(calendar.day_abbr)})
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS.pop("may", None)
_MONTHS["may"] = 5
_PARTS = {"morning": (5, 12), "afternoon": (12, 17), "evening": (17, 22), "night": (22, 29)}

_NUM = r"(?P<num>\d+|" + "|".join(sorted(_NUM_WORDS, key=len, reverse=True)) + r")"
_UNIT = r"(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?|months?)"
_WD = r"(?P<wd>" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")"
_MON = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
_PART = r"(?P<part>morning|afternoon|evening|night)"
_LEAD = r"(?:(?:from|on|in|during|at|since)\s+)?"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [(name, re.compile(
    r"(?<![\w-])" + _LEAD + pat + r"(?![\w-])", re.IGNORECASE)) for name, pat in [
    ("ago", _NUM + r"\s+(?:of\s+)?" + _UNIT + r"\s+ago"),
    ("last_n", r"(?:in\s+)?(?:the\s+)?(?:last|past)\s+" + _NUM + r"\s+" + _UNIT),
    ("last_unit", r"(?:in\s+)?(?:the\s+)?(?:last|past)\s+(?P<unit>minute|hour|day)"),
    ("iso", r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"),
    ("yday_part", r"yesterday\s+" + _PART),
    ("last_night", r"last\s+night"),
    ("this_part", r"(?:this\s+" + _PART.replace("part", "part") + r"|tonight)"),
    ("yesterday", r"yesterday"),
    ("today", r"(?:earlier\s+)?today"),
    ("wd_part", r"(?:(?P<last>last|this|on)\s+)?" + _WD + r"\s+" + _PART),
    ("last_wd", r"(?P<last>last|this|on|past)\s+" + _WD),
    ("week", r"(?P<which>last|this|past)\s+week"),
    ("month_rel", r"(?P<which>last|this|past)\s+month"),
    ("day_mon", r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MON + r"(?:\s+(?P<y>\d{4}))?"),
    ("mon_day", _MON + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?"),
    ("in_mon", r"(?:in|during)\s+" + _MON + r"(?:\s+(?P<y>\d{4}))?"),
]]


@dataclass(frozen=True)
class QueryTime:
    """What :func:`extract_time` found."""

    text: str  # the query without the time words
    since: datetime | None = None
    until: datetime | None = None
    phrase: str | None = None  # the words that were understood as time


def _num(word: str) -> int:
    return int(word) if word.isdigit() else _NUM_WORDS[word.lower()]


def _unit_seconds(unit: str) -> int:
    u = unit.lower()
    return _UNITS.get(u, _UNITS.get(u.rstrip("s"), 0))


def _day(local: datetime, days_back: int = 0) -> datetime:
    return local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_back)


def _range_for(name: str, m: re.Match[str], local: datetime
               ) -> tuple[datetime, datetime] | None:
    g = m.groupdict()
    midnight = _day(local)
    if name == "ago":
        unit = _unit_seconds(g["unit"])
        n = _num(g["num"])
        centre = local - timedelta(seconds=n * unit)
        half = timedelta(seconds=unit * (0.5 if n > 1 else 1))
        return centre - half, min(local, centre + half)
    if name == "last_n":
        return local - timedelta(seconds=_num(g["num"]) * _unit_seconds(g["unit"])), local
    if name == "last_unit":
        return local - timedelta(seconds=_unit_seconds(g["unit"])), local
    if name == "iso":
        try:
            start = local.replace(year=int(g["y"]), month=int(g["m"]), day=int(g["d"]), hour=0,
                                  minute=0, second=0, microsecond=0)
        except ValueError:
            return None
        return start, start + timedelta(days=1)
    if name == "yday_part":
        lo, hi = _PARTS[g["part"].lower()]
        return _day(local, 1) + timedelta(hours=lo), _day(local, 1) + timedelta(hours=hi)
    if name == "last_night":
        return _day(local, 1) + timedelta(hours=18), midnight + timedelta(hours=5)
    if name == "this_part":
        lo, hi = _PARTS[(g.get("part") or "evening").lower()]
        return midnight + timedelta(hours=lo), midnight + timedelta(hours=hi)
    if name == "yesterday":
        return _day(local, 1), midnight
    if name == "today":
        return midnight, midnight + timedelta(days=1)
    if name in ("wd_part", "last_wd"):
        wd = _WEEKDAYS[g["wd"].lower()]
        back = (local.weekday() - wd) % 7
        if back == 0 and (g.get("last") or "").lower() in ("last", "past"):
            back = 7
        start = _day(local, back)
        if name == "wd_part":
            lo, hi = _PARTS[g["part"].lower()]
            return start + timedelta(hours=lo), start + timedelta(hours=hi)
        return start, start + timedelta(days=1)
    if name == "week":
        monday = _day(local, local.weekday())
        if g["which"].lower() == "this":
            return monday, midnight + timedelta(days=1)
        if g["which"].lower() == "past":
            return midnight - timedelta(days=6), midnight + timedelta(days=1)
        return monday - timedelta(days=7), monday
    if name == "month_rel":
        first = midnight.replace(day=1)
        if g["which"].lower() == "this":
            return first, midnight + timedelta(days=1)
        if g["which"].lower() == "past":
            return midnight - timedelta(days=29), midnight + timedelta(days=1)
        prev = (first - timedelta(days=1)).replace(day=1)
        return prev, first
    if name in ("day_mon", "mon_day", "in_mon"):
        month = _MONTHS[g["mon"].lower()]
        year = int(g["y"]) if g.get("y") else local.year
        if name == "in_mon":
            if not g.get("y") and month > local.month:
                year -= 1
            start = midnight.replace(year=year, month=month, day=1)
            end_m = start.replace(day=28) + timedelta(days=4)
            return start, end_m.replace(day=1)
        try:
            start = midnight.replace(year=year, month=month, day=int(g["d"]))
        except ValueError:
            return None
        if not g.get("y") and start > midnight:
            start = start.replace(year=year - 1)
        return start, start + timedelta(days=1)
    return None


def extract_time(query: str, *, now: datetime | None = None) -> QueryTime:
    """Find the first time expression in ``query``; return the range and the rest."""
    current = now or datetime.now(UTC)
    local = current.astimezone() if current.tzinfo is None or now is None else current
    best: tuple[int, str, re.Match[str]] | None = None
    for name, pattern in _PATTERNS:
        m = pattern.search(query)
        if m and (best is None or m.start() < best[0] or
                  (m.start() == best[0] and m.end() > best[2].end())):
            best = (m.start(), name, m)
    if best is None:
        return QueryTime(text=query.strip())
    _, name, m = best
    rng = _range_for(name, m, local)
    if rng is None:
        return QueryTime(text=query.strip())
    rest = (query[:m.start()] + " " + query[m.end():])
    rest = re.sub(r"\s+", " ", rest).strip(" ,.;?!")
    return QueryTime(text=rest, since=rng[0].astimezone(UTC), until=rng[1].astimezone(UTC),
                     phrase=m.group(0).strip())
