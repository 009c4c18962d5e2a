from datetime import timedelta

import pytest

from core.chat.aggregate import answer_aggregate
from core.chat.router import AggregateKind, Route, route_question
from tests.core.chat_fixtures import NOW, minutes, rec

APPS = ["Figma", "firefox", "Terminal", "Visual Studio Code"]


@pytest.mark.parametrize("question, route, kind", [
    ("How long was I in Figma this week?", Route.AGGREGATE, AggregateKind.DURATION),
    ("how much time did I spend in firefox today", Route.AGGREGATE, AggregateKind.DURATION),
    ("How many times did I open Figma yesterday?", Route.AGGREGATE, AggregateKind.COUNT),
    ("how often did I look at the hotel page", Route.AGGREGATE, AggregateKind.COUNT),
    ("Which apps did I use most this week?", Route.AGGREGATE, AggregateKind.TOP_APPS),
    ("When did I first see the invoice?", Route.AGGREGATE, AggregateKind.FIRST),
    ("when was the last time I opened Terminal", Route.AGGREGATE, AggregateKind.LAST),
    ("What was I doing at 3 pm yesterday?", Route.TIMELINE, None),
    ("what was on my screen two hours ago", Route.TIMELINE, None),
    ("what did I do yesterday afternoon in Figma", Route.TIMELINE, None),
    ("What was the error in my terminal before lunch?", Route.SEARCH, None),
    ("Which hotel did I look at on Tuesday?", Route.SEARCH, None),
    ("the error message", Route.SEARCH, None),
    ("how long is the Lisbon flight", Route.SEARCH, None),
])
def test_routes(question, route, kind):
    routed = route_question(question, known_apps=APPS, now=NOW)
    assert routed.route == route
    assert routed.aggregate == kind


def test_route_details():
    r = route_question("How long was I in Figma this week?", known_apps=APPS, now=NOW)
    assert r.app == "Figma" and r.span is not None and r.subject == ""
    r = route_question("how often did I look at the hotel page", known_apps=APPS, now=NOW)
    assert r.app is None and r.subject == "hotel page"
    r = route_question("What was the error in my terminal before lunch?", known_apps=APPS,
                       now=NOW)
    assert r.query == "What was the error in my terminal ?" or "before lunch" not in r.query
    assert r.span is not None and r.span.since.hour == 6
    # Longest matching app name wins; partial words do not match.
    r = route_question("how long in visual studio code", known_apps=["Code", *APPS], now=NOW)
    assert r.app == "Visual Studio Code"
    assert route_question("how long in Figmaland", known_apps=APPS, now=NOW).app is None


def _day():
    """Captures on Tue 17 Mar: Figma 10:00-10:12 every 3 min, firefox, Figma again after a
    long gap, Terminal; a second monitor with no app at 10:00."""
    t = NOW.replace(day=17, hour=10, minute=0)
    recs = [rec(i, t + minutes(3 * i), "Figma", "Landing page", "hero") for i in range(5)]
    recs.append(rec(50, t, "", "", "second monitor"))
    recs.append(rec(10, t + minutes(15), "firefox", "Hotel Lisboa", "hotel booking page"))
    recs.append(rec(11, t + minutes(17), "firefox", "Hotel Lisboa", "hotel booking page"))
    recs.append(rec(12, t + minutes(60), "Figma", "Landing page", "hero v2"))  # gap 43 min
    recs.append(rec(13, t + minutes(62), "Terminal", "bash", "make test"))
    return recs


def test_duration_is_exact_sum_of_capped_gaps():
    recs = _day()
    routed = route_question("How long was I in Figma?", known_apps=APPS, now=NOW)
    ans = answer_aggregate(routed, recs, span_words="", max_gap=timedelta(minutes=5),
                           interval=timedelta(seconds=3))
    # 4 gaps of 3 min, then 10:12 -> 10:15 (3 min, next is firefox), and the 11:00 moment
    # lasts until 11:02 (2 min): 12 + 3 + 2 = 17 min.
    assert ans.facts["seconds"] == 17 * 60
    assert ans.facts["visits"] == 2 and ans.facts["moments"] == 6
    assert "17 min" in ans.text and "2 visits" in ans.text
    assert [r.id for r in ans.cited] == [recs[0].id, recs[8].id]


def test_count_of_a_subject_and_first_last():
    recs = _day()
    routed = route_question("how many times did I look at the hotel page", known_apps=APPS,
                            now=NOW)
    ans = answer_aggregate(routed, recs, span_words="")
    assert ans.facts["visits"] == 1 and ans.facts["moments"] == 2
    first = route_question("when did I first open Terminal", known_apps=APPS, now=NOW)
    ans = answer_aggregate(first, recs, span_words="")
    assert ans.cited[0].id == recs[-1].id and "11:02" in ans.text


def test_top_apps_ranked_by_time():
    recs = _day()
    routed = route_question("which apps did I use most", known_apps=APPS, now=NOW)
    ans = answer_aggregate(routed, recs, span_words="today")
    assert list(ans.facts["apps"]) == ["Figma", "firefox", "Terminal"]
    # 10:15 -> 10:17 (2 min); 10:17 -> 11:00 is longer than max_gap: one interval (3 s).
    assert ans.facts["apps"]["firefox"] == 2 * 60 + 3
    assert ans.text.startswith("Most time today: Figma 17 min")
    assert len(ans.cited) == 3


def test_no_matches_says_so():
    routed = route_question("How long was I in Figma?", known_apps=APPS, now=NOW)
    ans = answer_aggregate(routed, [], span_words="this week")
    assert ans.cited == () and "no memories of Figma this week" in ans.text
