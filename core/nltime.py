"""Natural-language time inside questions: "yesterday afternoon", "at 3 pm", "last Tuesday".

:func:`find_time_span` finds the time expressions in a question and turns them into a
half-open UTC range ``[since, until)``; an expression that names an instant ("at 3 pm
yesterday", "two hours ago") also gives an ``anchor``. Day words are resolved in local time.

Understood (case-insensitive, combinable as "<day> <part of day>", "<clock> <day>"):

- days: ``today``, ``yesterday``, ``the day before yesterday``, weekday names (``on Tuesday``,
  ``last Tuesday``: the most recent one, today included for a bare name, not for "last"),
  ``this week`` / ``last week``, ``this month`` / ``last month``, month names (``in March``:
  the most recent March that has begun), dates (``2024-01-13``, ``March 13``, ``13 March``);
- parts of a day: ``morning`` (06-12), ``afternoon`` (12-18), ``evening`` (18-23),
  ``night`` / ``tonight`` (20-24), ``before lunch`` (06-12), ``at lunch`` (12-14),
  ``after lunch`` (13-18), ``this morning`` etc.;
- clock times: ``at 3 pm``, ``around 15:30``, ``at noon``, ``at midnight`` (anchor, with a
  window of ``CLOCK_WINDOW`` either side);
- ages: ``two hours ago``, ``an hour ago``, ``5 min ago`` (anchor), ``in the last 2 hours``,
  ``past 3 days``, ``recently`` (a range ending now).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CLOCK_WINDOW = timedelta(minutes=30)
RECENT = timedelta(hours=2)

_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "a couple of": 2, "a few": 3, "couple of": 2, "few": 3,
}
_NUM = r"(\d+(?:\.\d+)?|a couple of|couple of|a few|few|an|a|one|two|three|four|five|six|" \
       r"seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty)"
_UNIT = r"(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?)"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december"]
_MONTH_RE = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|" \
            r"aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_PARTS = {
    "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 23), "night": (20, 24),
    "tonight": (20, 24), "before lunch": (6, 12), "at lunch": (12, 14),
    "during lunch": (12, 14), "lunchtime": (12, 14), "after lunch": (13, 18),
    "after work": (17, 23),
}

_AGO = re.compile(rf"\b{_NUM}\s*{_UNIT}\s+ago\b", re.I)
_LAST_N = re.compile(rf"\b(in\s+the\s+|the\s+|over\s+the\s+)?(last|past)\s+(?:{_NUM}\s*)?"
                     rf"{_UNIT}\b", re.I)
_RECENTLY = re.compile(r"\b(?:recently|just now|a moment ago|earlier today)\b", re.I)
_ISO_DATE = re.compile(r"\b(?:on\s+)?(\d{4})-(\d{2})-(\d{2})\b", re.I)
_MONTH_DAY = re.compile(rf"\b(?:on\s+)?{_MONTH_RE}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b"
                        rf"(?:,?\s+(\d{{4}}))?", re.I)
_DAY_MONTH = re.compile(rf"\b(?:on\s+)?(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?"
                        rf"{_MONTH_RE}\b(?:,?\s+(\d{{4}}))?", re.I)
_IN_MONTH = re.compile(rf"\b(?:in|during)\s+{_MONTH_RE}\b(?:\s+(\d{{4}}))?", re.I)
_DAY_WORD = re.compile(r"\b(the day before yesterday|yesterday|today|tonight|this (?:morning|"
                       r"afternoon|evening)|last night)\b", re.I)
_WEEKDAY = re.compile(r"\b(?:(last|this|on)\s+)?(monday|tuesday|wednesday|thursday|friday|"
                      r"saturday|sunday)s?\b", re.I)
_WEEK_MONTH = re.compile(r"\b(this|last|past|previous)\s+(week|month|weekend)\b", re.I)
_PART = re.compile(r"\b(before lunch|at lunch|during lunch|lunchtime|after lunch|after work|"
                   r"(?:in the |this |that |on )?(?:morning|afternoon|evening|night))\b", re.I)
_CLOCK = re.compile(r"\b(?:at|around|about|near|by)\s+(?:(noon|midday|midnight)|"
                    r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?)(?![\d:])", re.I)
_CLOCK_BARE = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)(?!\w)|"
                         r"\b(\d{1,2}):(\d{2})\b", re.I)


@dataclass(frozen=True)
class TimeSpan:
    """A half-open UTC range named by words in a question."""

    since: datetime
    until: datetime
    anchor: datetime | None  # an instant the words name ("at 3 pm"), if any
    phrases: tuple[tuple[int, int], ...]  # character ranges of the words in the question

    def strip_from(self, text: str) -> str:
        """``text`` without the time words (for retrieval queries)."""
        out = text
        for start, end in sorted(self.phrases, reverse=True):
            out = out[:start] + " " + out[end:]
        return " ".join(out.split())

    def widened(self, factor: float) -> TimeSpan:
        """The same span grown ``factor`` times around its middle (fallback retrieval)."""
        middle = self.since + (self.until - self.since) / 2
        half = (self.until - self.since) * factor / 2
        return TimeSpan(middle - half, middle + half, self.anchor, self.phrases)


def _number(word: str | None) -> float:
    if word is None:
        return 1.0
    w = word.lower()
    return float(_NUMBERS[w]) if w in _NUMBERS else float(w)


def _unit_seconds(unit: str) -> int:
    u = unit.lower()
    if u.startswith("mo"):
        return 30 * 86400
    if u.startswith("mi"):
        return 60
    return _UNIT_SECONDS[u[0]]


def _month_index(name: str) -> int:
    key = name.lower()[:3]
    return [m[:3] for m in _MONTHS].index(key) + 1


def _midnight(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def _safe_date(local_now: datetime, year: int, month: int, day: int) -> datetime | None:
    try:
        return local_now.replace(year=year, month=month, day=day, hour=0, minute=0, second=0,
                                 microsecond=0)
    except ValueError:
        return None


class _Finder:
    def __init__(self, text: str, now: datetime) -> None:
        self.text = text
        self.now = now
        self.local = now.astimezone()
        self.used: list[tuple[int, int]] = []

    def _free(self, start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in self.used)

    def search(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        for match in pattern.finditer(self.text):
            if self._free(match.start(), match.end()):
                return match
        return None

    def take(self, match: re.Match[str]) -> None:
        self.used.append((match.start(), match.end()))

    # -- pieces ---------------------------------------------------------------------------
    def relative(self) -> tuple[datetime, datetime, datetime | None] | None:
        m = self.search(_AGO)
        if m:
            self.take(m)
            age = timedelta(seconds=_number(m.group(1)) * _unit_seconds(m.group(2)))
            anchor = self.now - age
            window = max(CLOCK_WINDOW, age / 4)
            return anchor - window, min(self.now, anchor + window), anchor
        m = self.search(_LAST_N)
        calendar = m is not None and not m.group(1) and not m.group(3) and \
            m.group(2).lower() == "last" and m.group(4).lower()[:2] in ("we", "mo", "da")
        if m and not calendar:  # "last week" alone is the calendar week (see day())
            self.take(m)
            age = timedelta(seconds=_number(m.group(3)) * _unit_seconds(m.group(4)))
            return self.now - age, self.now, None
        m = self.search(_RECENTLY)
        if m:
            self.take(m)
            if m.group(0).lower() == "earlier today":
                return _midnight(self.local).astimezone(UTC), self.now, None
            return self.now - RECENT, self.now, None
        return None

    def day(self) -> tuple[datetime, datetime, str | None] | None:
        """A local [start, end) range of days, and an implied part of day."""
        today = _midnight(self.local)
        m = self.search(_DAY_WORD)
        if m:
            self.take(m)
            word = m.group(1).lower()
            if word == "the day before yesterday":
                return today - timedelta(days=2), today - timedelta(days=1), None
            if word == "yesterday":
                return today - timedelta(days=1), today, None
            if word == "last night":
                return today - timedelta(days=1), today, "night"
            if word == "tonight":
                return today, today + timedelta(days=1), "tonight"
            if word.startswith("this "):
                return today, today + timedelta(days=1), word[5:]
            return today, today + timedelta(days=1), None
        m = self.search(_ISO_DATE)
        if m:
            start = _safe_date(self.local, int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if start is not None:
                self.take(m)
                return start, start + timedelta(days=1), None
        for pattern, month_group, day_group in ((_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
            m = self.search(pattern)
            if m:
                month = _month_index(m.group(month_group))
                year = int(m.group(3)) if m.group(3) else self.local.year
                start = _safe_date(self.local, year, month, int(m.group(day_group)))
                if start is not None:
                    if not m.group(3) and start > today:
                        start = _safe_date(self.local, year - 1, month,
                                           int(m.group(day_group))) or start
                    self.take(m)
                    return start, start + timedelta(days=1), None
        m = self.search(_WEEK_MONTH)
        if m:
            self.take(m)
            which, what = m.group(1).lower(), m.group(2).lower()
            if what == "week":
                monday = today - timedelta(days=today.weekday())
                if which == "this":
                    return monday, today + timedelta(days=1), None
                return monday - timedelta(days=7), monday, None
            if what == "weekend":
                saturday = today - timedelta(days=(today.weekday() - 5) % 7)
                if which != "this" and today.weekday() >= 5:
                    saturday -= timedelta(days=7)  # "last weekend" said on a weekend
                return saturday, saturday + timedelta(days=2), None
            first = today.replace(day=1)
            if which == "this":
                return first, today + timedelta(days=1), None
            prev = (first - timedelta(days=1)).replace(day=1)
            return prev, first, None
        m = self.search(_IN_MONTH)
        if m:
            self.take(m)
            month = _month_index(m.group(1))
            year = int(m.group(2)) if m.group(2) else self.local.year
            if not m.group(2) and month > self.local.month:
                year -= 1
            start = today.replace(year=year, month=month, day=1)
            end = start.replace(year=year + 1, month=1) if month == 12 \
                else start.replace(month=month + 1)
            return start, end, None
        m = self.search(_WEEKDAY)
        if m:
            self.take(m)
            target = _WEEKDAYS.index(m.group(2).lower())
            back = (today.weekday() - target) % 7
            if back == 0 and (m.group(1) or "").lower() == "last":
                back = 7
            start = today - timedelta(days=back)
            return start, start + timedelta(days=1), None
        return None

    def part(self) -> str | None:
        m = self.search(_PART)
        if not m:
            return None
        self.take(m)
        word = m.group(1).lower()
        for prefix in ("in the ", "this ", "that ", "on "):
            if word.startswith(prefix):
                word = word[len(prefix):]
        return word

    def clock(self) -> tuple[int, int] | None:
        m = self.search(_CLOCK)
        if m:
            if m.group(1):
                self.take(m)
                return (0, 0) if m.group(1).lower() == "midnight" else (12, 0)
            hour, minute = int(m.group(2)), int(m.group(3) or 0)
            mer = (m.group(4) or "").lower().replace(".", "")
            if not mer and not m.group(3):
                return None  # "at 3" alone is too vague ("looked at 3 hotels")
            return self._clock_value(m, hour, minute, mer)
        m = self.search(_CLOCK_BARE)
        if m:
            if m.group(1):
                hour, minute = int(m.group(1)), int(m.group(2) or 0)
                mer = m.group(3).lower().replace(".", "")
            else:
                hour, minute, mer = int(m.group(4)), int(m.group(5)), ""
            return self._clock_value(m, hour, minute, mer)
        return None

    def _clock_value(self, m: re.Match[str], hour: int, minute: int,
                     mer: str) -> tuple[int, int] | None:
        if minute > 59 or hour > 23 or (mer and not 1 <= hour <= 12):
            return None
        if mer == "pm" and hour != 12:
            hour += 12
        elif mer == "am" and hour == 12:
            hour = 0
        self.take(m)
        return hour, minute


def find_time_span(text: str, *, now: datetime | None = None) -> TimeSpan | None:
    """The time range a question talks about, or None when it names no time."""
    current = (now or datetime.now(UTC)).astimezone(UTC)
    finder = _Finder(text, current)
    rel = finder.relative()
    if rel is not None:
        since, until, anchor = rel
        return TimeSpan(since, until, anchor, tuple(finder.used))
    day = finder.day()
    part = finder.part()
    clock = finder.clock()
    if day is None and part is None and clock is None:
        return None
    local_today = _midnight(finder.local)
    if day is None:
        start, end, implied = local_today, local_today + timedelta(days=1), None
    else:
        start, end, implied = day
    part = part or implied
    if clock is not None:
        hour, minute = clock
        if part in ("afternoon", "evening", "night", "tonight") and hour < 12:
            hour += 12
        anchor_local = start.replace(hour=hour, minute=minute)
        if day is None and anchor_local > finder.local:
            anchor_local -= timedelta(days=1)  # "at 3 pm" before 3 pm means yesterday's
        anchor = anchor_local.astimezone(UTC)
        return TimeSpan(anchor - CLOCK_WINDOW, anchor + CLOCK_WINDOW, anchor,
                        tuple(finder.used))
    if part is not None and part in _PARTS and end - start == timedelta(days=1):
        lo, hi = _PARTS[part]
        part_start = start.replace(hour=lo)
        part_end = start.replace(hour=hi - 1, minute=59, second=59) + timedelta(seconds=1)
        if day is None and part_start > finder.local:
            part_start -= timedelta(days=1)
            part_end -= timedelta(days=1)
        start, end = part_start, part_end
    return TimeSpan(start.astimezone(UTC), end.astimezone(UTC), None, tuple(finder.used))
