from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InvalidInput
from core.timeparse import parse_duration, parse_time

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


def test_relative_and_words():
    assert parse_time("2h", now=NOW) == NOW - timedelta(hours=2)
    assert parse_time("15m", now=NOW) == NOW - timedelta(minutes=15)
    assert parse_time("3 days ago", now=NOW) == NOW - timedelta(days=3)
    assert parse_time("now", now=NOW) == NOW
    today = parse_time("today", now=NOW)
    assert today <= NOW and NOW - today < timedelta(days=1)
    assert parse_time("yesterday", now=NOW) == today - timedelta(days=1)


def test_iso_forms():
    assert parse_time("2024-01-13T21:40:00Z") == datetime(2024, 1, 13, 21, 40, tzinfo=UTC)
    assert parse_time("2024-01-13 21:40+01:00") == datetime(2024, 1, 13, 20, 40, tzinfo=UTC)
    naive = parse_time("2024-01-13")
    assert naive.tzinfo is not None


@pytest.mark.parametrize("text", ["", "tomorrowish", "2024-13-45", "5 parsecs"])
def test_bad_times(text):
    with pytest.raises(InvalidInput):
        parse_time(text, now=NOW)


def test_duration():
    assert parse_duration("1w") == timedelta(days=7)
    with pytest.raises(InvalidInput):
        parse_duration("soon")
