"""Timeline (days -> hours -> moments, mouse and keyboard) and the memory viewer."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication

from tests.ui.conftest import SHOTS, unlock
from ui.clipboard import PASSWORD_HINT


def _timeline(qtbot, app_parts):
    unlock(qtbot, app_parts)
    timeline = app_parts.window.shell.timeline
    qtbot.waitUntil(lambda: timeline.model.rowCount() > 0, timeout=20000)
    return timeline


def test_days_hours_moments_and_keyboard(qtbot, app_parts):
    timeline = _timeline(qtbot, app_parts)
    assert timeline.days.count() == 2
    assert "1 moment" in timeline.days.item(0).text()  # newest day first
    assert "4 moments" in timeline.days.item(1).text()
    # Newest day, newest hour, its moment opened in the viewer.
    qtbot.waitUntil(lambda: timeline.viewer.record is not None, timeout=10000)
    assert timeline.viewer.record.title == "Magenta poster"
    # Ctrl+PgUp: the older day; it opens at its latest hour (11:xx, the secret notes).
    timeline.strip.setFocus()
    qtbot.keyClick(timeline.strip, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: timeline.days.currentRow() == 1, timeout=5000)
    qtbot.waitUntil(lambda: timeline.viewer.record is not None
                    and timeline.viewer.record.app == "thunderbird", timeout=10000)
    assert timeline.hours.selected == 11
    # Page Up: the previous hour with memories (09:xx), 3 moments and one gap between them.
    qtbot.keyClick(timeline.strip, Qt.Key.Key_PageUp)
    qtbot.waitUntil(lambda: timeline.hours.selected == 9, timeout=5000)
    qtbot.waitUntil(lambda: len(timeline.model.moment_rows()) == 3, timeout=10000)
    assert timeline.model.rowCount() == 4  # 3 moments + the 23-minute gap
    gap_rows = [r for r in range(4) if timeline.model.moment_at(r) is None]
    assert len(gap_rows) == 1
    tip = timeline.model.data(timeline.model.index(gap_rows[0]), Qt.ItemDataRole.ToolTipRole)
    assert "No captures for 23 min" in tip
    # Arrow keys walk the moments; End jumps to the last.
    first = timeline.current_moment()
    qtbot.keyClick(timeline.strip, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: timeline.current_moment() is not None
                    and timeline.current_moment() != first, timeout=5000)
    qtbot.keyClick(timeline.strip, Qt.Key.Key_End)
    assert timeline.current_moment().app == "code"
    # The scrub slider moves through moments with the mouse/keyboard.
    timeline.scrub.setValue(0)
    assert timeline.current_moment().title == "Hotel Miramar booking"
    assert timeline.position.text() == "1 of 3 this hour"
    # Thumbnails were decoded off the UI thread and cached in memory.
    shell = app_parts.window.shell
    qtbot.waitUntil(lambda: len(shell.thumbs) >= 3, timeout=10000)


def test_hour_strip_mouse_picks_an_hour(qtbot, app_parts):
    timeline = _timeline(qtbot, app_parts)
    timeline.days.setCurrentRow(1)
    qtbot.waitUntil(lambda: timeline.hours.selected == 11, timeout=5000)
    strip = timeline.hours
    x = int(4 + 9.5 * (strip.width() - 8) / 24)
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(x, 20))
    assert strip.selected == 9
    qtbot.waitUntil(lambda: len(timeline.model.moment_rows()) == 3, timeout=10000)


def test_viewer_shows_everything_and_links_text_to_boxes(qtbot, app_parts):
    timeline = _timeline(qtbot, app_parts)
    timeline.days.setCurrentRow(1)
    qtbot.waitUntil(lambda: timeline.viewer.record is not None
                    and timeline.viewer.record.app == "thunderbird", timeout=10000)
    viewer = timeline.viewer
    qtbot.waitUntil(lambda: viewer.image.has_image, timeout=10000)
    record = viewer.record
    assert viewer.title.text() == SHOTS[3][2]
    assert "thunderbird" in viewer.meta.text() and "11:15:00" in viewer.meta.text()
    lines = viewer.text.toPlainText().splitlines()
    assert len(lines) == len(record.ocr.lines) >= 2
    assert any("beta" in line.lower() for line in lines)
    # Clicking a box on the image selects its text line...
    viewer.resize(1000, 600)
    qtbot.wait(50)
    target = viewer.image._box_rect(record.ocr.lines[1].box, viewer.image._target())
    qtbot.mouseClick(viewer.image, Qt.MouseButton.LeftButton, pos=target.center().toPoint())
    assert viewer.text.textCursor().selectedText() == lines[1]
    assert viewer.image.highlighted == {1}
    # ... and selecting text highlights its box.
    cursor = viewer.text.textCursor()
    cursor.setPosition(0)
    cursor.movePosition(cursor.MoveOperation.EndOfBlock, cursor.MoveMode.KeepAnchor)
    viewer.text.setTextCursor(cursor)
    assert viewer.image.highlighted == {0}
    # Copy: the text, marked to stay out of clipboard history.
    viewer.copy_text()
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.text() == lines[0]
    assert bytes(mime.data(PASSWORD_HINT).data()) == b"secret"
    # Forget this / this app / this hour are available, scoped to this memory.
    for button in (viewer.forget_this, viewer.forget_app, viewer.forget_hour):
        assert button.isEnabled()
    assert not viewer.note.isVisibleTo(viewer)
    from ui.backends import ForgetKind

    assert viewer.scope_for(ForgetKind.MEMORY).memory_id == record.id
    assert viewer.scope_for(ForgetKind.APP).app == "thunderbird"
    hour = viewer.scope_for(ForgetKind.RANGE)
    assert hour.since <= record.timestamp < hour.until
    assert (hour.until - hour.since).total_seconds() == 3600
