"""Intent routing: decide how a question is answered before any text is generated.

- ``aggregate``: "how long", "how much time", "how many times", "how often", "which apps
  ... most", "when did I first/last ..." -> computed exactly from memory metadata
  (:mod:`core.chat.aggregate`), phrased by a template; the model is not asked.
- ``timeline``: "what was I doing at 3 pm yesterday", "what was on my screen two hours
  ago" (a time and nothing else to look for) -> the memories around that time, phrased by a
  template.
- ``search``: everything else ("the error message in my terminal before lunch") -> hybrid
  search (restricted to the time the question names) and a grounded answer by the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.index import STOPWORDS, query_terms
from core.nltime import TimeSpan, find_time_span


class Route(StrEnum):
    AGGREGATE = "aggregate"
    TIMELINE = "timeline"
    SEARCH = "search"


class AggregateKind(StrEnum):
    DURATION = "duration"
    COUNT = "count"
    TOP_APPS = "top_apps"
    FIRST = "first"
    LAST = "last"


@dataclass(frozen=True)
class RoutedQuestion:
    question: str
    route: Route
    query: str  # retrieval text: the question without its time words
    span: TimeSpan | None
    aggregate: AggregateKind | None = None
    app: str | None = None  # a known app the question names
    subject: str = ""  # what an aggregate is about when it is not an app ("the hotel page")


_TOP_APPS = re.compile(r"\b(which|what)\s+(apps?|applications?|programs?|windows?)\b.*\b(most|"
                       r"longest|more|top)\b|\b(most|top)\s+(used\s+)?(apps?|applications?)\b|"
                       r"\bwhere\s+did\s+i\s+spend\s+(the\s+)?most\b", re.I)
_DURATION = re.compile(r"\bhow\s+(long|much\s+time)\s+((did|was|were|have|had|do|am)\s+i|i|in|"
                       r"on|using)\b|\btime\s+(did\s+i\s+)?spen[dt]\b", re.I)
_COUNT = re.compile(r"\bhow\s+(many\s+times|often|many\s+visits|frequently)\b", re.I)
_FIRST = re.compile(r"\bwhen\s+(did|was|have)\s+i\s+(first|for\s+the\s+first\s+time)\b|"
                    r"\bwhen\s+was\s+the\s+first\s+time\b|\bfirst\s+time\s+i\b", re.I)
_LAST = re.compile(r"\bwhen\s+(did|was|have)\s+i\s+last\b|\bwhen\s+was\s+the\s+last\s+time\b|"
                   r"\blast\s+time\s+i\b|\bmost\s+recently\b", re.I)
# Words that frame a question but name nothing to look for.
_FRAME_WORDS = frozenset("""
what doing do did see saw look looking looked at screen working work on up time times how long
much many often show tell remind which when first last spend spent use used using open opened
visit visited app apps application applications program programs most least around about
were was am i me my in the a an on of to for with during reading watching doing
""".split())
_SUBJECT_CUT = re.compile(r"\b(how\s+(long|much\s+time|many\s+times|often|frequently)|"
                          r"when\s+(did|was|have)\s+i\s+(first|last)|did\s+i|was\s+i|have\s+i|"
                          r"i\s+(spend|spent|use|used|open|opened|visit|visited|see|saw|look|"
                          r"looked|was|have|had)|on|at|in|into|looking|the\s+first\s+time|"
                          r"the\s+last\s+time|first|last|time|spend|spent|use|using|open|"
                          r"opened|see|look|visit|visited|viewed|view|check|checked)\b", re.I)


def _find_app(question: str, known_apps: Iterable[str]) -> str | None:
    """The longest known app name that appears as whole words in the question."""
    lowered = question.casefold()
    best: str | None = None
    for app in known_apps:
        name = app.strip()
        if len(name) < 2:
            continue
        if re.search(rf"(?<!\w){re.escape(name.casefold())}(?!\w)", lowered):
            if best is None or len(name) > len(best):
                best = name
    return best


def _subject(text: str, app: str | None) -> str:
    out = text
    if app:
        out = re.sub(re.escape(app), " ", out, flags=re.I)
    out = _SUBJECT_CUT.sub(" ", out)
    words = [w for w in re.findall(r"[\w'.-]+", out)
             if w.casefold() not in STOPWORDS and w.casefold() not in _FRAME_WORDS]
    return " ".join(words).strip(" .?!")


def route_question(question: str, *, known_apps: Iterable[str] = (),
                   now: datetime | None = None) -> RoutedQuestion:
    text = " ".join(question.split())
    span = find_time_span(text, now=now)
    rest = span.strip_from(text) if span else text
    app = _find_app(rest, known_apps)
    kind: AggregateKind | None = None
    if _TOP_APPS.search(rest):
        kind = AggregateKind.TOP_APPS
    elif _DURATION.search(rest):
        kind = AggregateKind.DURATION
    elif _COUNT.search(rest):
        kind = AggregateKind.COUNT
    elif _FIRST.search(rest):
        kind = AggregateKind.FIRST
    elif _LAST.search(rest):
        kind = AggregateKind.LAST
    if kind is not None:
        subject = "" if kind == AggregateKind.TOP_APPS else _subject(rest, app)
        if kind in (AggregateKind.DURATION, AggregateKind.COUNT) and not app and not subject:
            kind = None  # "how long ..." about nothing we can measure: search instead
        else:
            return RoutedQuestion(text, Route.AGGREGATE, rest, span, kind, app, subject)
    app_words = set(query_terms(app)) if app else set()
    content = [t for t in query_terms(rest)
               if t not in _FRAME_WORDS and t not in STOPWORDS and t not in app_words]
    if span is not None and not content:
        return RoutedQuestion(text, Route.TIMELINE, rest, span, None, app)
    return RoutedQuestion(text, Route.SEARCH, rest, span, None, app)
