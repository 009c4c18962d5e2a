"""Chat: saved conversations (encrypted in the vault) are listed, opened, continued, started
and deleted from the panel."""

from __future__ import annotations

from datetime import UTC, datetime

from core.chat.answer import Answer, Citation
from core.memory import Memory
from tests.support import PASSPHRASE
from tests.ui.conftest import cheap_config, unlock
from ui.backends import ChatSaved, ChatToken, Feature


def _answer(question: str, text: str, cite: str | None = None) -> Answer:
    cites = (Citation(1, cite, datetime(2024, 5, 13, 9, 5, tzinfo=UTC), "firefox",
                      "Hotel Miramar booking"),) if cite else ()
    return Answer(question=question, text=text, citations=cites, route="rag", model="test",
                  supported=True)


def _seed(vault) -> tuple[str, str]:
    memory = Memory.open(cheap_config(), vault.paths)
    try:
        memory.unlock(PASSPHRASE)
        store = memory.conversations
        hotel, _ = store.add_turn(_answer("Where did I book a hotel?",
                                          "At the Hotel Miramar [1].", vault.ids[0]))
        store.add_turn(_answer("For which dates?", "Check-in on 14 June [1].", vault.ids[0]),
                       hotel)
        launch, _ = store.add_turn(_answer("When is the launch?", "On Friday."))
        return hotel, launch
    finally:
        memory.close()


class SavingChat:
    """Answers at once and saves the turn like core.chat does (MemoryChat)."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.continued: list[str | None] = []

    @property
    def feature(self) -> Feature:
        return Feature.yes()

    def ask_stream(self, question, cancel, conversation=None):
        self.continued.append(conversation)
        yield ChatToken("Noted.")
        conv, _ = self.memory.conversations.add_turn(_answer(question, "Noted."), conversation)
        yield ChatSaved(conv)


def _panel(qtbot, app_parts, vault):
    ids = _seed(vault)
    backend = SavingChat(app_parts.memory)
    app_parts.session._chat_override = backend
    app_parts.session._build_backends()
    app_parts.session.opened.emit()
    unlock(qtbot, app_parts)
    chat = app_parts.window.shell.chat
    qtbot.waitUntil(lambda: chat.conversation_count == 2, timeout=15000)
    return chat, backend, ids


def test_saved_conversations_are_listed_opened_and_continued(qtbot, app_parts, vault):
    chat, backend, (hotel, launch) = _panel(qtbot, app_parts, vault)
    labels = [chat.conversations.item(i).text() for i in range(2)]
    assert labels[0].startswith("When is the launch?")  # the most recent first
    assert labels[1].startswith("Where did I book a hotel?")
    assert "2024" in labels[1] or ":" in labels[1]  # when it was last continued
    assert not chat.delete_button.isEnabled()  # nothing selected
    chat.conversations.setCurrentRow(1)
    qtbot.waitUntil(lambda: "Check-in on 14 June" in chat.transcript.toPlainText(),
                    timeout=10000)
    text = chat.transcript.toPlainText()
    assert "Where did I book a hotel?" in text and "At the Hotel Miramar" in text
    assert f"cite:{vault.ids[0]}" in chat.transcript.toHtml()  # citations stay clickable
    assert chat.delete_button.isEnabled()
    # Continue it: the question goes to the same saved conversation.
    chat.input.setText("Which room?")
    chat.send()
    qtbot.waitUntil(lambda: not chat.stream.running, timeout=10000)
    assert backend.continued == [hotel]
    turns = app_parts.memory.conversations.turns(hotel)
    assert [t.question for t in turns] == ["Where did I book a hotel?", "For which dates?",
                                           "Which room?"]
    # A new conversation is saved as a new one and listed.
    chat.new_conversation()
    chat.input.setText("What did Dana own?")
    chat.send()
    qtbot.waitUntil(lambda: not chat.stream.running, timeout=10000)
    assert backend.continued[-1] is None
    assert len(app_parts.memory.conversations.conversations()) == 3
    chat.load_conversations()
    qtbot.waitUntil(lambda: chat.conversation_count == 3, timeout=10000)
    assert chat.conversations.item(0).text().startswith("What did Dana own?")
    # Lock: nothing of it stays in the panel.
    app_parts.session.lock()
    assert chat.conversation_count == 0 and chat.conversations.count() == 0
    assert chat.transcript.toPlainText() == ""


def test_delete_a_conversation_after_confirmation(qtbot, app_parts, vault):
    chat, _, (hotel, launch) = _panel(qtbot, app_parts, vault)
    chat.conversations.setCurrentRow(0)  # the launch conversation
    asked = []
    chat.confirm_delete = lambda conv: asked.append(conv.title) or False
    chat.delete_button.click()
    assert asked == ["When is the launch?"]
    assert chat.conversation_count == 2  # cancelled: nothing deleted
    chat.confirm_delete = lambda conv: True
    chat.delete_button.click()
    qtbot.waitUntil(lambda: chat.list_status.text().startswith("Deleted"), timeout=15000)
    assert chat.conversation_count == 1
    assert chat.conversations.item(0).text().startswith("Where did I book a hotel?")
    assert chat.transcript.toPlainText() == ""
    remaining = app_parts.memory.conversations.conversations()
    assert [c.id for c in remaining] == [hotel]
    assert app_parts.memory.conversations.turns(launch) == []
