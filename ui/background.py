"""The one way the GUI runs core calls: off the UI thread, results back on it.

Modelled on Anki's ``QueryOp``/``CollectionOp`` (CONVENTIONS.md 3-5):

- ``Background.read(fn, ...)`` runs ``fn(job)`` on a small thread pool (reads, inference,
  image decoding). ``Background.write(fn, ...)`` runs it on ONE serial worker, so writes to
  the store never overlap.
- ``fn`` receives a :class:`Job` (a ``core.jobs.JobState``: progress, status, cancelled)
  and must not touch widgets. Callers build immutable requests on the main thread and
  capture them in ``fn`` (copy state in); the result is delivered to ``on_success`` on the
  main thread (send results out).
- ``key=`` makes an operation "latest wins": starting another op with the same key cancels
  the previous one, whose result is then dropped (search-as-you-type).
- ``cancel_all()`` (used on lock) cancels everything in flight and bumps a generation
  counter so no result of an older generation ever reaches a widget.

Failures arrive as exceptions on ``on_failure`` (default: the ``failed`` signal, which the
main window shows). ``Cancelled`` is silent. Unexpected exceptions are logged by type
only (never their message: it could hold user content, SECURITY.md R12).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.errors import AfterimageError, Cancelled

_log = logging.getLogger(__name__)

T = TypeVar("T")


class Job:
    """The worker's view of one operation: report progress, notice cancellation."""

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._relay: _Relay | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()

    def set_progress(self, done: int, total: int) -> None:
        relay = self._relay
        if relay is not None and not self.cancelled:
            relay.progress.emit(int(done), int(total))

    def set_status(self, text: str) -> None:
        relay = self._relay
        if relay is not None and not self.cancelled:
            relay.status.emit(str(text))

    def emit(self, item: object) -> None:
        """Send a partial result (e.g. a streamed chat token) to ``on_item``."""
        relay = self._relay
        if relay is not None and not self.cancelled:
            relay.item.emit((item,))


class _Relay(QObject):
    """Lives on the main thread; worker-thread emits are queued to it."""

    done = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int)
    status = Signal(str)
    item = Signal(object)


class Handle(Generic[T]):
    """A running operation. ``cancel()`` stops delivery (and asks the worker to stop)."""

    def __init__(self, job: Job, generation: int, name: str) -> None:
        self.job = job
        self.generation = generation
        self.name = name
        self.finished = False

    def cancel(self) -> None:
        self.job.cancel()

    @property
    def cancelled(self) -> bool:
        return self.job.cancelled


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[Job], Any], job: Job, relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._job = job
        self._relay = relay

    def run(self) -> None:
        job = self._job
        if job.cancelled:
            self._relay.failed.emit(Cancelled("cancelled"))
            return
        try:
            result = self._fn(job)
        except Cancelled as exc:
            self._relay.failed.emit(exc)
        except AfterimageError as exc:
            self._relay.failed.emit(exc)
        except Exception as exc:  # noqa: BLE001 - the boundary: report, never crash the app
            _log.error("background operation failed: %s", type(exc).__name__)
            self._relay.failed.emit(exc)
        else:
            # Wrapped in a fresh tuple: sending None itself through a queued Signal(object)
            # can corrupt None's reference count in PySide (a crash seen in the tour).
            self._relay.done.emit((result,))


