"""Pause / resume capture: for 15 minutes, an hour, any duration, or until resumed.

The pause lives in a tiny file in the run folder (``pause.json``: the end time or
"until resumed", nothing else), so the CLI, the tray and the service agree on it and a
restarted service stays paused. All times come from an injectable clock.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.errors import InvalidInput

Clock = Callable[[], datetime]
UNTIL_RESUMED = "until-resumed"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|hour|hours|d|day|days)?\s*$",
                       re.IGNORECASE)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "hour": 3600,
           "hours": 3600, "d": 86400, "day": 86400, "days": 86400}


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_pause_duration(text: str) -> timedelta | None:
    """``15m``, ``1h``, ``90s``, ``2 hours`` -> a duration; ``until-resumed`` -> None."""
    value = text.strip().lower()
    if value in (UNTIL_RESUMED, "until_resumed", "indefinitely", "forever"):
        return None
    m = _DURATION.match(value)
    if m is None:
        raise InvalidInput(f"unknown pause duration {text!r}: use 15m, 1h, or until-resumed")
    seconds = float(m.group(1)) * _UNIT_S[(m.group(2) or "m").lower()]
    if not 1 <= seconds <= 7 * 86400:
        raise InvalidInput("a pause lasts between 1 second and 7 days (or until-resumed)")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class PauseState:
    paused: bool
    until: datetime | None  # None with paused=True means until resumed

    def remaining(self, now: datetime) -> timedelta | None:
        if not self.paused or self.until is None:
            return None
        return max(timedelta(0), self.until - now)


class PauseControl:
    """Reads and writes the pause file; expired pauses read as not paused."""

    def __init__(self, run_dir: Path, clock: Clock = utc_now) -> None:
        self._path = run_dir / "pause.json"
        self._clock = clock

    def pause(self, duration: timedelta | None) -> PauseState:
        until = None if duration is None else self._clock() + duration
        payload = {"paused": True, "until": until.isoformat() if until else None}
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self._path.with_name(f"pause.json.tmp{os.getpid()}")
        tmp.write_text(json.dumps(payload), encoding="ascii")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self._path)
        return PauseState(True, until)

    def resume(self) -> None:
        try:
            self._path.unlink()
        except FileNotFoundError:
            pass

    def state(self) -> PauseState:
        try:
            data = json.loads(self._path.read_text(encoding="ascii"))
        except FileNotFoundError:
            return PauseState(False, None)
        except (OSError, ValueError):
            # An unreadable pause file errs on the side of privacy: stay paused.
            return PauseState(True, None)
        if not isinstance(data, dict) or not data.get("paused"):
            return PauseState(False, None)
        raw = data.get("until")
        if raw is None:
            return PauseState(True, None)
        try:
            until = datetime.fromisoformat(str(raw))
        except ValueError:
            return PauseState(True, None)
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        if self._clock() >= until:
            return PauseState(False, None)
        return PauseState(True, until)
