"""Backends over the current ``Memory`` facade (features core has today), and honest
"not available" backends for features other parts of the project are still building."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from core.forget import ForgetRequest
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

SERVICE_LATER = ("Comes with the capture service: continuous capture, pause and resume run "
                 "in a background service that is not in this build yet.")
CHAT_LATER = ("Chat needs the chat component (a local language model that answers from your "
              "memories). It is not in this build yet; search works now.")


class FacadeForget(ForgetBackend):
    """Forget through ``Memory`` (core/forget.py): everything, one moment, an app, a time
    range or the last minutes. The preview is the exact plan core will carry out."""

    def __init__(self, memory: Memory) -> None:
        self._memory = memory

    def supports(self, kind: ForgetKind) -> Feature:
        return Feature.yes()

    def preview(self, scope: ForgetScope) -> ForgetPreview:
        if scope.kind is ForgetKind.EVERYTHING:
            stats = self._memory.stats()
            return ForgetPreview(memories=stats.memories, data_keys=stats.data_keys,
                                 bytes_on_disk=stats.bytes_store, oldest=stats.oldest_bucket,
                                 newest=stats.newest_bucket)
        plan = self._memory.plan_forget(request_for(scope))
        stats = self._memory.stats()
        share = plan.count / stats.memories if stats.memories else 0.0
        return ForgetPreview(memories=plan.count, data_keys=self._memory.forget_keys(plan),
                             bytes_on_disk=int(stats.bytes_store * share), oldest=plan.first,
                             newest=plan.last, apps=tuple(plan.apps.items()))

    def forget(self, scope: ForgetScope, job: JobState) -> ForgetOutcome:
        if scope.kind is ForgetKind.EVERYTHING:
            job.set_status("Forgetting everything")
            report = self._memory.forget_all()
        else:
            job.set_status("Forgetting")
            report = self._memory.forget(self._memory.plan_forget(request_for(scope)))
        return ForgetOutcome(memories=report.memories, data_keys=report.data_keys,
                             bytes_freed=report.bytes_freed)


def request_for(scope: ForgetScope, now: datetime | None = None) -> ForgetRequest:
    """The core request for a GUI scope (everything is not a request: ``forget_all``)."""
    from core.errors import InvalidInput

    if scope.kind is ForgetKind.MEMORY and scope.memory_id:
        return ForgetRequest(ids=(scope.memory_id,))
    if scope.kind is ForgetKind.APP and scope.app:
        return ForgetRequest(app=scope.app)
    if scope.kind is ForgetKind.RANGE and (scope.since or scope.until):
        return ForgetRequest(since=scope.since, until=scope.until)
    if scope.kind is ForgetKind.LAST_MINUTES and scope.minutes and scope.minutes > 0:
        return ForgetRequest(since=(now or datetime.now(UTC)) - timedelta(minutes=scope.minutes))
    raise InvalidInput("say what to forget: a moment, an app, a time range or the last "
                       "minutes")


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
