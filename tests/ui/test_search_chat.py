"""Search as you type and chat (streaming, citations, stop) against a real vault."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, QUrl

from tests.ui.conftest import ScriptedChat, unlock
from ui.search import split_time_words


def test_search_as_you_type_filters_and_keyboard(qtbot, app_parts):
    unlock(qtbot, app_parts)
    window = app_parts.window
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    shell = window.shell
    panel = shell.search
    assert shell.current_key == "search"
    assert panel.box.hasFocus() or window.focusWidget() is panel.box
    runs = []
    panel.searched.connect(lambda n, s: runs.append(n))
    qtbot.keyClicks(panel.box, "hotel booking")  # typed fast: one search after the pause
    qtbot.waitUntil(lambda: len(runs) >= 1, timeout=30000)
    qtbot.wait(300)
    assert len(runs) == 1
    titles = [panel.model.hit(r).title for r in range(panel.model.rowCount())]
    assert titles[0] == "Hotel Miramar booking"
    assert panel.status.text().endswith("results")
    # App filter.
    panel.app.setText("code")
    qtbot.waitUntil(lambda: len(runs) == 2, timeout=10000)
    assert {panel.model.hit(r).app for r in range(panel.model.rowCount())} == {"code"}
    panel.app.clear()
    qtbot.waitUntil(lambda: len(runs) == 3, timeout=10000)
    # Time filter: nothing from the last hour (the memories are from 2024).
    panel.when.setCurrentText("Last hour")
    qtbot.waitUntil(lambda: len(runs) == 4, timeout=10000)
    assert panel.model.rowCount() == 0 and panel.status.text() == "Nothing found"
    panel.when.setCurrentText("Any time")
    qtbot.waitUntil(lambda: len(runs) == 5, timeout=10000)
    # Thumbnails arrive for the results.
    qtbot.waitUntil(lambda: len(shell.thumbs) >= 1, timeout=10000)
    # Keyboard: Down moves into the results, Enter opens the memory in the viewer.
    panel.box.setFocus()
    qtbot.keyClick(panel.box, Qt.Key.Key_Down)
    assert panel.results.hasFocus() or window.focusWidget() is panel.results
    qtbot.keyClick(panel.results, Qt.Key.Key_Return)
    assert shell.current_key == "viewer"
    qtbot.waitUntil(lambda: shell.viewer.record is not None, timeout=10000)
    assert shell.viewer.record.title == "Hotel Miramar booking"
    shell.viewer.back.click()
    assert shell.current_key == "search"


def test_time_words_in_the_query():
    now = datetime(2024, 5, 14, 15, 0).astimezone()
    query, since, until = split_time_words("invoice from yesterday", now)
    assert query == "invoice"
    assert since.date().isoformat() == "2024-05-13" and until.date().isoformat() == "2024-05-14"
    query, since, until = split_time_words("hotel last 3 days", now)
    assert query == "hotel" and (now - since).days == 3 and until is None
    assert split_time_words("plain words", now) == ("plain words", None, None)


def test_real_chat_answers_an_aggregate_question_with_citations(qtbot, app_parts, vault):
    """The real chat component (core.chat): an aggregate question needs no language model,
    so the answer is deterministic; its citation opens the cited memory."""
    unlock(qtbot, app_parts)
    shell = app_parts.window.shell
    chat = shell.chat
    app_parts.window.show_page("chat")
    assert not chat.banner.isVisibleTo(chat)
    assert chat.input.isEnabled() and chat.send_button.isEnabled()
    chat.input.setText("How many times did I use firefox?")
    qtbot.keyClick(chat.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not chat.stream.running, timeout=60000)
    turn = chat.stream.turn
    assert turn is not None and turn.done and not turn.error, turn
    text = chat.transcript.toPlainText()
    assert "2" in turn.answer and "firefox" in turn.answer.lower(), turn.answer
    firefox = {vault.ids[0], vault.ids[1]}
    cited = {c.memory_id for c in turn.citations.values()}
    assert cited and cited <= firefox
    assert "Sources:" in text
    target = next(iter(cited))
    assert f"cite:{target}" in chat.transcript.toHtml()
    chat.transcript.anchorClicked.emit(QUrl(f"cite:{target}"))
    assert shell.current_key == "viewer"
    qtbot.waitUntil(lambda: shell.viewer.record is not None, timeout=10000)
    assert shell.viewer.record.id == target and shell.viewer.record.app == "firefox"


def test_chat_reset_discards_the_partial_answer(qtbot, app_parts, vault):
    from ui.backends import ChatReset, ChatToken, Feature

    class Retrying:
        feature = Feature.yes()

        def ask_stream(self, question, cancel):
            yield ChatToken("a wrong first draft")
            yield ChatReset("retrying with a wider search")
            yield ChatToken("the final answer")

    app_parts.session._chat_override = Retrying()
    app_parts.session._build_backends()
    app_parts.session.opened.emit()
    unlock(qtbot, app_parts)
    chat = app_parts.window.shell.chat
    chat.input.setText("anything")
    chat.send()
    qtbot.waitUntil(lambda: not chat.stream.running, timeout=10000)
    text = chat.transcript.toPlainText()
    assert "the final answer" in text and "first draft" not in text


def test_chat_streams_cites_and_stops(qtbot, app_parts, vault):
    backend = ScriptedChat(vault.ids, delay=0.005)
    app_parts.session._chat_override = backend
    app_parts.session._build_backends()
    app_parts.session.opened.emit()  # the panel rebinds to the new backend
    unlock(qtbot, app_parts)
    shell = app_parts.window.shell
    chat = shell.chat
    assert not chat.banner.isVisibleTo(chat) and chat.input.isEnabled()
    chat.input.setText("Where did I book a hotel?")
    qtbot.keyClick(chat.input, Qt.Key.Key_Return)
    assert chat.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not chat.stream.running, timeout=10000)
    html = chat.transcript.toHtml()
    assert "Hotel Miramar" in chat.transcript.toPlainText()
    assert f"cite:{vault.ids[0]}" in html and f"cite:{vault.ids[3]}" in html
    assert chat.conversation_count == 1
    assert chat.conversations.item(0).text() == "Where did I book a hotel?"
    # Clicking citation [1] opens the cited moment in the viewer.
    chat.transcript.anchorClicked.emit(QUrl(f"cite:{vault.ids[0]}"))
    assert shell.current_key == "viewer"
    qtbot.waitUntil(lambda: shell.viewer.record is not None, timeout=10000)
    assert shell.viewer.record.id == vault.ids[0]
    shell.viewer.back.click()
    assert shell.current_key == "chat"
    # Stop: a long answer is cut short and marked.
    backend.repeat, backend.delay = 200, 0.01
    chat.new_conversation()
    assert chat.conversation_count == 2
    chat.input.setText("Tell me everything")
    chat.send()
    qtbot.waitUntil(lambda: backend.tokens_sent > 5, timeout=5000)
    chat.stop_button.click()
    sent = backend.tokens_sent
    qtbot.wait(200)
    assert backend.tokens_sent - sent <= 2  # the worker noticed and stopped
    assert "(stopped)" in chat.transcript.toPlainText()
    assert not chat.stop_button.isEnabled()
