"""The timeline shows why capture has gaps (from the sealed gap log the capture service
writes), the day's summary and its episodes; clicking an episode opens its first moment."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt

from core.gap_log import GapRecord
from core.memory import Memory
from tests.ui.conftest import cheap_config, unlock


def _local(h: int, m: int) -> datetime:
    return datetime(2024, 5, 13, h, m).astimezone()


def _record_gaps(vault) -> None:
    """What a capture service would have recorded that day (written while locked)."""
    memory = Memory.open(cheap_config(), vault.paths)
    try:
        log = memory.gap_log()
        for record in (GapRecord("start", _local(8, 0), _local(8, 0)),
                       GapRecord("paused", _local(9, 7), _local(9, 29)),
                       GapRecord("stop", _local(9, 31), _local(9, 31)),
                       GapRecord("start", _local(11, 10), _local(11, 10))):
            log.append(record)
    finally:
        memory.close()


def test_gaps_have_their_reason_and_episodes_open_moments(qtbot, vault, app_parts):
    _record_gaps(vault)
    unlock(qtbot, app_parts)
    timeline = app_parts.window.shell.timeline
    qtbot.waitUntil(lambda: timeline.days.count() == 2, timeout=20000)
    timeline.days.setCurrentRow(1)  # Mon 13 May 2024
    qtbot.waitUntil(lambda: timeline.gaps.isVisibleTo(timeline), timeout=20000)
    text = timeline.gaps.text()
    assert text.startswith("Not captured:")
    assert "09:07–09:29 paused" in text and "09:31–11:10 off" in text
    assert "not running" in timeline.gaps.toolTip()
    # The day's summary and episodes.
    qtbot.waitUntil(lambda: timeline.episodes.count() > 0, timeout=20000)
    assert timeline.summary.isVisibleTo(timeline) and "episode" in timeline.summary.text()
    labels = [timeline.episodes.item(i).text() for i in range(timeline.episodes.count())]
    assert any("firefox" in t and "Hotel Miramar" in t for t in labels), labels
    # The 23-minute gap between 09:06 and 09:30 says it was paused.
    timeline.hours.select(9)
    qtbot.waitUntil(lambda: len(timeline.model.moment_rows()) == 3, timeout=10000)
    gap_rows = [r for r in range(timeline.model.rowCount())
                if timeline.model.moment_at(r) is None]
    assert len(gap_rows) == 1
    tip = timeline.model.data(timeline.model.index(gap_rows[0]), Qt.ItemDataRole.ToolTipRole)
    assert tip == "No captures for 23 min: capture was paused."
    # Reasons arriving again (a refresh) keep the moment the user is on.
    timeline.select_moment_row(1)
    current = timeline.current_moment()
    timeline.model.set_recorded_gaps([])
    timeline.model.set_recorded_gaps(timeline._overview.gaps)
    assert timeline.current_moment() == current
    # Clicking the thunderbird episode (11:15) goes to that hour and opens its moment.
    row = next(i for i, t in enumerate(labels) if "thunderbird" in t)
    timeline.episodes.itemClicked.emit(timeline.episodes.item(row))
    qtbot.waitUntil(lambda: timeline.hours.selected == 11, timeout=10000)
    qtbot.waitUntil(lambda: timeline.viewer.record is not None
                    and timeline.viewer.record.app == "thunderbird", timeout=10000)
    # Lock: episode titles, summary and gaps are gone from the widgets.
    app_parts.session.lock()
    assert timeline.episodes.count() == 0 and timeline.summary.text() == ""
    assert timeline.gaps.text() == ""


def test_a_gap_with_no_record_says_so(qtbot, app_parts):
    unlock(qtbot, app_parts)
    timeline = app_parts.window.shell.timeline
    qtbot.waitUntil(lambda: timeline.days.count() == 2, timeout=20000)
    timeline.days.setCurrentRow(1)
    timeline.hours.select(9)
    qtbot.waitUntil(lambda: len(timeline.model.moment_rows()) == 3, timeout=10000)
    gap_row = next(r for r in range(timeline.model.rowCount())
                   if timeline.model.moment_at(r) is None)
    tip = timeline.model.data(timeline.model.index(gap_row), Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("No captures for 23 min. No reason was recorded")
    assert not timeline.gaps.isVisibleTo(timeline)