class Background(QObject):
    """Runs core calls off the UI thread. Create one per app; pass it to widgets."""

    failed = Signal(str)  # a user-facing message for failures nobody handled
    busy_changed = Signal(bool)

    def __init__(self, read_threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reads = QThreadPool(self)
        self._reads.setMaxThreadCount(max(1, read_threads))
        self._writes = QThreadPool(self)
        self._writes.setMaxThreadCount(1)  # ONE serial writer
        # Unlock and lock run in order on their own serial lane, so a lock never waits for
        # a long write and never overtakes an unlock started before it.
        self._keys = QThreadPool(self)
        self._keys.setMaxThreadCount(1)
        self._generation = 0
        self._keyed: dict[str, Handle[Any]] = {}
        self._live: dict[int, tuple[Handle[Any], _Relay]] = {}
        self._next = 0
        self._closed = False

    # ------------------------------------------------------------------ public
    def read(self, fn: Callable[[Job], T], *, on_success: Callable[[T], None] | None = None,
             on_failure: Callable[[BaseException], None] | None = None,
             on_progress: Callable[[int, int], None] | None = None,
             on_item: Callable[[Any], None] | None = None,
             key: str | None = None, name: str = "read") -> Handle[T]:
        return self._start(self._reads, fn, on_success, on_failure, on_progress, on_item, key,
                           name)

    def write(self, fn: Callable[[Job], T], *, on_success: Callable[[T], None] | None = None,
              on_failure: Callable[[BaseException], None] | None = None,
              on_progress: Callable[[int, int], None] | None = None,
              key: str | None = None, name: str = "write") -> Handle[T]:
        return self._start(self._writes, fn, on_success, on_failure, on_progress, None, key,
                           name)

    def keys(self, fn: Callable[[Job], T], *, on_success: Callable[[T], None] | None = None,
             on_failure: Callable[[BaseException], None] | None = None,
             name: str = "keys") -> Handle[T]:
        """Unlock/lock: a serial lane of their own."""
        return self._start(self._keys, fn, on_success, on_failure, None, None, None, name)

    def cancel(self, key: str) -> None:
        handle = self._keyed.pop(key, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        """Cancel everything in flight; results of older operations are dropped."""
        self._generation += 1
        for handle, _relay in list(self._live.values()):
            handle.cancel()
        self._keyed.clear()

    @property
    def busy(self) -> bool:
        return bool(self._live)

    def pending(self) -> int:
        return len(self._live)

    def wait_idle(self, msecs: int = 30000) -> bool:
        """Block until workers are done (shutdown and tests only; never from a UI action)."""
        ok = self._reads.waitForDone(msecs) and self._writes.waitForDone(msecs) \
            and self._keys.waitForDone(msecs)
        return bool(ok)

    def shutdown(self, msecs: int = 120_000) -> bool:
        """Cancel everything and wait for running workers (a model load cannot be interrupted);
        later requests are refused silently. False if a worker is still running."""
        self._closed = True
        self.cancel_all()
        self._reads.clear()
        self._writes.clear()
        self._keys.clear()
        return self.wait_idle(msecs)

    # ----------------------------------------------------------------- private
    def _start(self, pool: QThreadPool, fn: Callable[[Job], T],
               on_success: Callable[[T], None] | None,
               on_failure: Callable[[BaseException], None] | None,
               on_progress: Callable[[int, int], None] | None,
               on_item: Callable[[Any], None] | None,
               key: str | None, name: str) -> Handle[T]:
        if key is not None:
            self.cancel(key)
        job = Job()
        handle: Handle[T] = Handle(job, self._generation, name)
        if self._closed:
            job.cancel()
            handle.finished = True
            return handle
        relay = _Relay()  # created here, on the main thread
        job._relay = relay
        op_id = self._next
        self._next += 1
        was_busy = self.busy
        self._live[op_id] = (handle, relay)
        if key is not None:
            self._keyed[key] = handle

        def deliverable() -> bool:
            return not handle.cancelled and handle.generation == self._generation

        def finish() -> None:
            handle.finished = True
            self._live.pop(op_id, None)
            if key is not None and self._keyed.get(key) is handle:
                del self._keyed[key]
            relay.deleteLater()
            if not self.busy:
                self.busy_changed.emit(False)

        def done(boxed: tuple[object]) -> None:
            ok = deliverable()
            finish()
            if ok and on_success is not None:
                on_success(boxed[0])  # type: ignore[arg-type]

        def failed(exc: object) -> None:
            ok = deliverable()
            finish()
            if not ok or isinstance(exc, Cancelled):
                return
            assert isinstance(exc, BaseException)
            if on_failure is not None:
                on_failure(exc)
            else:
                self.failed.emit(user_message(exc))

        relay.done.connect(done)
        relay.failed.connect(failed)
        if on_progress is not None:
            relay.progress.connect(lambda d, t: on_progress(d, t) if deliverable() else None)
        if on_item is not None:
            relay.item.connect(lambda boxed: on_item(boxed[0]) if deliverable() else None)
        if not was_busy:
            self.busy_changed.emit(True)
        pool.start(_Runnable(fn, job, relay))
        return handle


def user_message(exc: BaseException) -> str:
    """What to tell the user about a failure (our errors are written for users)."""
    if isinstance(exc, AfterimageError):
        return str(exc) or type(exc).__name__
    return f"Something went wrong ({type(exc).__name__}). Nothing was changed."

