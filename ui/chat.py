"""Chat: streaming answers with clickable [n] citations that open the cited moment,
a conversation list, and a stop button. Written against ``ui.backends.ChatBackend``.

Saved conversations come from the core's encrypted ConversationStore (``core.chat``),
listed, opened, continued and deleted through the session (background helper). What the
panel shows is dropped on lock (chat history is user content, SECURITY.md R1). The backend
is ``ui.core_backends.MemoryChat`` over ``core.chat``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.chat.conversations import ConversationSummary
from core.chat.conversations import Turn as SavedTurn
from ui.backends import ChatBackend, ChatReset, ChatSaved, ChatToken, Citation
from ui.background import Handle, Job, user_message
from ui.session import Session
from ui.theme import Theme

_CITE = re.compile(r"\[(\d{1,3})\]")


@dataclass
class Turn:
    question: str
    answer: str = ""
    citations: dict[int, Citation] = field(default_factory=dict)
    error: str = ""
    stopped: bool = False
    done: bool = False


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)
    id: str | None = None  # the saved conversation's id (None until its first turn is saved)
    saved_title: str = ""
    updated: datetime | None = None
    loaded: bool = True  # False: a saved conversation whose turns are not read yet

    @property
    def title(self) -> str:
        q = self.turns[0].question if self.turns else self.saved_title
        if not q:
            return "New conversation"
        return q if len(q) <= 40 else q[:39] + "…"

    @property
    def label(self) -> str:
        """The list entry: the first question, and when it was last continued."""
        when = self.updated.astimezone() if self.updated is not None else None
        if when is None:
            return self.title
        today = datetime.now().astimezone().date()
        stamp = f"{when:%H:%M}" if when.date() == today else f"{when:%d %b %Y}"
        return f"{self.title}\n{stamp}"


def turn_from_saved(saved: SavedTurn) -> Turn:
    cites = {c.n: Citation(number=c.n, memory_id=c.id, timestamp=c.timestamp,
                           label=" · ".join(p for p in (c.app, c.title) if p))
             for c in saved.citations}
    return Turn(question=saved.question, answer=saved.answer, citations=cites, done=True)


def render_answer(turn: Turn) -> str:
    """HTML for one answer; [n] becomes a link when citation n is known."""
    text = html.escape(turn.answer)

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        cite = turn.citations.get(n)
        if cite is None:
            return match.group(0)
        tip = html.escape(cite.label or "")
        return f'<a href="cite:{cite.memory_id}" title="{tip}">[{n}]</a>'

    body = _CITE.sub(link, text).replace("\n", "<br>")
    if turn.error:
        body += f'<br><i>{html.escape(turn.error)}</i>'
    elif turn.stopped:
        body += "<br><i>(stopped)</i>"
    return body


def render_conversation(conv: Conversation) -> str:
    parts = []
    for turn in conv.turns:
        parts.append(f'<p style="margin-top:14px"><b>You</b><br>'
                     f'{html.escape(turn.question)}</p>')
        answer = render_answer(turn) or "<i>…</i>"
        parts.append(f"<p><b>Afterimage</b><br>{answer}</p>")
        if turn.citations and turn.done:
            refs = " ".join(
                f'<a href="cite:{c.memory_id}">[{n}] {html.escape(c.label)}</a>'
                for n, c in sorted(turn.citations.items()))
            parts.append(f'<p style="font-size:small">Sources: {refs}</p>')
    return "".join(parts)


class ChatStream(QObject):
    """Runs one question through the backend on a worker and streams it into a Turn."""

    updated = Signal()
    finished = Signal()

    def __init__(self, session: Session, backend: ChatBackend, key: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._backend = backend
        self._key = key
        self._handle: Handle[object] | None = None
        self.turn: Turn | None = None
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(33)  # re-render at most ~30 times a second
        self._flush.timeout.connect(self.updated.emit)

    @property
    def running(self) -> bool:
        return self._handle is not None and not self._handle.finished

    saved = Signal(str)  # the conversation id the turn was saved in

    def ask(self, turn: Turn, conversation: str | None = None) -> None:
        self.turn = turn
        backend = self._backend

        def work(job: Job) -> None:
            stream = backend.ask_stream(turn.question, job, conversation) \
                if conversation is not None else backend.ask_stream(turn.question, job)
            for event in stream:
                if job.cancelled:
                    break
                job.emit(event)

        self._handle = self._session.background.read(
            work, on_item=self._item, on_success=self._done, on_failure=self._failed,
            key=self._key, name="chat")

    def stop(self) -> None:
        if self._handle is not None and not self._handle.finished:
            self._session.background.cancel(self._key)
            if self.turn is not None:
                self.turn.stopped = True
                self.turn.done = True
            self._handle = None
            self.updated.emit()
            self.finished.emit()

    def _item(self, event: object) -> None:
        turn = self.turn
        if turn is None:
            return
        if isinstance(event, ChatToken):
            turn.answer += event.text
        elif isinstance(event, Citation):
            turn.citations[event.number] = event
        elif isinstance(event, ChatReset):
            turn.answer = ""
            turn.citations.clear()
        elif isinstance(event, ChatSaved):
            self.saved.emit(event.conversation)
        if not self._flush.isActive():
            self._flush.start()

    def _done(self, _: object) -> None:
        if self.turn is not None:
            self.turn.done = True
        self._handle = None
        self._flush.stop()
        self.updated.emit()
        self.finished.emit()

    def _failed(self, exc: BaseException) -> None:
        if self.turn is not None:
            self.turn.error = user_message(exc)
            self.turn.done = True
        self._handle = None
        self.updated.emit()
        self.finished.emit()


class ChatPanel(QWidget):
    open_memory = Signal(str)

    def __init__(self, session: Session, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._conversations: list[Conversation] = []
        self._current: Conversation | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.banner = QLabel("", self)
        self.banner.setWordWrap(True)
        self.banner.setObjectName("chatBanner")
        self.banner.setMargin(10)
        lay.addWidget(self.banner)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        left = QWidget(split)
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        self.new_button = QPushButton("New conversation", left)
        self.new_button.clicked.connect(self.new_conversation)
        left_lay.addWidget(self.new_button)
        self.conversations = QListWidget(left)
        self.conversations.setAccessibleName("Conversations")
        self.conversations.setWordWrap(True)
        self.conversations.currentRowChanged.connect(self._pick)
        left_lay.addWidget(self.conversations, 1)
        self.delete_button = QPushButton(theme.icon("forget"), "Delete…", left)
        self.delete_button.setToolTip("Delete the selected conversation for ever (Del)")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self.delete_current)
        left_lay.addWidget(self.delete_button)
        self.list_status = QLabel("", left)
        self.list_status.setWordWrap(True)
        left_lay.addWidget(self.list_status)
        from PySide6.QtGui import QKeySequence, QShortcut

        delete_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete),
                               self.conversations)
        delete_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete_key.activated.connect(self.delete_current)
        # Swappable for tests: asks the user; True deletes.
        self.confirm_delete: Callable[[Conversation], bool] = self._ask_delete
        split.addWidget(left)
        right = QWidget(split)
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(0, 0, 0, 0)
        self.transcript = QTextBrowser(right)
        self.transcript.setOpenLinks(False)
        self.transcript.setOpenExternalLinks(False)
        self.transcript.setAccessibleName("Conversation")
        self.transcript.anchorClicked.connect(self._anchor)
        self.transcript.setPlaceholderText(
            "Ask about anything you saw: “What was the name of the hotel I looked at on "
            "Tuesday?” Answers cite the moments they come from; click a [number] to see it.")
        right_lay.addWidget(self.transcript, 1)
        row = QHBoxLayout()
        self.input = QLineEdit(right)
        self.input.setPlaceholderText("Ask a question about what you saw…")
        self.input.setAccessibleName("Question")
        self.input.returnPressed.connect(self.send)
        row.addWidget(self.input, 1)
        self.send_button = QPushButton(theme.icon("send"), "Ask", right)
        self.send_button.clicked.connect(self.send)
        row.addWidget(self.send_button)
        self.stop_button = QPushButton(theme.icon("stop"), "Stop", right)
        self.stop_button.setEnabled(False)
        self.stop_button.setShortcut("Esc")
        self.stop_button.clicked.connect(self.stop)
        row.addWidget(self.stop_button)
        right_lay.addLayout(row)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setSizes([220, 660])
        lay.addWidget(split, 1)
        self.stream = ChatStream(session, session.chat, key="chat", parent=self)
        self.stream.updated.connect(self._render)
        self.stream.finished.connect(self._finished)
        self.stream.saved.connect(self._saved)
        session.locked.connect(self.clear)
        session.opened.connect(self._rebind)
        session.unlocked.connect(self.load_conversations)
        self._apply_feature()
        if session.is_unlocked:
            self.load_conversations()

    def _rebind(self) -> None:
        self.stream = ChatStream(self._session, self._session.chat, key="chat", parent=self)
        self.stream.updated.connect(self._render)
        self.stream.finished.connect(self._finished)
        self.stream.saved.connect(self._saved)
        self._apply_feature()

    def _apply_feature(self) -> None:
        feature = self._session.chat.feature
        self.banner.setText(feature.note)
        self.banner.setVisible(not feature.available)
        for w in (self.input, self.send_button, self.new_button):
            w.setEnabled(feature.available)

    @property
    def conversation_count(self) -> int:
        return len(self._conversations)

    def new_conversation(self) -> None:
        if self._current is not None and not self._current.turns and self._current.loaded \
                and self._current.id is None:
            self.input.setFocus()
            return
        conv = Conversation()
        self._conversations.insert(0, conv)
        self.conversations.insertItem(0, QListWidgetItem(conv.label))
        self.conversations.setCurrentRow(0)
        self.input.setFocus()

    # --------------------------------------------------------- saved history
    def load_conversations(self) -> None:
        if not self._session.is_unlocked or not self._session.has_vault:
            return
        self._session.chat_conversations(self._got_conversations,
                                         on_failure=self._list_failed)

    def _got_conversations(self, saved: list[ConversationSummary]) -> None:
        if not self._session.is_unlocked:
            return
        known = {c.id: c for c in self._conversations if c.id is not None}
        current = self._current
        fresh = [c for c in self._conversations if c.id is None]  # not saved yet
        listed = []
        for summary in saved:
            conv = known.get(summary.id) or Conversation(id=summary.id, loaded=False)
            conv.saved_title = summary.title
            conv.updated = summary.updated
            listed.append(conv)
        self._conversations = fresh + listed
        self.conversations.blockSignals(True)
        self.conversations.clear()
        for conv in self._conversations:
            item = QListWidgetItem(conv.label)
            item.setToolTip(conv.saved_title or conv.title)
            self.conversations.addItem(item)
        row = self._conversations.index(current) if current in self._conversations else -1
        self.conversations.setCurrentRow(row)
        self.conversations.blockSignals(False)
        if current is not None and row < 0:
            self._current = None
            self._render()
        self.list_status.setText("" if self._conversations else "No saved conversations.")
        self._update_buttons()

    def _list_failed(self, exc: BaseException) -> None:
        self.list_status.setText(f"Saved conversations could not be read: "
                                 f"{user_message(exc)}")

    def _saved(self, conversation: str) -> None:
        stream_turn = self.stream.turn
        for row, conv in enumerate(self._conversations):
            if stream_turn is not None and stream_turn in conv.turns:
                conv.id = conversation
                conv.updated = datetime.now().astimezone()
                self.conversations.item(row).setText(conv.label)
                break
        self._update_buttons()

    def _load_turns(self, conv: Conversation) -> None:
        assert conv.id is not None

        def done(saved: list[SavedTurn]) -> None:
            if conv not in self._conversations or not self._session.is_unlocked:
                return
            conv.turns = [turn_from_saved(t) for t in saved]
            conv.loaded = True
            if conv is self._current:
                self._render()

        self._session.chat_turns(conv.id, done, on_failure=self._list_failed)

    def delete_current(self) -> None:
        conv = self._current
        if conv is None or self.stream.running or not self.confirm_delete(conv):
            return
        if conv.id is None:
            self._drop(conv)
            return
        self.delete_button.setEnabled(False)
        self._session.delete_conversation(
            conv.id, lambda n: self._deleted(conv, n), on_failure=self._list_failed)

    def _deleted(self, conv: Conversation, turns: int) -> None:
        self._drop(conv)
        self.list_status.setText(f"Deleted the conversation ({turns} "
                                 f"question{'s' if turns != 1 else ''}).")

    def _drop(self, conv: Conversation) -> None:
        if conv not in self._conversations:
            return
        row = self._conversations.index(conv)
        self._conversations.pop(row)
        self.conversations.blockSignals(True)
        self.conversations.takeItem(row)
        self.conversations.setCurrentRow(-1)
        self.conversations.blockSignals(False)
        self._current = None
        self._render()
        self._update_buttons()

    def _ask_delete(self, conv: Conversation) -> bool:
        answer = QMessageBox.question(
            self, "Delete conversation",
            f"Delete “{conv.title}” for ever? Its questions and answers are removed from "
            "the vault; the memories it cites are kept.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _update_buttons(self) -> None:
        self.delete_button.setEnabled(self._current is not None and not self.stream.running
                                      and (self._current.id is not None
                                           or bool(self._current.turns)))

    def send(self) -> None:
        question = self.input.text().strip()
        if not question or self.stream.running or not self._session.chat.feature.available \
                or not self._session.is_unlocked:
            return
        if self._current is None:
            self.new_conversation()
        assert self._current is not None
        if not self._current.loaded:
            return  # its saved turns are still being read
        turn = Turn(question)
        self._current.turns.append(turn)
        row = self._conversations.index(self._current)
        self.conversations.item(row).setText(self._current.label)
        self.input.clear()
        self.stop_button.setEnabled(True)
        self.send_button.setEnabled(False)
        self.stream.ask(turn, self._current.id)
        self._render()
        self._update_buttons()

    def stop(self) -> None:
        self.stream.stop()

    def clear(self) -> None:
        self.stream.stop()
        self._conversations.clear()
        self._current = None
        self.conversations.clear()
        self.transcript.clear()
        self.input.clear()
        self.list_status.clear()
        self.stop_button.setEnabled(False)
        self._apply_feature()
        self._update_buttons()

    def _finished(self) -> None:
        self.stop_button.setEnabled(False)
        self.send_button.setEnabled(self._session.chat.feature.available)
        self._update_buttons()

    def _pick(self, row: int) -> None:
        self._current = self._conversations[row] if 0 <= row < len(self._conversations) \
            else None
        if self._current is not None and not self._current.loaded:
            self._load_turns(self._current)
        self._render()
        self._update_buttons()

    def _render(self) -> None:
        if self._current is None:
            self.transcript.clear()
            return
        bar = self.transcript.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        self.transcript.setHtml(render_conversation(self._current))
        if at_end:
            bar.setValue(bar.maximum())

    def _anchor(self, url: QUrl) -> None:
        if url.scheme() == "cite" and url.path():
            self.open_memory.emit(url.path())


class QuickChat(QDialog):
    """The tray's quick-chat popup: one question, one streamed answer."""

    open_memory = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.setWindowTitle("Ask Afterimage")
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.resize(460, 300)
        lay = QVBoxLayout(self)
        self.note = QLabel("", self)
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.input = QLineEdit(self)
        self.input.setPlaceholderText("Ask a question about what you saw…")
        self.input.returnPressed.connect(self.send)
        lay.addWidget(self.input)
        self.answer = QTextBrowser(self)
        self.answer.setOpenLinks(False)
        self.answer.anchorClicked.connect(
            lambda url: self.open_memory.emit(url.path()) if url.scheme() == "cite" else None)
        lay.addWidget(self.answer, 1)
        self.stream = ChatStream(session, session.chat, key="quick-chat", parent=self)
        self.stream.updated.connect(self._render)
        session.locked.connect(self.clear)

    def prepare(self) -> None:
        feature = self._session.chat.feature
        if not self._session.is_unlocked:
            self.note.setText("Unlock Afterimage to ask about your memories.")
        else:
            self.note.setText(feature.note)
        ok = feature.available and self._session.is_unlocked
        self.note.setVisible(not ok)
        self.input.setEnabled(ok)
        self.input.setFocus()

    def send(self) -> None:
        question = self.input.text().strip()
        if question and not self.stream.running:
            self.stream = ChatStream(self._session, self._session.chat, key="quick-chat",
                                     parent=self)
            self.stream.updated.connect(self._render)
            self.stream.ask(Turn(question))

    def _render(self) -> None:
        if self.stream.turn is not None:
            self.answer.setHtml(render_answer(self.stream.turn))

    def clear(self) -> None:
        self.stream.stop()
        self.stream.turn = None
        self.input.clear()
        self.answer.clear()
        self.hide()
