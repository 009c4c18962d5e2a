"""The GUI's one handle on core: the ``Memory`` facade, the background helper and backends.

Every core call the GUI makes is a method here that runs through :class:`Background`
(reads on the pool, writes on the serial worker) with an immutable request captured in the
worker function. Widgets receive the ``Session`` in ``__init__`` and never call ``Memory``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from core.chat.conversations import ConversationSummary
from core.chat.conversations import Turn as SavedTurn
from core.config import Config, Paths, save_config_values
from core.memory import Memory, SearchHit, Stats
from core.models.installed import InstalledModels, ModelStatus
from core.privacy.policy import PrivacyPolicy
from core.records import MemoryRecord
from core.retrieval.episodes import DaySummary, Episode, summarise_days
from core.timeline import MomentSummary, TimelineGap, TimelineHour
from core.vault import KdfParams
from ui import gc_policy
from ui.adapters import FacadeForget, UnavailableChat
from ui.backends import ChatBackend, ForgetBackend, ServiceControl
from ui.background import Background, Handle, Job
from ui.core_backends import MemoryChat, ServiceCapture

Fail = Callable[[BaseException], None] | None

_log = logging.getLogger(__name__)

CONSOLIDATE_BATCH = 8  # memories per background run (one store write)
CONSOLIDATE_FIRST_MS = 60_000  # after unlock: searches first, captions a minute later
CONSOLIDATE_SOON_MS = 3_000  # next run while work remains
CONSOLIDATE_LATER_MS = 5 * 60_000  # when nothing is left, or the machine is busy on battery


@dataclass(frozen=True)
class SearchRequest:
    query: str
    since: datetime | None = None
    until: datetime | None = None
    app: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class DayOverview:
    """What the timeline shows above a day's moments (all from one worker call)."""

    day: date
    summary: DaySummary | None
    episodes: tuple[Episode, ...]
    gaps: tuple[TimelineGap, ...]  # recorded capture holds and "not running", clipped
    complete: bool = True  # False: the index was busy (warming up); episodes come later


@dataclass(frozen=True)
class MemoryImage:
    """A decoded image of a memory (QImage is safe to build off the UI thread)."""

    memory_id: str
    image: QImage
    tier: str  # "frame" or "thumbnail"


def decode_image(data: bytes | None) -> QImage | None:
    if not data:
        return None
    image = QImage.fromData(data)
    return None if image.isNull() else image


