"""Backends over the current ``Memory`` facade (features core has today), and honest
"not available" backends for features other parts of the project are still building."""

from __future__ import annotations

from collections.abc import Iterator

from core.jobs import JobState
from core.memory import Memory
from ui.backends import (
    CaptureNowResult,
    ChatEvent,
    Feature,
    ForgetBackend,
    ForgetKind,
    ForgetOutcome,
    ForgetPreview,
    ForgetScope,
    ServiceState,
    ServiceStatus,
)

FORGET_LATER = ("Comes with the vault update: forgetting a moment, an app, an hour or the "
                "last minutes re-keys the hours it touches, which this build cannot do yet. "
                "Forget everything works now.")
SERVICE_LATER = ("Comes with the capture service: continuous capture, pause and resume run "
                 "in a background service that is not in this build yet.")
CHAT_LATER = ("Chat needs the chat component (a local language model that answers from your "
              "memories). It is not in this build yet; search works now.")


class FacadeForget(ForgetBackend):
    """Forget through ``Memory``: everything works; finer scopes come with the vault issue."""

    def __init__(self, memory: Memory) -> None:
        self._memory = memory

    def supports(self, kind: ForgetKind) -> Feature:
        return Feature.yes() if kind is ForgetKind.EVERYTHING else Feature.later(FORGET_LATER)

    def preview(self, scope: ForgetScope) -> ForgetPreview:
        self._check(scope)
        stats = self._memory.stats()
        return ForgetPreview(memories=stats.memories, data_keys=stats.data_keys,
                             bytes_on_disk=stats.bytes_store, oldest=stats.oldest_bucket,
                             newest=stats.newest_bucket)

    def forget(self, scope: ForgetScope, job: JobState) -> ForgetOutcome:
        self._check(scope)
        job.set_status("Forgetting everything")
        report = self._memory.forget_all()
        return ForgetOutcome(memories=report.memories, data_keys=report.data_keys,
                             bytes_freed=report.bytes_freed)

    def _check(self, scope: ForgetScope) -> None:
        from core.errors import InvalidInput

        if scope.kind is not ForgetKind.EVERYTHING:
            raise InvalidInput("this build can only forget everything")


class LocalCaptureControl:
    """No capture service yet: report it, and offer a one-off capture through the facade."""

    def __init__(self, memory: Memory, display_available: bool) -> None:
        self._memory = memory
        self._display = display_available

    @property
    def pause_feature(self) -> Feature:
        return Feature.later(SERVICE_LATER)

    @property
    def capture_now_feature(self) -> Feature:
        if not self._display:
            return Feature.later("There is no screen to capture in this session.")
        return Feature.yes()

    def status(self) -> ServiceStatus:
        return ServiceStatus(ServiceState.STOPPED, "Continuous capture is not running "
                                                   "(it comes with the capture service).")

    def pause(self, minutes: int | None) -> None:
        from core.errors import InvalidInput

        raise InvalidInput(SERVICE_LATER)

    def resume(self) -> None:
        from core.errors import InvalidInput

        raise InvalidInput(SERVICE_LATER)

    def capture_now(self) -> CaptureNowResult:
        report = self._memory.capture_once()
        return CaptureNowResult(stored=len(report.stored), skipped=sum(report.skipped.values()))


class UnavailableChat:
    """The chat panel's backend until the chat component lands."""

    @property
    def feature(self) -> Feature:
        return Feature.later(CHAT_LATER)

    def ask_stream(self, question: str, cancel: JobState) -> Iterator[ChatEvent]:
        from core.errors import ModelError

        raise ModelError(CHAT_LATER)
