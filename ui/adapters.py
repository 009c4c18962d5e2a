"""Backends over the ``Memory`` facade: forgetting (core/forget.py), and the chat stand-in
for the time before a vault exists. Chat and the capture service are in ``ui.core_backends``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from core.forget import ForgetRequest
from core.jobs import JobState
from core.memory import Memory
from ui.backends import (
    ChatEvent,
    Feature,
    ForgetBackend,
    ForgetKind,
    ForgetOutcome,
    ForgetPreview,
    ForgetScope,
)

CHAT_LATER = "Create or unlock your vault to ask about your memories."


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


class UnavailableChat:
    """The chat panel's backend while there is no vault yet (first run)."""

    @property
    def feature(self) -> Feature:
        return Feature.later(CHAT_LATER)

    def ask_stream(self, question: str, cancel: JobState,
                   conversation: str | None = None) -> Iterator[ChatEvent]:
        from core.errors import ModelError

        raise ModelError(CHAT_LATER)