class Session(QObject):
    """State of the running app: locked or not, and the way to reach core."""

    locked = Signal()
    unlocked = Signal()
    changed = Signal()  # memories were added or forgotten
    opened = Signal()  # a vault now exists (after first run)
    ready = Signal()  # the search model and index are loaded (after unlock)

    def __init__(self, config: Config, paths: Paths, background: Background, *,
                 memory: Memory | None = None, chat: ChatBackend | None = None,
                 forget: ForgetBackend | None = None, service: ServiceControl | None = None,
                 display_available: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.paths = paths
        self.background = background
        self._memory = memory
        self._display = display_available
        self._chat_override = chat
        self._forget_override = forget
        self._service_override = service
        self._unlocked = bool(memory is not None and memory.is_unlocked)
        # The index is built lazily by the first read that needs it; one at a time.
        self._index_lock = threading.Lock()
        self.models_ready = False
        self._build_backends()
        # Background consolidation (captions, image vectors) while unlocked: a small batch,
        # then the next one soon while work remains and the machine allows, else later.
        self._consolidation = QTimer(self)
        self._consolidation.setSingleShot(True)
        self._consolidation.timeout.connect(self.consolidate_in_background)
        self.ready.connect(lambda: self._schedule_consolidation(CONSOLIDATE_FIRST_MS))
        self.locked.connect(self._consolidation.stop)
        self.consolidation_runs = 0  # finished background runs (for the UI and tests)

    def _build_backends(self) -> None:
        memory = self._memory
        self.chat: ChatBackend = self._chat_override or (
            MemoryChat(memory, self._index_lock) if memory is not None else UnavailableChat())
        self.forget_backend: ForgetBackend | None = self._forget_override or (
            FacadeForget(memory) if memory is not None else None)
        old = getattr(self, "service", None)
        if isinstance(old, ServiceCapture) and old is not self._service_override:
            old.close()
        self.service: ServiceControl | None = self._service_override or (
            ServiceCapture(memory, self.paths, self._display) if memory is not None else None)

    # ----------------------------------------------------------------- state
    @property
    def has_vault(self) -> bool:
        return self._memory is not None

    @property
    def is_unlocked(self) -> bool:
        return self._unlocked

    def _mem(self) -> Memory:
        if self._memory is None:
            from core.errors import VaultNotFound

            raise VaultNotFound("there is no vault yet")
        return self._memory

    # ------------------------------------------------------------- lifecycle
    def create_vault(self, passphrase: str, *, on_success: Callable[[None], None],
                     on_failure: Fail = None, kdf: KdfParams | None = None) -> Handle[Any]:
        config, paths = self.config, self.paths

        def work(job: Job) -> Memory:
            job.set_status("Creating your encrypted vault")
            return Memory.create(config, paths, passphrase, kdf=kdf)

        def done(memory: Memory) -> None:
            self._memory = memory
            self._unlocked = memory.is_unlocked
            self._build_backends()
            self.opened.emit()
            self.unlocked.emit()
            on_success(None)
            self.warm_up()

        return self.background.write(work, on_success=done, on_failure=on_failure,
                                     name="create")

    def unlock(self, passphrase: str, *, on_success: Callable[[None], None],
               on_failure: Fail = None) -> Handle[Any]:
        memory = self._mem()

        def done(_: object) -> None:
            self._unlocked = True
            self.unlocked.emit()
            on_success(None)
            self.warm_up()

        return self.background.keys(lambda job: memory.unlock(passphrase), on_success=done,
                                    on_failure=on_failure, name="unlock")

    def warm_up(self) -> None:
        """Load the search model and decrypt the index on a worker, before the first search."""
        memory = self._mem()
        index_lock = self._index_lock

        def work(job: Job) -> None:
            with index_lock:
                if not job.cancelled:
                    memory.warm_up()

        def done(_: object) -> None:
            self.models_ready = True
            gc_policy.freeze_long_lived()  # the model and index are long-lived now
            self.ready.emit()

        self.background.read(work, on_success=done, on_failure=lambda exc: None,
                             name="warm-up")

    def lock(self) -> None:
        """Lock now: widgets clear themselves on ``locked``; keys drop on a worker."""
        self.background.cancel_all()
        was = self._unlocked
        self._unlocked = False
        if self._memory is not None:
            memory = self._memory
            index_lock = self._index_lock

            def drop(job: Job) -> None:
                with index_lock:
                    memory.lock()

            self.background.keys(drop, name="lock")
            self.models_ready = False
            gc_policy.thaw_on_lock()
        if was or self._memory is not None:
            self.locked.emit()

    def _schedule_consolidation(self, ms: int) -> None:
        if self._unlocked and self.config.consolidation.in_app:
            self._consolidation.start(ms)

    def consolidate_in_background(self) -> Handle[Any] | None:
        """Caption (and image-embed) a few memories that lack it, off the UI thread. The
        model work holds no lock; the index lock is taken only to read or update the index
        (searches wait milliseconds, not seconds) and the store only to save each batch."""
        memory = self._memory
        if memory is None or not self._unlocked:
            return None
        index_lock = self._index_lock

        def work(job: Job) -> Any:
            return memory.consolidate(job, max_items=CONSOLIDATE_BATCH,
                                      index_guard=lambda: index_lock)

        def done(report: Any) -> None:
            self.consolidation_runs += 1
            more = (report.skipped_reason is None and report.remaining > 0
                    and report.captioned + report.image_vectors > 0)
            self._schedule_consolidation(CONSOLIDATE_SOON_MS if more else CONSOLIDATE_LATER_MS)

        def failed(exc: BaseException) -> None:
            _log.warning("background consolidation failed (%s)", type(exc).__name__)
            self._schedule_consolidation(CONSOLIDATE_LATER_MS)

        return self.background.read(work, on_success=done, on_failure=failed,
                                    key="consolidate", name="consolidate")

    # --------------------------------------------------------------- models
    def model_status(self, on_success: Callable[[list[ModelStatus]], None],
                     on_failure: Fail = None) -> Handle[Any]:
        root = self.paths.models_dir
        return self.background.read(lambda job: InstalledModels(root).status(),
                                    on_success=on_success, on_failure=on_failure,
                                    key="model-status", name="model-status")

    def download_model(self, name: str, *, allow_unpinned: bool,
                       on_success: Callable[[object], None], on_failure: Fail = None,
                       on_progress: Callable[[int, int], None] | None = None) -> Handle[Any]:
        """The one network action of the app, started by the user (pinned checksums)."""
        root = self.paths.models_dir
        return self.background.read(
            lambda job: InstalledModels(root).download(name, allow_unpinned=allow_unpinned,
                                                       state=job),
            on_success=on_success, on_failure=on_failure, on_progress=on_progress,
            key=f"model:{name}", name="model-download")

    def verify_model(self, name: str, on_success: Callable[[list[str]], None],
                     on_failure: Fail = None) -> Handle[Any]:
        root = self.paths.models_dir

        def work(job: Job) -> list[str]:
            return [p for r in InstalledModels(root).verify(name, job) for p in r.problems]

        return self.background.read(work, on_success=on_success, on_failure=on_failure,
                                    name="model-verify")

    def remove_model(self, name: str, on_success: Callable[[object], None],
                     on_failure: Fail = None) -> Handle[Any]:
        root = self.paths.models_dir
        return self.background.read(lambda job: InstalledModels(root).remove(name),
                                    on_success=on_success, on_failure=on_failure,
                                    name="model-remove")

    def change_passphrase(self, old: str, new: str, *, on_success: Callable[[None], None],
                          on_failure: Fail = None) -> Handle[Any]:
        memory = self._mem()
        return self.background.write(lambda job: memory.change_passphrase(old, new),
                                     on_success=on_success, on_failure=on_failure,
                                     name="passphrase")

    def hand_policy_to_service(self, on_success: Callable[[bool], None] | None = None,
                               on_failure: Fail = None) -> Handle[Any] | None:
        """Give the running capture service the user's sealed privacy lists (needs unlock)."""
        if self._memory is None or not self._unlocked:
            return None
        memory = self._memory
        return self.background.read(lambda job: memory.hand_policy_to_service(),
                                    on_success=on_success,
                                    on_failure=on_failure or (lambda exc: None),
                                    key="policy-handoff", name="policy-handoff")

    def privacy_policy(self, on_success: Callable[[PrivacyPolicy], None],
                       on_failure: Fail = None) -> Handle[Any]:
        """The user's sealed privacy policy (defaults when none was saved; needs unlock)."""
        memory = self._mem()
        return self.background.read(lambda job: memory.privacy_policy(),
                                    on_success=on_success, on_failure=on_failure,
                                    key="privacy-policy", name="privacy-policy")

    def save_privacy_policy(self, policy: PrivacyPolicy,
                            on_success: Callable[[bool], None],
                            on_failure: Fail = None) -> Handle[Any]:
        """Seal ``policy`` in the vault and hand it to a running capture service.

        ``on_success`` gets True when a running service received it at once.
        """
        memory = self._mem()

        def work(job: Job) -> bool:
            memory.set_privacy_policy(policy)
            return memory.hand_policy_to_service()

        return self.background.write(work, on_success=on_success, on_failure=on_failure,
                                     name="privacy-save")

    def save_settings(self, section: str, values: dict[str, Any],
                      on_success: Callable[[Config], None], on_failure: Fail = None
                      ) -> Handle[Any]:
        """Save ``values`` in ``[section]`` of config.toml (validated; ConfigError if not).

        On success this session (and the open vault) use the new section from then on.
        """
        paths, memory = self.paths, self._memory

        def work(job: Job) -> Config:
            config = save_config_values(paths, section, values)
            if memory is not None:
                memory.config = replace(memory.config, **{section: getattr(config, section)})
            return config

        def done(config: Config) -> None:
            self.config = replace(self.config, **{section: getattr(config, section)})
            on_success(self.config)

        return self.background.write(work, on_success=done, on_failure=on_failure,
                                     name="save-settings")

    def close(self) -> None:
        service = self.service
        if isinstance(service, ServiceCapture):
            service.close()  # the service this app started stops with it
        idle = self.background.shutdown()
        if self._memory is not None:
            if idle:
                self._memory.close()
            else:  # never close the store under a running worker (native code would crash)
                self._memory.lock()

    # ---------------------------------------------------------------- reads
    def timeline_hours(self, on_success: Callable[[list[TimelineHour]], None],
                       on_failure: Fail = None) -> Handle[Any]:
        memory = self._mem()
        return self.background.read(lambda job: memory.timeline_hours(), on_success=on_success,
                                    on_failure=on_failure, key="timeline-hours",
                                    name="timeline")

    def moments(self, buckets: tuple[int, ...],
                on_success: Callable[[list[MomentSummary]], None],
                on_failure: Fail = None) -> Handle[Any]:
        memory = self._mem()

        def work(job: Job) -> list[MomentSummary]:
            out: list[MomentSummary] = []
            for bucket in buckets:
                if job.cancelled:
                    break
                out.extend(memory.moments_in_hour(bucket))
            out.sort(key=lambda m: m.timestamp)
            return out

        return self.background.read(work, on_success=on_success, on_failure=on_failure,
                                    key="timeline-moments", name="moments")

    def day_overview(self, day: date, on_success: Callable[[DayOverview], None],
                     on_failure: Fail = None) -> Handle[Any]:
        """The day's summary, episodes and recorded capture gaps (local day)."""
        memory = self._mem()
        index_lock = self._index_lock
        start = datetime.combine(day, datetime.min.time()).astimezone()
        end = start + timedelta(days=1)

        def work(job: Job) -> DayOverview:
            gaps = tuple(memory.capture_gaps(start, end))
            # Never hold a read thread waiting for the index (warm-up builds it): the
            # timeline asks again when ``ready`` fires.
            if not index_lock.acquire(blocking=False):
                return DayOverview(day, None, (), gaps, complete=False)
            try:
                if job.cancelled:
                    return DayOverview(day, None, (), gaps, complete=False)
                episodes = tuple(memory.episodes(day))  # decrypts that day only
                summary = next(iter(summarise_days(episodes)), None)
            finally:
                index_lock.release()
            return DayOverview(day, summary, episodes, gaps)

        return self.background.read(work, on_success=on_success, on_failure=on_failure,
                                    key="day-overview", name="day-overview")

    # ------------------------------------------------------- saved conversations
    def chat_conversations(self, on_success: Callable[[list[ConversationSummary]], None],
                           on_failure: Fail = None) -> Handle[Any]:
        """Saved conversations, most recent first (decrypted; needs unlock)."""
        memory = self._mem()
        return self.background.read(lambda job: memory.conversations.conversations(),
                                    on_success=on_success, on_failure=on_failure,
                                    key="chat-list", name="chat-list")

    def chat_turns(self, conversation: str, on_success: Callable[[list[SavedTurn]], None],
                   on_failure: Fail = None) -> Handle[Any]:
        memory = self._mem()
        return self.background.read(lambda job: memory.conversations.turns(conversation),
                                    on_success=on_success, on_failure=on_failure,
                                    key="chat-turns", name="chat-turns")

    def delete_conversation(self, conversation: str, on_success: Callable[[int], None],
                            on_failure: Fail = None) -> Handle[Any]:
        """Forget a saved conversation for ever (rows deleted and purged from old versions)."""
        memory = self._mem()
        return self.background.write(
            lambda job: memory.conversations.forget_conversation(conversation),
            on_success=on_success, on_failure=on_failure, name="chat-delete")

    def search(self, request: SearchRequest, on_success: Callable[[list[SearchHit]], None],
               on_failure: Fail = None) -> Handle[Any]:
        memory = self._mem()
        index_lock = self._index_lock

        def work(job: Job) -> list[SearchHit]:
            with index_lock:
                if job.cancelled:
                    return []
                return memory.search(request.query, since=request.since,
                                     until=request.until, app=request.app,
                                     limit=request.limit)

        return self.background.read(work, on_success=on_success, on_failure=on_failure,
                                    key="search", name="search")

    def record(self, memory_id: str, on_success: Callable[[MemoryRecord | None], None],
               on_failure: Fail = None, key: str | None = "record") -> Handle[Any]:
        memory = self._mem()
        return self.background.read(lambda job: memory.record(memory_id),
                                    on_success=on_success, on_failure=on_failure, key=key,
                                    name="record")

    def thumbnail(self, memory_id: str, on_success: Callable[[MemoryImage | None], None],
                  on_failure: Fail = None) -> Handle[Any]:
        memory = self._mem()

        def work(job: Job) -> MemoryImage | None:
            image = decode_image(memory.thumbnail(memory_id))
            return None if image is None else MemoryImage(memory_id, image, "thumbnail")

        return self.background.read(work, on_success=on_success, on_failure=on_failure,
                                    key=f"thumb:{memory_id}", name="thumbnail")

    def best_image(self, memory_id: str, on_success: Callable[[MemoryImage | None], None],
                   on_failure: Fail = None, key: str = "best-image") -> Handle[Any]:
        """The full frame if kept, else the thumbnail (the best tier kept)."""
        memory = self._mem()

        def work(job: Job) -> MemoryImage | None:
            image = decode_image(memory.frame(memory_id))
            if image is not None:
                return MemoryImage(memory_id, image, "frame")
            image = decode_image(memory.thumbnail(memory_id))
            return None if image is None else MemoryImage(memory_id, image, "thumbnail")

        return self.background.read(work, on_success=on_success, on_failure=on_failure,
                                    key=key, name="image")

    def stats(self, on_success: Callable[[Stats], None], on_failure: Fail = None,
              key: str = "stats") -> Handle[Any]:
        memory = self._mem()
        return self.background.read(lambda job: memory.stats(), on_success=on_success,
                                    on_failure=on_failure, key=key, name="stats")

    # --------------------------------------------------------------- writes
    def run_write(self, fn: Callable[[Job], Any], on_success: Callable[[Any], None],
                  on_failure: Fail = None, *, notify_changed: bool = True,
                  name: str = "write") -> Handle[Any]:
        """A write through a backend (forget, capture now) on the serial worker."""
        index_lock = self._index_lock

        def work(job: Job) -> Any:
            with index_lock:
                return fn(job)

        def done(result: Any) -> None:
            on_success(result)
            if notify_changed:
                self.changed.emit()

        return self.background.write(work, on_success=done, on_failure=on_failure, name=name)
