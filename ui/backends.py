"""The small interfaces the GUI needs beyond search and reading, as Protocols.

Chat, fine-grained forgetting and the capture service are built by other parts of the
project. The GUI is written against these Protocols; ``ui.adapters`` implements them over
the ``Memory`` facade where core already has the feature, and reports the rest as not
available (with a note the GUI shows) instead of faking it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol, runtime_checkable

from core.jobs import JobState


@dataclass(frozen=True)
class Feature:
    """Whether a feature works in this build, and if not, why (shown to the user)."""

    available: bool
    note: str = ""

    @classmethod
    def yes(cls) -> Feature:
        return cls(True, "")

    @classmethod
    def later(cls, note: str) -> Feature:
        return cls(False, note)


# ------------------------------------------------------------------------------ chat
@dataclass(frozen=True)
class Citation:
    """``[n]`` in an answer refers to the memory ``memory_id``."""

    number: int
    memory_id: str
    timestamp: datetime | None = None
    label: str = ""


@dataclass(frozen=True)
class ChatToken:
    text: str


@dataclass(frozen=True)
class ChatReset:
    """The text streamed so far is discarded (a retry, or the final authoritative text
    follows); ``status`` says why, for the user (may be empty)."""

    status: str = ""


@dataclass(frozen=True)
class ChatSaved:
    """The turn was saved (encrypted) in the conversation ``conversation``."""

    conversation: str


ChatEvent = ChatToken | Citation | ChatReset | ChatSaved


class ChatBackend(Protocol):
    """Answers questions about the user's memories, streaming tokens and citations."""

    @property
    def feature(self) -> Feature: ...

    def ask_stream(self, question: str, cancel: JobState,
                   conversation: str | None = None) -> Iterator[ChatEvent]:
        """Yield tokens (and citations as they become known); stop when ``cancel.cancelled``.

        ``conversation``: the saved conversation this question continues (None: a new one);
        a backend that saves the turn ends with :class:`ChatSaved`.
        Runs on a worker thread: it must not touch widgets.
        """
        ...


# ---------------------------------------------------------------------------- forget
class ForgetKind(Enum):
    EVERYTHING = "everything"
    MEMORY = "memory"  # one id
    APP = "app"
    RANGE = "range"  # since/until (an hour, a day, a custom range)
    LAST_MINUTES = "last_minutes"


@dataclass(frozen=True)
class ForgetScope:
    kind: ForgetKind
    memory_id: str | None = None
    app: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    minutes: int | None = None


@dataclass(frozen=True)
class ForgetPreview:
    """Exactly what a forget will remove, for the confirmation dialog."""

    memories: int
    data_keys: int
    bytes_on_disk: int
    oldest: datetime | None
    newest: datetime | None
    apps: tuple[tuple[str, int], ...] = ()  # (app, memories), most first


@dataclass(frozen=True)
class ForgetOutcome:
    memories: int
    data_keys: int
    bytes_freed: int


class ForgetBackend(Protocol):
    def supports(self, kind: ForgetKind) -> Feature: ...

    def preview(self, scope: ForgetScope) -> ForgetPreview:
        """What ``forget(scope)`` would remove (runs on a worker)."""
        ...

    def forget(self, scope: ForgetScope, job: JobState) -> ForgetOutcome:
        """Forget for ever (runs on the serial write worker)."""
        ...


# ---------------------------------------------------------------------- capture service
class ServiceState(Enum):
    CAPTURING = "capturing"
    PAUSED = "paused"
    STOPPED = "stopped"  # no capture service running
    ERROR = "error"


@dataclass(frozen=True)
class ServiceStatus:
    state: ServiceState
    detail: str = ""
    paused_until: datetime | None = None
    last_capture: datetime | None = None
    captured: int = 0  # frames stored by the running service
    skipped: int = 0  # frames skipped (unchanged, idle, filtered, ...)
    running: bool = False  # a capture service process is running


@dataclass(frozen=True)
class CaptureNowResult:
    stored: int
    skipped: int


class ServiceControl(Protocol):
    """The capture service as the tray and settings see it."""

    @property
    def pause_feature(self) -> Feature: ...

    @property
    def capture_now_feature(self) -> Feature: ...

    def status(self) -> ServiceStatus: ...

    def pause(self, minutes: int | None) -> None:
        """Pause for ``minutes`` (None: until resumed)."""
        ...

    def resume(self) -> None: ...

    def capture_now(self) -> CaptureNowResult:
        """Capture every monitor once (runs on the serial write worker)."""
        ...


@runtime_checkable
class ServiceRunner(Protocol):
    """A ServiceControl that can also start and stop the capture service process."""

    @property
    def enabled(self) -> bool: ...

    def set_enabled(self, on: bool) -> None:
        """Start (supervised) or stop the capture service."""
        ...

    def needs_policy(self) -> bool:
        """True while the running service waits for the user's sealed privacy lists."""
        ...


# ------------------------------------------------------------------- day summaries
class DaySummaries(Protocol):
    """Episodes and day summaries for the timeline (comes with the retrieval work)."""

    def summary(self, day_start: datetime, day_end: datetime) -> str | None: ...
