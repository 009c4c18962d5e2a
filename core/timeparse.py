"""Parse the time arguments users type: ISO 8601, relative ages and day words.

Accepted: ``2024-01-13``, ``2024-01-13T21:40``, ``2024-01-13 21:40:01+01:00``,
``15m`` / ``2h`` / ``3d`` / ``1w`` (that long ago), ``now``, ``today``,
``yesterday``. Naive dates and times are local time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.errors import InvalidInput

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|days|w|wk|weeks?)"
                       r"(?:\s+ago)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400,
                 "day": 86400, "days": 86400, "w": 604800, "wk": 604800, "week": 604800,
                 "weeks": 604800}


def parse_duration(text: str) -> timedelta:
    match = _RELATIVE.match(text)
    if not match:
        raise InvalidInput(f"not a duration: {text!r} (use e.g. 15m, 2h, 3d, 1w)")
    value = float(match.group(1))
    return timedelta(seconds=value * _UNIT_SECONDS[match.group(2).lower()])


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """Parse ``text`` into a timezone-aware UTC datetime."""
    current = now or datetime.now(UTC)
    word = text.strip().lower()
    if not word:
        raise InvalidInput("empty time")
    local_now = current.astimezone()
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if word == "now":
        return current.astimezone(UTC)
    if word == "today":
        return midnight.astimezone(UTC)
    if word == "yesterday":
        return (midnight - timedelta(days=1)).astimezone(UTC)
    if _RELATIVE.match(word):
        return (current - parse_duration(word)).astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            f"not a time: {text!r} (use ISO 8601 like 2024-01-13T21:40, or 2h, today, "
            "yesterday)") from exc
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()  # local time
    return parsed.astimezone(UTC)
