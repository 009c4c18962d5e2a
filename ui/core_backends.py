"""The GUI's Protocols (``ui.backends``) implemented over the real core features:
chat (``core.chat``), fine-grained forgetting (``core.forget``) and the capture service
(``core.service`` / ``core.supervisor``).

Everything here runs on worker threads (``ui.background``) and never touches widgets.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from core.chat.answer import Answer
from core.config import ENV_PREFIX, Paths
from core.errors import ModelError
from core.jobs import JobState
from core.memory import Memory
from core.privacy.pause import PauseControl
from core.service_status import ERROR, IDLE, LOCKED, STOPPED, WAITING, read_status
from core.supervisor import Supervisor, service_command
from ui.backends import (
    CaptureNowResult,
    ChatEvent,
    ChatReset,
    ChatSaved,
    ChatToken,
    Citation,
    Feature,
    ServiceState,
    ServiceStatus,
)

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

    def ask_stream(self, question: str, cancel: JobState,
                   conversation: str | None = None) -> Iterator[ChatEvent]:
        memory = self._memory
        with self._index_lock:  # one index build at a time (shared with search)
            if cancel.cancelled:
                return
            memory.warm_up()
        job = memory.chat(self._model).start(question, conversation=conversation)
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
                            if answer.conversation:
                                yield ChatSaved(answer.conversation)
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


# ------------------------------------------------------------------ capture service
class ServiceCapture:
    """``ServiceControl`` + ``ServiceRunner`` over the capture service (issue 4).

    Status comes from ``run/service-status.json`` (states, times and counts only) and the
    pause file (``core.privacy.pause``), which the service reads on its own — so pausing
    works whether or not this process started the service. ``set_enabled(True)`` runs the
    service under ``core.supervisor.Supervisor`` (restarts with back-off; when it gives up,
    the status turns to ERROR with its message). Capture now is offered only while no
    service holds the vault's writer lock.
    """

    def __init__(self, memory: Memory, paths: Paths, display_available: bool, *,
                 command: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
                 supervisor_options: Mapping[str, float] | None = None) -> None:
        self._memory = memory
        self._paths = paths
        self._display = display_available
        self._command = list(command) if command is not None else None
        self._env = dict(env) if env is not None else None
        self._options = dict(supervisor_options or {})
        self._supervisor: Supervisor | None = None
        self._gave_up = ""  # written by the supervisor thread, read by the UI
        self._events: list[str] = []

    # ---------------------------------------------------------------- features
    @property
    def pause_feature(self) -> Feature:
        return Feature.yes()

    @property
    def capture_now_feature(self) -> Feature:
        if not self._display:
            return Feature.later("There is no screen to capture in this session.")
        if self._service_running():
            return Feature.later("The capture service is capturing already.")
        return Feature.yes()

    # ----------------------------------------------------------------- runner
    @property
    def enabled(self) -> bool:
        return self._supervisor is not None

    @property
    def events(self) -> list[str]:
        """The supervisor's event kinds, in order (started, exited, restarting, ...)."""
        return list(self._events)

    def set_enabled(self, on: bool) -> None:
        if on and self._supervisor is None:
            self._gave_up = ""
            env = dict(self._env) if self._env is not None else dict(os.environ)
            env.setdefault(ENV_PREFIX + "HOME", str(self._paths.data_dir))
            env.setdefault(ENV_PREFIX + "CONFIG", str(self._paths.config_file))
            opts = self._options
            self._supervisor = Supervisor(
                self._command or service_command(), env=env,
                max_restarts=int(opts.get("max_restarts", 5)),
                backoff_s=float(opts.get("backoff_s", 1.0)),
                stable_after_s=float(opts.get("stable_after_s", 600.0)),
                on_event=lambda e: self._events.append(e.kind),
                on_gave_up=self._on_gave_up)
            self._supervisor.start()
        elif not on and self._supervisor is not None:
            supervisor, self._supervisor = self._supervisor, None
            supervisor.stop()
            self._gave_up = ""

    def _on_gave_up(self, message: str) -> None:
        self._gave_up = message

    def needs_policy(self) -> bool:
        status = read_status(self._paths.run_dir)
        return status is not None and status.state == WAITING

    # ----------------------------------------------------------------- status
    def _service_running(self) -> bool:
        status = read_status(self._paths.run_dir)
        return status is not None and status.state != STOPPED

    def status(self) -> ServiceStatus:
        raw = read_status(self._paths.run_dir)
        pause = PauseControl(self._paths.run_dir).state()
        running = raw is not None and raw.state != STOPPED
        last = datetime.fromisoformat(raw.last_capture) if raw and raw.last_capture else None
        captured = raw.frames_captured if raw and running else 0
        skipped = sum(raw.frames_skipped.values()) if raw and running else 0
        counts = dict(last_capture=last, captured=captured, skipped=skipped, running=running)
        if self._gave_up:
            return ServiceStatus(ServiceState.ERROR, self._gave_up, **counts)  # type: ignore[arg-type]
        if pause.paused:
            until = pause.until
            when = (f"until {until.astimezone():%H:%M}" if until is not None
                    else "until you resume it")
            note = "" if running else " (the capture service is not running)"
            return ServiceStatus(ServiceState.PAUSED, f"Paused {when}{note}",
                                 paused_until=until, **counts)  # type: ignore[arg-type]
        if not running:
            why = f" ({raw.error})" if raw is not None and raw.error else ""
            return ServiceStatus(ServiceState.STOPPED, f"Not capturing{why}.", **counts)  # type: ignore[arg-type]
        assert raw is not None
        if raw.state == ERROR:
            return ServiceStatus(ServiceState.ERROR, raw.error or "the last capture failed",
                                 **counts)  # type: ignore[arg-type]
        what = {WAITING: "waiting for you to unlock (your privacy lists are sealed)",
                LOCKED: "on hold while the screen is locked",
                IDLE: "on hold while you are away"}.get(raw.state, "")
        seen = (f"last capture {last.astimezone():%H:%M:%S}" if last is not None
                else "no capture yet")
        detail = (f"Capturing{' — ' + what if what else ''}: {seen}; {captured:,} stored, "
                  f"{skipped:,} skipped")
        return ServiceStatus(ServiceState.CAPTURING, detail, **counts)  # type: ignore[arg-type]

    # ---------------------------------------------------------- pause / resume
    def pause(self, minutes: int | None) -> None:
        PauseControl(self._paths.run_dir).pause(
            timedelta(minutes=minutes) if minutes is not None else None)

    def resume(self) -> None:
        PauseControl(self._paths.run_dir).resume()

    def capture_now(self) -> CaptureNowResult:
        report = self._memory.capture_once()
        return CaptureNowResult(stored=len(report.stored), skipped=sum(report.skipped.values()))

    def close(self) -> None:
        self.set_enabled(False)
