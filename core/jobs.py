"""Progress and cancellation for long jobs (import, forget, reindex, ...).

A long job is a plain function that takes a :class:`JobState`. The GUI adapts
it to signals and progress bars; the CLI prints; tests pass a fake.
"""

from __future__ import annotations

from typing import Protocol

from core.errors import Cancelled


class JobState(Protocol):
    def set_progress(self, done: int, total: int) -> None: ...

    def set_status(self, text: str) -> None: ...

    @property
    def cancelled(self) -> bool: ...


class SilentJob:
    """A JobState that reports nothing and is never cancelled."""

    def set_progress(self, done: int, total: int) -> None:
        return None

    def set_status(self, text: str) -> None:
        return None

    @property
    def cancelled(self) -> bool:
        return False


def check_cancelled(state: JobState) -> None:
    if state.cancelled:
        raise Cancelled("cancelled")
