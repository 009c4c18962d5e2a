"""The chat API the CLI and the GUI use: blocking ``ask`` or a streaming, cancellable job.

``ChatService.start(question)`` runs the engine on a worker thread and returns an
:class:`AskJob`; iterate ``job.events()`` for ``token`` / ``status`` events and one final
``done`` (with the :class:`~core.chat.answer.Answer`) or ``error`` event. ``job.cancel()``
stops generation at the next token (the job then ends with a ``Cancelled`` error event).
Streamed tokens are provisional: the final answer's text is authoritative (citations are
renumbered, and an unsupported answer is replaced). A ``status`` event of
``"retrying with a wider search"`` means the text streamed so far is discarded.

One generation runs at a time per service (llama.cpp contexts are not thread-safe).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from core.chat.answer import Answer, AskOptions, ChatEngine, ChatSettings, RecallSource
from core.chat.conversations import ConversationStore
from core.errors import AfterimageError, Cancelled, ModelError
from core.index import IndexFilter, MemoryIndex
from core.jobs import JobState
from core.llm import Llm
from core.records import MemoryRecord
from core.types import Embedder

_log = logging.getLogger(__name__)

RETRY_STATUS = "retrying with a wider search"


class IndexRecallSource:
    """A RecallSource over the in-memory index (``index`` is fetched on every call, so the
    Memory facade can refresh it between questions)."""

    def __init__(self, index: Callable[[], MemoryIndex], embedder: Callable[[], Embedder]
                 ) -> None:
        self._index = index
        self._embedder = embedder

    def apps(self) -> list[str]:
        return self._index().apps()

    def records_between(self, since: datetime | None, until: datetime | None,
                        app: str | None) -> Sequence[MemoryRecord]:
        return self._index().records_between(since, until, app)

    def search(self, query: str, *, since: datetime | None, until: datetime | None,
               app: str | None, limit: int) -> list[tuple[MemoryRecord, float]]:
        text = query.strip()
        vector = self._embedder().embed([text])[0] if text else None
        hits = self._index().search(vector, text, IndexFilter(since=since, until=until,
                                                                app=app), limit)
        return [(h.record, h.score) for h in hits]


@dataclass(frozen=True)
class ChatEvent:
    kind: str  # "token" | "status" | "done" | "error"
    text: str = ""
    answer: Answer | None = None
    error: AfterimageError | None = None


class AskJob:
    """A question being answered on a worker thread."""

    def __init__(self) -> None:
        self._events: queue.Queue[ChatEvent] = queue.Queue()
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._answer: Answer | None = None
        self._error: AfterimageError | None = None
        self.thread: threading.Thread | None = None

    # JobState-style
    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def set_progress(self, done: int, total: int) -> None:
        return None

    def set_status(self, text: str) -> None:
        return None

    def _put(self, event: ChatEvent) -> None:
        if event.kind == "done":
            self._answer = event.answer
        elif event.kind == "error":
            self._error = event.error
        self._events.put(event)
        if event.kind in ("done", "error"):
            self._done.set()

    def events(self, timeout: float | None = None) -> Iterator[ChatEvent]:
        """Events until the job ends (``timeout`` bounds the wait for each one)."""
        while True:
            try:
                event = self._events.get(timeout=timeout)
            except queue.Empty as exc:
                raise ModelError("the answer timed out") from exc
            yield event
            if event.kind in ("done", "error"):
                return

    def result(self, timeout: float | None = None) -> Answer:
        if not self._done.wait(timeout):
            raise ModelError("the answer timed out")
        if self._error is not None:
            raise self._error
        assert self._answer is not None
        return self._answer


class ChatService:
    """Answers questions and keeps the (encrypted) conversation history."""

    def __init__(self, source: RecallSource, llm: Callable[[], Llm] | None,
                 *, settings: ChatSettings | None = None,
                 conversations: ConversationStore | None = None) -> None:
        self._engine = ChatEngine(source, llm, settings)
        self._conversations = conversations
        self._busy = threading.Lock()

    @property
    def engine(self) -> ChatEngine:
        return self._engine

    def ask(self, question: str, options: AskOptions | None = None, *,
            on_token: Callable[[str], None] | None = None,
            on_status: Callable[[str], None] | None = None,
            state: JobState | None = None, conversation: str | None = None,
            save: bool = True) -> Answer:
        """Answer now, on this thread (the CLI; tests)."""
        cancelled = (lambda: state.cancelled) if state is not None else None
        with self._busy:
            answer = self._engine.answer(question, options, on_token=on_token,
                                         on_status=on_status, cancelled=cancelled)
        if save and self._conversations is not None:
            conv, turn = self._conversations.add_turn(answer, conversation)
            answer = replace(answer, conversation=conv, turn_id=turn)
        return answer

    def start(self, question: str, options: AskOptions | None = None, *,
              conversation: str | None = None, save: bool = True) -> AskJob:
        """Answer on a worker thread; returns at once."""
        job = AskJob()

        def work() -> None:
            try:
                answer = self.ask(question, options,
                                  on_token=lambda t: job._put(ChatEvent("token", t)),
                                  on_status=lambda s: job._put(ChatEvent("status", s)),
                                  state=job, conversation=conversation, save=save)
            except Cancelled as exc:
                job._put(ChatEvent("error", str(exc), error=exc))
            except AfterimageError as exc:
                _log.warning("chat failed: %s", type(exc).__name__)
                job._put(ChatEvent("error", str(exc), error=exc))
            except Exception as exc:  # noqa: BLE001 - a worker must always end its job
                _log.error("chat worker crashed (%s)", type(exc).__name__)
                err = ModelError(f"the answer failed unexpectedly ({type(exc).__name__})")
                job._put(ChatEvent("error", str(err), error=err))
            else:
                job._put(ChatEvent("done", answer.text, answer=answer))

        job.thread = threading.Thread(target=work, name="afterimage-chat", daemon=True)
        job.thread.start()
        return job

    def close(self) -> None:
        """Unload the model (drops its KV cache, which holds decrypted evidence)."""
        with self._busy:
            self._engine.close()
