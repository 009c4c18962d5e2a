from datetime import UTC, datetime, timedelta

from core.records import MemoryRecord
from core.retrieval.episodes import build_episodes, document_of, summarise_days
from core.types import OcrLine, OcrResult

T0 = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)


def rec(i, minutes, app, title, lines=(), caption=None):
    return MemoryRecord(id=f"m{i:02d}", timestamp=T0 + timedelta(minutes=minutes), app=app,
                        title=title, caption=caption,
                        ocr=OcrResult(tuple(OcrLine(t, 0.9, (0, 0, 1, 1)) for t in lines)))


def test_document_strips_app_suffix():
    assert document_of(rec(0, 0, "firefox", "Q3 budget — Mozilla Firefox")) == "q3 budget"


def test_episodes_group_same_document_and_survive_brief_detours():
    common = ["Revenue forecast by region", "Total costs 2026"]
    records = [
        rec(1, 0, "libreoffice", "budget.ods - LibreOffice Calc", common + ["Row 1"]),
        rec(2, 3, "libreoffice", "budget.ods - LibreOffice Calc", common + ["Row 2"]),
        rec(3, 4, "slack", "general | Slack", ["lunch?"]),  # a one-minute detour
        rec(4, 5, "libreoffice", "budget.ods - LibreOffice Calc", common),
        rec(5, 40, "libreoffice", "budget.ods - LibreOffice Calc", common),  # after a gap
        rec(6, 41, "terminal", "bash", ["pytest -q", "3 failed"], caption="Running tests."),
        rec(7, 42, "terminal", "bash", ["pytest -q"], caption="Running tests."),
    ]
    eps = build_episodes(records)
    assert [e.memory_ids for e in eps] == [("m01", "m02", "m03", "m04"), ("m05",),
                                           ("m06", "m07")]
    first = eps[0]
    assert first.title == "budget.ods - LibreOffice Calc" and first.app == "libreoffice"
    assert first.summary_source == "extractive" and "Revenue forecast by region" in first.summary
    assert eps[2].summary == "Running tests." and eps[2].summary_source == "captions"
    days = summarise_days(eps, tz=UTC)
    assert len(days) == 1 and days[0].episodes == 3 and days[0].memories == 7
    assert days[0].top_apps[0][0] == "libreoffice" and "3 episodes" in days[0].summary


def test_days_split_at_local_midnight():
    records = [rec(1, 0, "a", "x"), rec(2, 24 * 60, "a", "x")]
    days = summarise_days(build_episodes(records), tz=UTC)
    assert [d.day.isoformat() for d in days] == ["2026-04-15", "2026-04-14"]
