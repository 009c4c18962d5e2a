"""MemoryChat maps core.chat's job events to the panel's events (no model, no Qt)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from core.chat.answer import Answer, Citation
from core.chat.service import RETRY_STATUS, AskJob, ChatEvent
from core.errors import ModelError
from ui.backends import ChatReset, ChatSaved, ChatToken
from ui.backends import Citation as UiCitation
from ui.core_backends import MemoryChat

WHEN = datetime(2024, 5, 13, 9, 5, tzinfo=UTC)


class _Job:
    def __init__(self) -> None:
        self.cancelled = False


class _Service:
    def __init__(self, events: list[ChatEvent], gate: threading.Event | None = None) -> None:
        self.events = events
        self.gate = gate
        self.job: AskJob | None = None

    def start(self, question: str, conversation: str | None = None) -> AskJob:
        job = AskJob()
        self.job = job
        self.conversation = conversation

        def feed() -> None:
            for event in self.events:
                if self.gate is not None and event.kind == "done":
                    self.gate.wait(5)
                    if job.cancelled:
                        job._put(ChatEvent("error", "cancelled", error=ModelError("x")))
                        return
                job._put(event)

        threading.Thread(target=feed, daemon=True).start()
        return job


class _Memory:
    def __init__(self, service: _Service) -> None:
        self.service = service

    def warm_up(self) -> None:
        return None

    def chat(self, model: str | None = None) -> _Service:
        return self.service


def _answer(text: str) -> Answer:
    return Answer(question="q", text=text, citations=(Citation(1, "id-1", WHEN, "firefox",
                                                               "Hotel"),),
                  route="rag", model="m", supported=True)


def test_retry_status_clears_and_final_text_wins():
    final = "Hotel Miramar [1]."
    service = _Service([ChatEvent("token", "wrong "), ChatEvent("token", "draft"),
                        ChatEvent("status", RETRY_STATUS), ChatEvent("token", "Hotel "),
                        ChatEvent("done", final, answer=_answer(final))])
    out = list(MemoryChat(_Memory(service)).ask_stream("q", _Job()))  # type: ignore[arg-type]
    text = ""
    for event in out:
        if isinstance(event, ChatReset):
            text = ""
        elif isinstance(event, ChatToken):
            text += event.text
    assert text == final
    cites = [e for e in out if isinstance(e, UiCitation)]
    assert cites == [UiCitation(1, "id-1", WHEN, "firefox · Hotel")]
    assert isinstance(out[2], ChatReset) and out[2].status == RETRY_STATUS


def test_error_event_raises_and_cancel_stops_generation():
    service = _Service([ChatEvent("error", "no model", error=ModelError("no model"))])
    try:
        list(MemoryChat(_Memory(service)).ask_stream("q", _Job()))  # type: ignore[arg-type]
    except ModelError as exc:
        assert "no model" in str(exc)
    else:
        raise AssertionError("the error was swallowed")
    gate = threading.Event()
    service = _Service([ChatEvent("token", "a"), ChatEvent("done", "a", answer=_answer("a"))],
                       gate)
    job = _Job()
    stream = MemoryChat(_Memory(service)).ask_stream("q", job)  # type: ignore[arg-type]
    assert next(stream) == ChatToken("a")
    job.cancelled = True
    assert list(stream) == []
    assert service.job is not None and service.job.cancelled  # generation was told to stop
    gate.set()


def test_a_saved_turn_names_its_conversation_and_continues_one():
    from dataclasses import replace

    final = "Hotel Miramar [1]."
    saved = replace(_answer(final), conversation="c0ffee", turn_id="t1")
    service = _Service([ChatEvent("done", final, answer=saved)])
    out = list(MemoryChat(_Memory(service)).ask_stream(  # type: ignore[arg-type]
        "q", _Job(), "c0ffee"))
    assert service.conversation == "c0ffee"  # the question continues that conversation
    assert out[-1] == ChatSaved("c0ffee")
