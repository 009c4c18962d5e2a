from datetime import UTC, datetime, timedelta

import pytest

from core.nltime import CLOCK_WINDOW, find_time_span

# A Wednesday afternoon; TZ is pinned to UTC by the fixture so local == UTC.
NOW = datetime(2026, 3, 18, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def d(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("question, since, until, anchor, rest", [
    ("what was I doing at 3 pm yesterday", d(2026, 3, 17, 14, 30), d(2026, 3, 17, 15, 30),
     d(2026, 3, 17, 15), "what was I doing"),
    ("the error yesterday afternoon", d(2026, 3, 17, 12), d(2026, 3, 17, 18), None,
     "the error"),
    ("hotel last Tuesday", d(2026, 3, 17), d(2026, 3, 18), None, "hotel"),
    ("hotel on Wednesday", d(2026, 3, 18), d(2026, 3, 19), None, "hotel"),
    ("hotel last Wednesday", d(2026, 3, 11), d(2026, 3, 12), None, "hotel"),
    ("what was on screen two hours ago", d(2026, 3, 18, 13, 30), d(2026, 3, 18, 14, 30),
     d(2026, 3, 18, 14), "what was on screen"),
    ("budget in March", d(2026, 3, 1), d(2026, 4, 1), None, "budget"),
    ("budget in April", d(2025, 4, 1), d(2025, 5, 1), None, "budget"),
    ("figma this week", d(2026, 3, 16), d(2026, 3, 19), None, "figma"),
    ("figma last week", d(2026, 3, 9), d(2026, 3, 16), None, "figma"),
    ("terminal before lunch", d(2026, 3, 18, 6), d(2026, 3, 18, 12), None, "terminal"),
    ("in the last 2 hours", d(2026, 3, 18, 14), d(2026, 3, 18, 16), None, ""),
    ("flight on 2024-01-13", d(2024, 1, 13), d(2024, 1, 14), None, "flight"),
    ("flight on January 13", d(2026, 1, 13), d(2026, 1, 14), None, "flight"),
    ("flight on 13 December", d(2025, 12, 13), d(2025, 12, 14), None, "flight"),
    ("at 15:30", d(2026, 3, 18, 15), d(2026, 3, 18, 16), d(2026, 3, 18, 15, 30), ""),
    ("at 5 pm", d(2026, 3, 17, 16, 30), d(2026, 3, 17, 17, 30), d(2026, 3, 17, 17), ""),
    ("the day before yesterday at noon", d(2026, 3, 16, 11, 30), d(2026, 3, 16, 12, 30),
     d(2026, 3, 16, 12), ""),
    ("last night", d(2026, 3, 17, 20), d(2026, 3, 18), None, ""),
])
def test_time_words_become_ranges(question, since, until, anchor, rest):
    span = find_time_span(question, now=NOW)
    assert span is not None
    assert (span.since, span.until, span.anchor) == (since, until, anchor)
    assert span.strip_from(question) == rest


@pytest.mark.parametrize("question", [
    "I looked at 3 hotels", "how many times did I open Figma", "what about May",
    "the error message", "error 404 in the console"])
def test_no_time_words_no_span(question):
    assert find_time_span(question, now=NOW) is None


def test_widening_keeps_the_middle():
    span = find_time_span("at 3 pm yesterday", now=NOW)
    wide = span.widened(3.0)
    assert wide.until - wide.since == 3 * 2 * CLOCK_WINDOW
    assert wide.since + (wide.until - wide.since) / 2 == span.anchor
    assert wide.since < span.since - timedelta(minutes=30)
