"""The capture service: the all-day capture loop, as its own Qt-free process.

One thread schedules and grabs (cheap: window polls, grabs, a 1/8-scale change check); one
worker thread does the slow part (OCR, privacy filters, embedding, encryption, storing). A
bounded queue sits between them: when the worker lags, the oldest waiting frame is dropped
and counted as ``dropped_backlog`` — frames never pile up.

Schedule (``[capture]`` in config.toml):
- a frame every ``interval_s`` (3 s) while the screen changes, ``battery_interval_s`` on
  battery; unchanged frames are counted, not stored;
- while the screen keeps changing, the latest changed frame is held and stored when the
  screen settles, the window changes, or after ``hold_s`` (core/capture/coalesce.py): one
  memory per burst of typing or scrolling instead of one per grab;
- an extra frame when the active window changes (polled every ``window_poll_s``), never
  closer than ``min_gap_s`` to the previous one;
- nothing while paused, while the screen is locked, or after ``idle_after_s`` without input.

The service holds the vault's single-writer lock for its whole life, writes with the capture
public key (it never needs the passphrase), and stops cleanly on SIGINT/SIGTERM: the frame
being processed is finished (or dropped after ``shutdown_grace_s``), waiting frames are
dropped, the status says ``stopped`` and the lock is released.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

from core.capture.coalesce import Coalescer, Release
from core.capture.layout import visible_pieces
from core.capture.power import on_battery
from core.capture.region_ocr import RegionOcr
from core.capture.regions import Grey, downscale
from core.capture.session import DesktopSignals, NullSignals
from core.capture_state import CaptureCounters
from core.config import Config, OcrConfig, Paths, load_config
from core.errors import (
    AfterimageError,
    CaptureError,
    ConfigError,
    InvalidInput,
    IpcError,
    WriterBusy,
)
from core.gap_log import HoldTracker
from core.ipc import IpcServer
from core.memory import Memory
from core.memtrim import return_freed_memory
from core.privacy import sealed as sealed_policy
from core.privacy.covered import black_out, excluded_visible
from core.privacy.filter import PrivacyFilter
from core.privacy.pause import PauseControl
from core.privacy.policy import PrivacyPolicy
from core.service_status import (
    ERROR,
    FILTERED,
    IDLE,
    LOCKED,
    PAUSED,
    RUNNING,
    STOPPED,
    WAITING,
    ServiceStatus,
    write_status,
)
from core.types import ActiveWindow, Ocr, ScreenFrame, ScreenSource, WindowInfoSource

if TYPE_CHECKING:
    from core.ocr import RapidOcrEngine

_log = logging.getLogger(__name__)

EXIT_CLEAN = 0
EXIT_CRASHED = 70  # an unexpected error in the worker: the supervisor restarts us
STATUS_EVERY_S = 2.0
COUNTERS_EVERY_S = 10.0
MAINTAIN_EVERY_S = 600.0  # retention / storage budget check after writes
LEND_HEAD_START_S = 1.0  # after lending the writer lock, wait this long before asking back
# Detection bands of at most 320 rows (+96 of overlap): a 1080p frame in five bands of 293
# rows instead of four of 342; the detector's activations, the largest transient of a
# frame, shrink with the band (docs/benchmarks.md, seventh session).
SERVICE_DET_BAND_PX = 320
# When the display reports nothing drawn, every this many scheduled captures grab and
# compare anyway (a check of the report: ~30 s at the default interval).
DAMAGE_CHECK_EVERY = 10


def service_ocr(config: OcrConfig, **overrides: Any) -> RapidOcrEngine:
    """The OCR engine as the service runs it (benchmarks and tests build the same one):
    detection in bands and one line per recognition batch bound the OCR's peak memory (~470 MB
    instead of ~1 GB on a dense 1080p frame; docs/benchmarks.md); ``overrides`` replace
    engine arguments."""
    from core.ocr import RapidOcrEngine, ocr_scripts

    args: dict[str, Any] = {
        "min_confidence": config.min_confidence, "max_side_px": config.max_side_px,
        "native_det": True, "det_band_px": SERVICE_DET_BAND_PX, "rec_batch": 1,
        "int8": config.int8_recognizer, "scripts": ocr_scripts(config.scripts),
        "narrow_wide_text": config.narrow_wide_text, "plain_text_lines": config.plain_text_lines}
    args.update(overrides)
    return RapidOcrEngine(**args)


# service states that hold capture -> the gap reason the timeline shows
_HOLD_REASONS = {PAUSED: "paused", LOCKED: "locked", IDLE: "idle", FILTERED: "filtered",
                 WAITING: "waiting"}


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat(timespec="seconds")


@dataclass
class _Job:
    frames: list[ScreenFrame]
    window: ActiveWindow | None


@dataclass
class ServiceParts:
    """What the service talks to; tests swap any of them."""

    screen: ScreenSource
    windows: WindowInfoSource
    signals: DesktopSignals = field(default_factory=NullSignals)
    battery: Callable[[], bool] = on_battery
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = lambda: datetime.now(UTC)


class CaptureService:
    def __init__(self, memory: Memory, config: Config, paths: Paths, parts: ServiceParts, *,
                 ocr: Ocr | None = None, threaded: bool = True,
                 shutdown_grace_s: float = 30.0) -> None:
        self._memory = memory
        self._cfg = config.capture
        self._paths = paths
        self._parts = parts
        self._threaded = threaded
        self._grace = shutdown_grace_s
        self._pid = os.getpid()
        self._stop = threading.Event()
        self._fatal: BaseException | None = None
        self._lock = threading.Lock()  # guards counters and status fields below
        self._run_counters = CaptureCounters()  # this run, for the status
        self._pending = CaptureCounters()  # not yet added to the persisted totals
        self._handoff = sealed_policy.HandoffKey()
        self._pause = PauseControl(paths.run_dir, clock=parts.wall)
        self._privacy = PrivacyFilter(own_pids=[self._pid])
        self._policy_state = "defaults"
        if sealed_policy.policy_exists(paths.vault_dir / "state"):
            self._policy_state = "waiting" if self._cfg.before_unlock == "wait" else "defaults"
        memory.set_privacy_filter(self._privacy)
        self._ocr = ocr
        self._region_ocr: RegionOcr | None = None
        self._queue: queue.Queue[_Job] = queue.Queue(maxsize=self._cfg.queue_size)
        self._worker: threading.Thread | None = None
        self._last_small: dict[int, Grey] = {}
        self._grabbed: set[int] = set()  # the monitors of the last grab
        self._undrawn = 0  # scheduled captures spared because nothing was drawn
        self._checking_damage = False
        self._damage_trusted = True
        self._last_window_key: tuple[object, ...] | None = None
        self._coalescer = Coalescer(self._cfg.hold_s)
        self._stack: list[ActiveWindow] = []  # the window stack of the latest grab
        self._switch_pending = False
        self._last_grab = -1e18
        self._next_due = -1e18
        self._last_status = -1e18
        self._last_flush = parts.monotonic()
        self._last_poll = -1e18
        self._window: ActiveWindow | None = None
        self._state = RUNNING
        self._error: str | None = None
        self._since = parts.wall()
        self._battery = False
        self._battery_checked = -1e18
        self._idle_known = True
        # Lending the writer lock (``Memory.writing`` in another process: forget, import,
        # maintenance, consolidation while capture runs). The gate is held while a frame is
        # stored or counters are written; while lent, frames wait in the bounded queue.
        self._write_gate = threading.RLock()
        self._last_maintain = -1e18
        self._lent_at: float | None = None
        self._ipc: IpcServer | None = None
        self._holds = HoldTracker(memory.gap_log())

    # -- public ---------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    def request_stop(self) -> None:
        self._stop.set()

    def install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            _log.info("service: signal %d, stopping", signum)
            self._stop.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self) -> int:
        """Capture until stopped; returns the process exit code."""
        self._memory.acquire_writer("capture service")
        _log.info("service: started (pid %d)", self._pid)
        self._start_ipc()
        self._record(lambda now: self._holds.started(now))
        if self._threaded:
            self._worker = threading.Thread(target=self._work, name="capture-worker",
                                            daemon=True)
            self._worker.start()
        try:
            while not self._stop.is_set() and self._fatal is None:
                self.step()
                self._stop.wait(self._sleep_for())
        finally:
            code = self._shutdown()
        return code

    # -- one scheduler iteration (public for tests) ---------------------------------------
    def step(self) -> None:
        now = self._parts.monotonic()
        self._receive_policy()
        if now - self._battery_checked >= 30.0:
            self._battery = self._parts.battery()
            self._battery_checked = now
        due = now >= self._next_due
        pause = self._pause.state()
        if pause.paused:
            self._enter(PAUSED)
            # frames held back from before the pause are not kept: the user asked to stop
            discarded = self._coalescer.discard()
            if discarded:
                self._count("paused", discarded)
            self._forget_frames()
            if due:
                self._count("paused")
                self._schedule(now)
            self._maybe_status(now, paused_until=pause.until)
            return
        polled = now - self._last_poll >= self._cfg.window_poll_s or due
        if polled:
            self._last_poll = now
            self._window = self._read_window()
            key = self._window_key(self._window)
            if self._last_window_key is not None and key != self._last_window_key:
                self._switch_pending = True
            self._last_window_key = key
        switched = self._switch_pending
        if polled and self._parts.signals.screen_locked(self._window):
            self._enter(LOCKED)
            self._submit(self._coalescer.release_all())  # seen before the lock
            self._forget_frames()
            if due:
                self._count("locked")
                self._schedule(now)
            self._maybe_status(now)
            return
        idle = self._parts.signals.idle_seconds() if polled else None
        self._idle_known = self._idle_known if not polled else idle is not None
        if idle is not None and self._cfg.idle_after_s > 0 and idle >= self._cfg.idle_after_s:
            self._enter(IDLE)
            self._submit(self._coalescer.release_all())
            if due:
                self._count("idle")
                self._schedule(now)
            self._maybe_status(now)
            return
        if self._policy_state == "waiting":
            self._enter(WAITING)
            if due:
                self._count("waiting_for_unlock")
                self._schedule(now)
            self._maybe_status(now)
            return
        if self._state in (PAUSED, LOCKED, IDLE, WAITING):
            self._enter(RUNNING)
        if due or (switched and now - self._last_grab >= self._cfg.min_gap_s):
            self._capture(now)
        self._maybe_status(now)

    # -- internals --------------------------------------------------------------------------
    def _interval(self) -> float:
        return self._cfg.battery_interval_s if self._battery else self._cfg.interval_s

    def _schedule(self, now: float) -> None:
        self._next_due = now + self._interval()

    def _sleep_for(self) -> float:
        now = self._parts.monotonic()
        return max(0.02, min(self._cfg.window_poll_s, self._next_due - now))

    @staticmethod
    def _window_key(window: ActiveWindow | None) -> tuple[object, ...] | None:
        if window is None:
            return None
        return (window.pid, window.wm_class, window.title)

    def _read_window(self) -> ActiveWindow | None:
        try:
            return self._parts.windows.active_window()
        except CaptureError as exc:
            self._set_error(exc)
            return None

    def _enter(self, state: str) -> None:
        if state != self._state:
            _log.info("service: %s", state)
            self._state = state
            self._record(lambda now: self._holds.state(_HOLD_REASONS.get(state), now))

    def _record(self, fn: Callable[[datetime], None]) -> None:
        """Note a hold/run change in the sealed gap log (core/gap_log.py); a failure to
        write it never stops capture."""
        try:
            fn(self._parts.wall())
        except OSError as exc:
            _log.warning("service: the gap log could not be written (%s)", type(exc).__name__)

    def _forget_frames(self) -> None:
        """Drop what was read recently (pixels, line readings, chunk vectors): pause, lock."""
        self._last_small.clear()
        if self._region_ocr is not None:
            self._region_ocr.forget()
        self._memory.forget_recent()

    def _count(self, reason: str, n: int = 1) -> None:
        with self._lock:
            self._run_counters.skip(reason, n)
            self._pending.skip(reason, n)

    def _set_error(self, exc: BaseException) -> None:
        # Our errors carry content-free messages; anything else is reduced to its type.
        self._error = str(exc) if isinstance(exc, AfterimageError) else type(exc).__name__
        self._state = ERROR
        self._record(lambda now: self._holds.state(None, now))
        _log.warning("service: %s: %s", type(exc).__name__, self._error)

    def _receive_policy(self) -> None:
        try:
            raw = self._handoff.receive(self._paths.run_dir, self._pid)
        except AfterimageError as exc:
            _log.warning("service: a policy handoff could not be opened (%s)",
                         type(exc).__name__)
            return
        if raw is None:
            return
        try:
            policy = PrivacyPolicy.from_json(raw)
        except InvalidInput:
            _log.warning("service: a handed-over policy is invalid; keeping the current one")
            return
        self._privacy.set_policy(policy)
        self._policy_state = "user"
        self._forget_frames()
        _log.info("service: user privacy policy received")

    def _capture(self, now: float) -> None:
        self._schedule(now)
        self._switch_pending = False
        self._last_grab = now
        window = self._window
        if self._nothing_drawn():
            # the display reports that nothing was drawn since the last grab, whose every
            # monitor is remembered: each is unchanged, without grabbing it again
            for _ in self._grabbed:
                self._count("unchanged")
            self._submit(self._coalescer.offer(now, [], sorted(self._grabbed), window,
                                               self._window_key(window)))
            return
        try:
            frames = self._parts.screen.grab_all()
        except CaptureError as exc:
            self._set_error(exc)
            self._count("error")
            return
        # Window rules first: a frame showing an excluded window is never kept, not even
        # in the queue.
        skips = {}
        reason = self._privacy.window_reason(window)
        if reason is not None:
            from core.capture.monitors import shows_window

            skips = {f.monitor.index: reason for f in frames if shows_window(window, f.monitor)}
        frames, covered_reason = self._cover_excluded_windows(frames, window)
        if covered_reason is not None:  # an excluded window we cannot locate
            skips = {f.monitor.index: covered_reason for f in frames}
        fresh: list[ScreenFrame] = []
        settled: list[int] = []
        for frame in frames:
            index = frame.monitor.index
            why = skips.get(index)
            if why is not None:
                self._count(why)
                self._last_small.pop(index, None)
                continue
            small = downscale(frame.image)
            last = self._last_small.get(index)
            if last is not None and last.shape == small.shape and (last == small).all():
                self._count("unchanged")
                settled.append(index)
                continue
            self._last_small[index] = small
            if self._stack:  # read each window on its own (core/capture/layout.py)
                frame = replace(frame, pieces=visible_pieces(self._stack, frame.monitor,
                                                             frame.image.size))
            fresh.append(frame)
        if skips and not fresh:
            self._enter(FILTERED)
        elif self._state in (ERROR, FILTERED):
            self._enter(RUNNING)
            self._error = None
        self._grabbed = {frame.monitor.index for frame in frames}
        if self._checking_damage:
            self._checking_damage = False
            if fresh:
                self._damage_trusted = False
                _log.warning("service: the display's damage report missed a change; "
                             "every scheduled grab is compared from now on")
        release = self._coalescer.offer(now, fresh, settled, window, self._window_key(window))
        self._submit(release)

    def _nothing_drawn(self) -> bool:
        """True when the last grab's every monitor is remembered as read (not dropped,
        skipped or forgotten since) and the display reports no drawing since then. Every
        ``DAMAGE_CHECK_EVERY``-th time it would say so, the screen is grabbed and compared
        anyway; if that finds a change the display did not report (a compositor drawing
        where the report does not see), the report is not trusted again."""
        drawn = self._parts.signals.screen_changed()  # also drains the report before a grab
        if not self._damage_trusted or drawn or not self._grabbed \
                or any(i not in self._last_small for i in self._grabbed):
            return False
        self._undrawn += 1
        if self._undrawn % DAMAGE_CHECK_EVERY == 0:
            self._checking_damage = True
            return False
        return True

    def _submit(self, release: Release) -> None:
        """Queue the frames the coalescer lets go (core/capture/coalesce.py)."""
        if release.coalesced:
            self._count("coalesced", release.coalesced)
        for frames, window in release.groups:
            self._enqueue(_Job(frames=frames, window=window))

    def _enqueue(self, job: _Job) -> None:
        if not self._threaded:
            self._process(job)
            return
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            try:
                stale = self._queue.get_nowait()
                self._count("dropped_backlog", len(stale.frames))
                for frame in stale.frames:  # the next grab must not be judged unchanged
                    self._last_small.pop(frame.monitor.index, None)
            except queue.Empty:
                pass
            self._queue.put_nowait(job)

    def _cover_excluded_windows(self, frames: list[ScreenFrame], focused: ActiveWindow | None
                                ) -> tuple[list[ScreenFrame], str | None]:
        """Black out the visible parts of excluded windows that are not focused
        (core/privacy/covered.py). Returns the frames and, when an excluded window cannot be
        located, the reason to skip every monitor."""
        lister = getattr(self._parts.windows, "visible_windows", None)
        self._stack = []
        if lister is None:
            return frames, None
        try:
            stack: list[ActiveWindow] = lister()
        except CaptureError as exc:
            self._set_error(exc)
            return frames, None
        self._stack = stack
        covered = excluded_visible(stack, self._privacy.window_reason, focused)
        if covered.unknown_geometry:
            return frames, covered.reasons[0]
        if not covered.boxes:
            return frames, None
        out: list[ScreenFrame] = []
        hidden = 0
        for frame in frames:
            blacked = black_out(frame, covered.boxes)
            hidden += blacked is not None
            out.append(blacked or frame)
        if hidden:
            with self._lock:
                self._run_counters.redacted += hidden
                self._pending.redacted += hidden
        return out, None

    def _get_ocr(self) -> Ocr:
        if self._ocr is None:
            self._ocr = service_ocr(self._memory.config.ocr)
        if self._cfg.region_ocr:
            if self._region_ocr is None:
                self._region_ocr = RegionOcr(self._ocr)
            return self._region_ocr
        return self._ocr

    # -- lending the writer lock ----------------------------------------------------------
    def _start_ipc(self) -> None:
        try:
            self._ipc = IpcServer(self._paths.run_dir, "service",
                                  {"lend_writer": self._ipc_lend_writer, "lock": self._ipc_lock})
            self._ipc.start()
        except (IpcError, OSError) as exc:
            self._ipc = None  # forget/import then wait for the service to stop instead
            _log.warning("service: no control endpoint (%s)", type(exc).__name__)

    def _ipc_lock(self, args: dict[str, object]) -> dict[str, object]:
        del args  # the service never holds the passphrase or read keys: always locked
        return {"locked": True}

    def _ipc_lend_writer(self, args: dict[str, object]) -> dict[str, object]:
        """Another process asks for the writer lock: finish the frame in flight, let go."""
        del args
        with self._write_gate:
            if self._lent_at is None and self._memory.writer_held:
                self._memory.release_writer()
                self._lent_at = self._parts.monotonic()
                _log.info("service: writer lock lent")
        return {"lent": True}

    def _reclaim_writer(self) -> bool:
        """Take the lock back once the borrower is done (call with the gate held)."""
        if self._lent_at is None:
            return True
        if self._parts.monotonic() - self._lent_at < LEND_HEAD_START_S:
            return False  # let the borrower take it first
        try:
            self._memory.acquire_writer("capture service")
        except WriterBusy:
            return False
        self._memory.after_lent_writer()
        self._lent_at = None
        _log.info("service: writer lock back")
        return True

    def _process(self, job: _Job) -> None:
        while True:
            with self._write_gate:
                if self._reclaim_writer():
                    self._process_frames(job)
                    self._maybe_maintain()
                    return
            if self._stop.wait(0.25):
                self._count("dropped_backlog", len(job.frames))
                return

    def _maybe_maintain(self) -> None:
        """Retention and the storage budget, checked every ``MAINTAIN_EVERY_S`` after a
        write, with the ``[storage]`` settings re-read (the app may have changed them)."""
        now = self._parts.monotonic()
        if now - self._last_maintain < MAINTAIN_EVERY_S:
            return
        self._last_maintain = now
        try:
            storage = load_config(self._paths).storage
            self._memory.config = replace(self._memory.config, storage=storage)
        except ConfigError as exc:
            _log.warning("service: config.toml unreadable, keeping the storage settings (%s)",
                         type(exc).__name__)
        try:
            report = self._memory.maintain_if_due()
        except AfterimageError as exc:
            _log.warning("service: maintenance failed (%s)", type(exc).__name__)
            return
        if report is not None:
            _log.info("service: maintenance forgot %d and degraded %d memories",
                      report.plan.memories_forgotten, report.plan.memories_degraded)

    def _process_frames(self, job: _Job) -> None:
        counters = CaptureCounters()
        cpu = time.thread_time()  # OCR and encoding run on this thread (one ONNX thread)
        try:
            report = self._memory.capture_frames(job.frames, job.window, ocr=self._get_ocr(),
                                                 counters=counters, persist_counters=False)
        except AfterimageError as exc:
            self._set_error(exc)
            self._count("error", len(job.frames))
            for frame in job.frames:
                self._last_small.pop(frame.monitor.index, None)
            return
        with self._lock:
            for target in (self._run_counters, self._pending):
                target.captured += counters.captured
                target.redacted += counters.redacted
                for reason, n in counters.skipped.items():
                    target.skip(reason, n)
                if counters.last_capture:
                    target.last_capture = counters.last_capture
        return_freed_memory()
        # content-free: where the service's CPU goes, frame by frame (afterimage.log)
        _log.info("service: %d frame(s) processed in %.2f CPU s (ocr: %s), %d stored",
                  len(job.frames), time.thread_time() - cpu,
                  self._region_ocr.stats.last_mode if self._region_ocr else "whole",
                  len(report.stored))
        if report.stored:
            self._flush_counters()
        if counters.skipped and not report.stored:
            self._enter(FILTERED)

    def _work(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if self._stop.is_set():
                return  # waiting frames are dropped at shutdown
            try:
                self._process(job)
            except Exception as exc:  # noqa: BLE001 - crash the process, not just the thread
                self._fatal = exc
                self._stop.set()
                _log.error("service: worker crashed (%s)", type(exc).__name__)
                return

    def _flush_counters(self) -> None:
        # Never wait for the worker here (the scheduler must not stall behind an OCR run):
        # when the gate is busy, the counts wait for the next flush.
        if not self._write_gate.acquire(blocking=False):
            return
        try:
            if self._lent_at is not None and not self._reclaim_writer():
                return  # the borrower writes now; the counts wait
            with self._lock:
                pending, self._pending = self._pending, CaptureCounters()
            if pending.captured or pending.skipped or pending.redacted:
                self._memory.record_capture_counters(pending)
            self._last_flush = self._parts.monotonic()
        finally:
            self._write_gate.release()

    def _maybe_status(self, now: float, *, paused_until: datetime | None = None,
                      force: bool = False) -> None:
        if not force and now - self._last_status < STATUS_EVERY_S:
            return
        self._last_status = now
        if now - self._last_flush >= COUNTERS_EVERY_S:
            self._flush_counters()
        self.write_status(paused_until=paused_until)

    def write_status(self, *, paused_until: datetime | None = None) -> ServiceStatus:
        with self._lock:
            status = ServiceStatus(
                state=self._state, pid=self._pid, since=_iso(self._since) or "",
                updated=_iso(self._parts.wall()) or "",
                last_capture=self._run_counters.last_capture,
                frames_captured=self._run_counters.captured,
                frames_skipped=dict(sorted(self._run_counters.skipped.items())),
                frames_redacted=self._run_counters.redacted,
                paused_until=_iso(paused_until), on_battery=self._battery,
                interval_s=self._interval(), policy=self._policy_state,
                handoff_key=self._handoff.public.hex(), error=self._error,
                idle_detection=self._idle_known)
        write_status(self._paths.run_dir, status)
        return status

    def _shutdown(self) -> int:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(self._grace)
        dropped = 0
        while True:
            try:
                dropped += len(self._queue.get_nowait().frames)
            except queue.Empty:
                break
        if dropped:
            self._count("dropped_backlog", dropped)
        held = self._coalescer.release_all()
        if self._fatal is None and held.groups and (
                self._worker is None or not self._worker.is_alive()):
            # the last state of the screen before the stop (seen, not yet stored)
            for frames, window in held.groups:
                with self._write_gate:
                    if self._reclaim_writer():
                        self._process_frames(_Job(frames=frames, window=window))
                    else:
                        self._count("dropped_backlog", len(frames))
        elif held.frames:
            self._count("dropped_backlog", held.frames)
        code = EXIT_CRASHED if self._fatal is not None else EXIT_CLEAN
        if code == EXIT_CLEAN:
            self._state = STOPPED
        else:
            self._state = ERROR
            self._error = f"the capture worker crashed ({type(self._fatal).__name__})"
        if code == EXIT_CLEAN:
            self._record(lambda now: self._holds.stopped(now))
        try:
            self._flush_counters()
            self.write_status()
        finally:
            if self._ipc is not None:
                self._ipc.stop()
            self._parts.signals.close()
            self._parts.screen.close()
        _log.info("service: stopped (exit %d)", code)
        return code
