"""The GUI's Protocols (``ui.backends``) implemented over the real core features:
chat (``core.chat``), fine-grained forgetting (``core.forget``) and the capture service
(``core.service`` / ``core.supervisor``).

Everything here runs on worker threads (``ui.background``) and never touches widgets.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from core.chat.answer import Answer
from core.errors import ModelError
from core.jobs import JobState
from core.memory import Memory
from ui.backends import ChatEvent, ChatReset, ChatToken, Citation, Feature

_POLL_S = 0.1


def _citations(answer: Answer) -> list[Citation]:
    out = []
    for c in answer.citations:
        label = " · ".join(p for p in (c.app, c.title) if p)
        out.append(Citation(number=c.n, memory_id=c.id, timestamp=c.timestamp, label=label))
    return out


class MemoryChat:
    """A ``ChatBackend`` over ``Memory.chat(model).start(...)``.

    Streams tokens as the model writes them. A ``status`` event means the text so far is
    discarded (the engine retries with a wider search): a :class:`ChatReset` tells the panel
    to clear the partial answer. The final answer's text is authoritative (citations are
    renumbered, unsupported answers replaced), so the stream ends with a reset, that text
    and its citations. Cancelling the UI job cancels generation at the next token.
    """

    def __init__(self, memory: Memory, index_lock: threading.Lock | None = None,
                 model: str | None = None) -> None:
        self._memory = memory
        self._index_lock = index_lock or threading.Lock()
        self._model = model

    @property
    def feature(self) -> Feature:
        return Feature.yes()

    def ask_stream(self, question: str, cancel: JobState) -> Iterator[ChatEvent]:
        memory = self._memory
        with self._index_lock:  # one index build at a time (shared with search)
            if cancel.cancelled:
                return
            memory.warm_up()
        job = memory.chat(self._model).start(question)
        streamed = ""
        failure: BaseException | None = None
        try:
            while True:
                try:
                    for event in job.events(timeout=_POLL_S):
                        if cancel.cancelled:
                            job.cancel()
                            return
                        if event.kind == "token":
                            streamed += event.text
                            yield ChatToken(event.text)
                        elif event.kind == "status":
                            if streamed:
                                streamed = ""
                                yield ChatReset(event.text)
                        elif event.kind == "done":
                            answer = event.answer
                            assert answer is not None
                            if streamed != answer.text:
                                yield ChatReset("")
                                yield ChatToken(answer.text)
                            yield from _citations(answer)
                            return
                        elif event.kind == "error":
                            if cancel.cancelled:
                                return
                            failure = event.error or ModelError(event.text or "the answer "
                                                                "failed")
                            break
                except ModelError:  # no event within _POLL_S: check for cancellation
                    if cancel.cancelled:
                        job.cancel()
                        return
                    continue
                if failure is not None:
                    raise failure
                return
        finally:
            if cancel.cancelled:
                job.cancel()
