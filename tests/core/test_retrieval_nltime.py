from datetime import datetime, timedelta, timezone

import pytest

from core.retrieval.nltime import extract_time

TZ = timezone(timedelta(hours=1))
NOW = datetime(2026, 4, 15, 15, 30, tzinfo=TZ)  # a Wednesday


def local(t):
    return None if t is None else t.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("query,text,since,until", [
    ("budget spreadsheet yesterday afternoon", "budget spreadsheet", "2026-04-14 12:00",
     "2026-04-14 17:00"),
    ("the pdf I read last Tuesday", "the pdf I read", "2026-04-14 00:00", "2026-04-15 00:00"),
    ("last wednesday standup", "standup", "2026-04-08 00:00", "2026-04-09 00:00"),
    ("error two hours ago", "error", "2026-04-15 13:00", "2026-04-15 14:00"),
    ("email an hour ago", "email", "2026-04-15 13:30", "2026-04-15 15:30"),
    ("slides in March", "slides", "2026-03-01 00:00", "2026-04-01 00:00"),
    ("report in May", "report", "2025-05-01 00:00", "2025-06-01 00:00"),  # May not yet come
    ("invoice on 3 March", "invoice", "2026-03-03 00:00", "2026-03-04 00:00"),
    ("chat from last week", "chat", "2026-04-06 00:00", "2026-04-13 00:00"),
    ("notes this morning", "notes", "2026-04-15 05:00", "2026-04-15 12:00"),
    ("bug in the last 30 minutes", "bug", "2026-04-15 15:00", "2026-04-15 15:30"),
    ("2026-04-01 report", "report", "2026-04-01 00:00", "2026-04-02 00:00"),
    ("yesterday", "", "2026-04-14 00:00", "2026-04-15 00:00"),
    ("Friday evening movie", "movie", "2026-04-10 17:00", "2026-04-10 22:00"),
])
def test_time_words_become_a_range(query, text, since, until):
    got = extract_time(query, now=NOW)
    assert (got.text, local(got.since), local(got.until)) == (text, since, until)


@pytest.mark.parametrize("query", ["plain query about marching bands", "may the force",
                                   "python 3.11 traceback", "agony of the last page"])
def test_ordinary_words_are_left_alone(query):
    got = extract_time(query, now=NOW)
    assert got.since is None and got.until is None and got.text == query
