"""``Memory``: the one facade over Afterimage's core. The CLI and the GUI are its clients.

It owns the vault (keys), the encrypted store, the in-memory index and the
models, and exposes what a user can do: capture, import, search, stats, forget,
lock and unlock. Models load lazily through factories, once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.capture.pipeline import FramePipeline
from core.capture_state import CaptureCounters, CaptureState
from core.config import Config, Paths
from core.encode import MomentEncoder, StageTimes
from core.errors import (
    AfterimageError,
    DecryptionFailed,
    ImportFailed,
    InvalidInput,
    KeyMissing,
    ModelError,
    VaultLocked,
    WriterBusy,
)
from core.forget import (
    FORGET_EVERYTHING,
    ForgetHook,
    ForgetPlan,
    ForgetReport,
    ForgetRequest,
    buckets_overlapping,
    execute_forget,
    plan_by_buckets,
    plan_by_records,
    select_records,
)
from core.gap_log import GapLog, GapRecord, gaps_from_records
from core.importer import ImportReport, collect_images, moment_from_file
from core.index import IndexFilter, MemoryIndex, make_snippet
from core.jobs import JobState, SilentJob, check_cancelled
from core.locks import WriterLock
from core.privacy import sealed as sealed_policy
from core.privacy.filter import PrivacyFilter
from core.privacy.policy import PrivacyPolicy
from core.records import TIER_NAMES, MemoryRecord, bucket_of
from core.repair import RepairReport, repair_vault
from core.retention import (
    MaintenancePlan,
    MaintenanceReport,
    maintenance_due,
    measure,
    plan_maintenance,
    run_maintenance,
    storage_report,
)
from core.retrieval.captions import Captioner
from core.retrieval.consolidate import (
    ConsolidationReport,
    MachineState,
    consolidate,
    pending_ids,
)
from core.retrieval.encoders import ImageEncoder
from core.retrieval.episodes import (
    DaySummary,
    Episode,
    build_episodes,
    local_day,
    summarise_days,
)
from core.retrieval.keeper import SNAPSHOT_BUCKET, SNAPSHOT_FILE, IndexKeeper
from core.retrieval.latent import FusionConfig
from core.retrieval.nltime import QueryTime, extract_time
from core.store import FRAMES, MEMORIES, THUMBS, EncryptedStore, NewMemory, dir_size
from core.timeline import MomentSummary, TimelineGap, TimelineHour
from core.types import ActiveWindow, Embedder, Ocr, ScreenFrame, ScreenSource, WindowInfoSource
from core.vault import KdfParams, Vault

if TYPE_CHECKING:
    from core.chat import Answer, AskOptions, ChatService, ConversationStore

_log = logging.getLogger(__name__)

LEND_TIMEOUT_S = 40.0  # the service finishes the frame in flight (OCR) before it lends


@dataclass(frozen=True)
class SearchHit:
    id: str
    timestamp: datetime
    app: str
    title: str
    source: str | None
    score: float
    snippet: str
    origin: str
    url: str | None = None
    # Added by the retrieval issue (defaults keep older callers working):
    duplicates: tuple[str, ...] = ()  # near-identical neighbouring moments folded in
    caption: str | None = None
    monitor: int | None = None


@dataclass
class CaptureReport:
    stored: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    monitors: int = 0
    times: StageTimes = field(default_factory=StageTimes)
    redacted: int = 0


@dataclass(frozen=True)
class Stats:
    memories: int
    tiers: dict[str, int]
    bytes_on_disk: int
    bytes_store: int
    captured_total: int
    skipped: dict[str, int]
    last_capture: str | None
    data_keys: int
    oldest_bucket: datetime | None
    newest_bucket: datetime | None
    data_dir: str
    # storage budget (core/retention.py); estimates from table sizes
    bytes_by_tier: dict[str, int] = field(default_factory=dict)
    budget_bytes: int = 0
    daily_growth_bytes: int | None = None
    days_until_budget: float | None = None
    row_bytes: dict[str, float] = field(default_factory=dict)  # one memory, per tier


@dataclass(frozen=True)
class Factories:
    """How Memory builds its heavy parts (tests and the GUI may swap them)."""

    ocr: Callable[[], Ocr]
    embedder: Callable[[], Embedder]
    screen: Callable[[], ScreenSource]
    windows: Callable[[], WindowInfoSource]
    # Optional parts (retrieval issue): None = not available.
    image_encoder: Callable[[], ImageEncoder | None] | None = None
    captioner: Callable[[], Captioner] | None = None


def default_factories(config: Config) -> Factories:
    def ocr() -> Ocr:
        from core.ocr import RapidOcrEngine, ocr_scripts

        return RapidOcrEngine(min_confidence=config.ocr.min_confidence,
                              max_side_px=config.ocr.max_side_px,
                              int8=config.ocr.int8_recognizer,
                              scripts=ocr_scripts(config.ocr.scripts),
                              narrow_wide_text=config.ocr.narrow_wide_text,
                              plain_text_lines=config.ocr.plain_text_lines)

    def embedder() -> Embedder:
        from core.retrieval.encoders import text_encoder_for

        encoder: Embedder = text_encoder_for(config.embed.text_model,
                                             paths_models_dir(config),
                                             max_tokens=config.embed.max_tokens)
        return encoder

    def image_encoder() -> ImageEncoder | None:
        from core.retrieval.encoders import image_encoder_for

        return image_encoder_for(config.embed.image_model, config.embed.image_weights)

    def captioner() -> Captioner:
        from core.retrieval.captions import TextCaptioner, VlmCaptioner

        cc = config.consolidation
        if cc.captioner == "vlm":
            return VlmCaptioner(Path(cc.vlm_model).expanduser(),
                                Path(cc.vlm_projector).expanduser(), cc.vlm_family)
        return TextCaptioner()

    def screen() -> ScreenSource:
        from core.capture import default_screen_source

        return default_screen_source()

    def windows() -> WindowInfoSource:
        from core.capture import default_window_info

        return default_window_info()

    return Factories(ocr=ocr, embedder=embedder, screen=screen, windows=windows,
                     image_encoder=image_encoder if config.embed.image_model else None,
                     captioner=None if config.consolidation.captioner == "off" else captioner)


def paths_models_dir(config: Config) -> Path:
    """Where the model manager keeps downloaded models."""
    from core.config import resolve_paths

    del config
    return resolve_paths().data_dir / "models"


def kdf_from_config(config: Config) -> KdfParams:
    sec = config.security
    return KdfParams.tuned(memory_mib=sec.kdf_memory_mib, iterations=sec.kdf_iterations,
                           lanes=sec.kdf_lanes, min_seconds=sec.kdf_min_seconds)


class Memory:
    """The facade. Construct with :meth:`create` (new vault) or :meth:`open`."""

    def __init__(self, config: Config, paths: Paths, vault: Vault,
                 factories: Factories | None = None) -> None:
        self.config = config
        self.paths = paths
        self._vault = vault
        self._factories = factories or default_factories(config)
        self._store = EncryptedStore(paths.vault_dir / "store", vault)
        self._state = CaptureState(paths.vault_dir / "state")
        self._keeper: IndexKeeper | None = None
        self._image_encoder: ImageEncoder | None = None
        self._image_encoder_failed = False
        self._episode_cache: tuple[tuple[int, int, int, int], list[Episode]] | None = None
        self._ocr: Ocr | None = None
        self._embedder: Embedder | None = None
        self._screen: ScreenSource | None = None
        self._windows: WindowInfoSource | None = None
        self._writer = WriterLock(paths.vault_dir / "writer.lock", "writer")
        # Writers inside this process (the app's write worker, background consolidation)
        # take turns: the file lock only separates processes.
        self._write_mutex = threading.RLock()
        self._captioner: Captioner | None = None  # loaded once per unlock (consolidation)
        self._repaired = False
        # Called with the ids of forgotten memories after every forget (derived data:
        # captions, cached answers, chat turns citing them). Ids only, never content.
        self.on_forget: list[ForgetHook] = [self._forget_chat_turns]
        self._chats: dict[str, ChatService] = {}
        self._conversations: ConversationStore | None = None
        self._privacy: PrivacyFilter | None = None
        self._gap_cache: tuple[int, list[GapRecord]] | None = None

    # -- lifecycle --------------------------------------------------------------------------
    @classmethod
    def create(cls, config: Config, paths: Paths, passphrase: str, *,
               kdf: KdfParams | None = None, factories: Factories | None = None) -> Memory:
        if len(passphrase) < 8:
            raise InvalidInput("the passphrase must have at least 8 characters")
        vault = Vault.create(paths.vault_dir, passphrase, kdf or kdf_from_config(config))
        _log.info("vault created")
        return cls(config, paths, vault, factories)

    @classmethod
    def open(cls, config: Config, paths: Paths, *,
             factories: Factories | None = None) -> Memory:
        return cls(config, paths, Vault.open(paths.vault_dir), factories)

    @staticmethod
    def exists(paths: Paths) -> bool:
        return Vault.exists(paths.vault_dir)

    @property
    def is_unlocked(self) -> bool:
        return self._vault.is_unlocked

    def unlock(self, passphrase: str) -> None:
        self._vault.unlock(passphrase)
        _log.info("vault unlocked")

    def lock(self) -> None:
        """Drop keys and every decrypted index (SECURITY.md R5)."""
        self._close_chats()
        if self._keeper is not None:
            try:
                self._keeper.save()
            except AfterimageError as exc:  # the snapshot is a cache: never block locking
                _log.warning("index snapshot not written (%s)", type(exc).__name__)
            self._keeper.drop()
        self._episode_cache = None
        self._gap_cache = None
        self._captioner = None  # the caption model goes with the keys (RAM, KV cache)
        self._vault.lock()
        _log.info("vault locked")

    def change_passphrase(self, old: str, new: str) -> None:
        if len(new) < 8:
            raise InvalidInput("the new passphrase must have at least 8 characters")
        self._vault.change_passphrase(old, new, kdf_from_config(self.config))

    def close(self) -> None:
        self.lock()
        if self._conversations is not None:
            self._conversations.close()
        if self._screen is not None:
            self._screen.close()
        self._writer.release()
        self._store.close()
        self._vault.close()

    # -- models -----------------------------------------------------------------------------
    def _get_ocr(self) -> Ocr:
        if self._ocr is None:
            self._ocr = self._factories.ocr()
        return self._ocr

    def forget_recent(self) -> None:
        """Drop the text embedder's remembered vectors of recent chunks (the capture service
        on pause and lock), if it keeps any."""
        forget = getattr(self._embedder, "forget", None)
        if callable(forget):
            forget()

    def _get_embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._factories.embedder()
        return self._embedder

    def _encoder(self) -> MomentEncoder:
        return MomentEncoder(self._get_ocr(), self._get_embedder(), self.config.capture)

    # -- writing ----------------------------------------------------------------------------
    def acquire_writer(self, purpose: str = "writer") -> None:
        """Become the single writer for the life of this object (the capture service does);
        raises WriterBusy if another process is. One-off writes use :meth:`writing`."""
        self._writer = WriterLock(self.paths.vault_dir / "writer.lock", purpose) \
            if not self._writer.held else self._writer
        self._writer.acquire()
        if not self._repaired:
            self.repair()

    @property
    def writer_held(self) -> bool:
        return self._writer.held

    def release_writer(self) -> None:
        """Give the single-writer lock back (the service does while it lends it)."""
        self._writer.release()

    def after_lent_writer(self) -> None:
        """The writer lock was lent to another process, which may have forgotten rows,
        dropped tables or reset the capture state: reopen all of it."""
        self._store.close()
        self._state = CaptureState(self.paths.vault_dir / "state")

    @contextlib.contextmanager
    def writing(self, purpose: str) -> Iterator[None]:
        """Be the writer for one operation (forget, import, maintenance, consolidation...).

        A process that already holds the lock (the capture service) just goes on. Otherwise
        the lock is taken for the operation and given back at its end; when a running
        capture service holds it, the service is asked to lend it (it finishes the frame in
        flight, pauses its writes and takes the lock back afterwards), so the user can
        forget or import while capture runs.
        """
        with self._write_mutex:
            if self._writer.held:
                yield
                return
            self._acquire_or_borrow(purpose)
            try:
                self._store.refresh()  # see what the previous writer wrote
                yield
            finally:
                self._writer.release()

    def _acquire_or_borrow(self, purpose: str, *, wait_s: float = 10.0) -> None:
        asked = 0
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self.acquire_writer(purpose)
                return
            except WriterBusy:
                if asked < 3 and self._ask_service_to_lend(purpose):
                    asked += 1
                    deadline = time.monotonic() + wait_s
                elif asked == 0 or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _ask_service_to_lend(self, purpose: str) -> bool:
        from core.ipc import request

        try:
            reply = request(self.paths.run_dir, "service", "lend_writer", {"purpose": purpose},
                            timeout=LEND_TIMEOUT_S)
        except AfterimageError:
            return False  # no service (another CLI writer): WriterBusy stands
        return bool(reply.get("lent"))

    def repair(self) -> RepairReport:
        """Startup repair (core/repair.py). Runs by itself when this process first becomes
        the writer; call it again after unlocking to finish an interrupted re-key."""
        self._repaired = True
        with self.writing("repair"):
            return repair_vault(self._store, self._vault, state_dir=self._state_dir,
                                other_live_keys=self._live_keys_outside_memories)

    def _live_keys_outside_memories(self) -> set[str]:
        """Data keys used by chat turns and the sealed index snapshot (never orphans)."""
        from core.retrieval.snapshot import snapshot_key_id

        live = self.conversations.live_key_ids()
        snapshot = snapshot_key_id(self.paths.vault_dir / SNAPSHOT_FILE)
        if snapshot is not None:
            live.add(snapshot)
        return live

    @property
    def _state_dir(self) -> Path:
        return self.paths.vault_dir / "state"

    def store_encoded(self, items: list[NewMemory]) -> list[str]:
        """Store memories that are already encoded (a capture worker, benchmarks, tests)."""
        with self.writing("writer"):
            return self._store.add(items)

    def capture_once(self) -> CaptureReport:
        """Grab every monitor now; store each changed monitor as its own memory."""
        with self.writing("capture"):
            self.privacy_filter()  # refuse before grabbing when sealed lists cannot be applied
            if self._screen is None:
                self._screen = self._factories.screen()
            if self._windows is None:
                self._windows = self._factories.windows()
            window = self._windows.active_window()
            frames = self._screen.grab_all()
            counters = CaptureCounters()
            last = self._state.last_frames()
            fresh: list[ScreenFrame] = []
            for frame in frames:
                key = str(frame.monitor.index)
                digest = self._state.frame_hash(frame.image)
                if self.config.capture.skip_identical and last.get(key) == digest:
                    counters.skip("unchanged")
                    continue
                last[key] = digest
                fresh.append(frame)
            report = self.capture_frames(fresh, window, counters=counters)
            report.monitors = len(frames)
            self._state.save_last_frames(last)
            return report

    def privacy_filter(self) -> PrivacyFilter:
        """The filter for this process: defaults, plus the user's sealed lists when unlocked.

        Raises VaultLocked when the user has sealed lists and the vault is locked: capturing
        without them would store what the user excluded.
        """
        if self._privacy is None:
            policy = self.privacy_policy() if self.is_unlocked else None
            if policy is None and sealed_policy.policy_exists(self._state_dir):
                raise VaultLocked("your privacy exclusions are sealed in the vault: unlock "
                                  "it (give the passphrase) so that they apply")
            self._privacy = PrivacyFilter(policy, own_pids=[os.getpid()])
        return self._privacy

    def set_privacy_filter(self, privacy: PrivacyFilter) -> None:
        self._privacy = privacy

    def capture_frames(self, frames: list[ScreenFrame], window: ActiveWindow | None, *,
                       ocr: Ocr | None = None, counters: CaptureCounters | None = None,
                       times: StageTimes | None = None,
                       persist_counters: bool = True) -> CaptureReport:
        """Filter, read, redact, encode and store grabbed frames (core/capture/pipeline.py)."""
        with self.writing("capture"):
            counters = counters or CaptureCounters()
            report = CaptureReport(monitors=len(frames), times=times or StageTimes())
            reader = ocr or self._get_ocr()
            # the encoder gets OCR results from the pipeline; it must not load a second engine
            encoder = MomentEncoder(reader, self._get_embedder(), self.config.capture)
            pipeline = FramePipeline(reader, encoder, self.privacy_filter())
            batch = pipeline.process(frames, window, report.times)
            for reason, n in batch.skipped.items():
                counters.skip(reason, n)
            counters.redacted += batch.redacted
            if batch.items:
                report.stored = self._store.add(batch.items)
                counters.captured += len(batch.items)
                counters.last_capture = datetime.now(UTC).isoformat()
            if persist_counters:
                self._state.add(counters)
            report.skipped = dict(counters.skipped)
            report.redacted = batch.redacted
            _log.info("capture: %d stored, %d skipped, %d redacted", len(report.stored),
                      sum(report.skipped.values()), batch.redacted)
            return report

    def record_capture_counters(self, counters: CaptureCounters) -> CaptureCounters:
        """Add ``counters`` to the persisted totals (the service batches its skips)."""
        return self._state.add(counters)

    def capture_counters(self) -> CaptureCounters:
        return self._state.load_counters()

    # -- privacy policy (sealed in the vault; core/privacy/sealed.py) ------------------------

    def privacy_policy(self) -> PrivacyPolicy:
        """The user's policy (defaults when none was saved). Needs the vault unlocked."""
        if not self.is_unlocked:
            raise VaultLocked("the vault is locked: unlock it to read your privacy lists")
        raw = sealed_policy.read_policy(self._state_dir, self._vault.vault_id,
                                        self._vault.capture_public_key,
                                        self._vault.capture_exchange)
        return PrivacyPolicy() if raw is None else PrivacyPolicy.from_json(raw)

    def gap_log(self) -> GapLog:
        """The sealed log of capture holds and runs (core/gap_log.py): the service appends
        with the public key; ``records``/``gaps`` need the vault unlocked."""
        exchange = self._vault.capture_exchange if self.is_unlocked else None
        return GapLog(self._state_dir, self._vault.vault_id, self._vault.capture_public_key,
                      exchange)

    def capture_gaps(self, since: datetime, until: datetime) -> list[TimelineGap]:
        """Why capture held between ``since`` and ``until`` (paused, locked, idle, filtered,
        waiting, not running), from the sealed gap log. Needs the vault unlocked."""
        if not self.is_unlocked:
            raise VaultLocked("the vault is locked: unlock it to see the capture history")
        # Decrypted records are kept (in memory only, dropped on lock); only new lines are
        # opened on later calls.
        offset, records = self._gap_cache or (0, [])
        new, offset = self.gap_log().read_from(offset)
        if offset < self._gap_cache_offset():
            records = []  # the log was removed (forget everything) and started again
        records = sorted([*records, *new], key=lambda r: r.start)
        self._gap_cache = (offset, records)
        return gaps_from_records(records, since, until)

    def _gap_cache_offset(self) -> int:
        return self._gap_cache[0] if self._gap_cache else 0

    def hand_policy_to_service(self) -> bool:
        """Give the running capture service the user's policy (sealed to its in-memory key).

        Returns False when no service is running. Needs the vault unlocked.
        """
        from core.service_status import read_status

        policy = self.privacy_policy()
        status = read_status(self.paths.run_dir)
        if status is None or status.state == "stopped" or len(status.handoff_key) != 64:
            return False
        sealed_policy.hand_over(self.paths.run_dir, int(status.pid),
                                bytes.fromhex(status.handoff_key), policy.to_json())
        return True

    def set_privacy_policy(self, policy: PrivacyPolicy) -> None:
        """Seal ``policy`` in the vault (needs unlock, so that lists are edited, not lost)."""
        if not self.is_unlocked:
            raise VaultLocked("the vault is locked: unlock it to change your privacy lists")
        sealed_policy.write_policy(self._state_dir, self._vault.vault_id,
                                   self._vault.capture_public_key, policy.to_json())
        if self._privacy is not None:
            self._privacy.set_policy(policy)

    def import_paths(self, paths: Iterable[Path], state: JobState | None = None,
                     *, batch: int = 8) -> ImportReport:
        """Import screenshot files/folders as memories (see :mod:`core.importer`)."""
        job = state or SilentJob()
        files, missing = collect_images(paths)
        report = ImportReport(missing=[str(p) for p in missing])
        if not files:
            return report
        with self.writing("import"):
            known: set[tuple[str, str]] = set()
            if self.is_unlocked:
                known = {(r.source or "", r.timestamp.isoformat())
                         for r in self._ensure_index().imported_records()}
            encoder = self._encoder()
            pending: list[NewMemory] = []
            for done, path in enumerate(files):
                check_cancelled(job)
                job.set_progress(done, len(files))
                try:
                    item = moment_from_file(path)
                except ImportFailed as exc:
                    report.failed.append((path.name, str(exc)))
                    continue
                ident = (item.moment.source or "", item.moment.timestamp.isoformat())
                if ident in known:
                    report.skipped_duplicates += 1
                    continue
                known.add(ident)
                report.time_sources[item.time_source] = report.time_sources.get(
                    item.time_source, 0) + 1
                try:
                    pending.append(encoder.encode(item.moment))
                except AfterimageError as exc:
                    report.failed.append((path.name, str(exc)))
                    continue
                if len(pending) >= batch:
                    report.imported.extend(self._store.add(pending))
                    pending = []
            if pending:
                report.imported.extend(self._store.add(pending))
            job.set_progress(len(files), len(files))
            _log.info("import: %d imported, %d failed, %d duplicates", len(report.imported),
                      len(report.failed), report.skipped_duplicates)
            return report

    # -- reading ----------------------------------------------------------------------------
    @property
    def _index(self) -> MemoryIndex | None:
        """The decrypted in-memory index, if built (None while locked)."""
        return None if self._keeper is None else self._keeper.index

    def _ensure_index(self) -> MemoryIndex:
        if not self._vault.is_unlocked:
            raise VaultLocked("the vault is locked: unlock it to search")
        if self._keeper is None:
            image = self._get_image_encoder()
            self._keeper = IndexKeeper(self._store, self._vault, self.paths.vault_dir,
                                       self._get_embedder().dim,
                                       image_dim=image.dim if image is not None else 0,
                                       fusion=FusionConfig(method=self.config.search.fusion))
        return self._keeper.ensure()

    def _get_image_encoder(self) -> ImageEncoder | None:
        """The CLIP encoder when configured and installed; None means text-only search."""
        if self._image_encoder is None and not self._image_encoder_failed and \
                self._factories.image_encoder is not None:
            try:
                encoder = self._factories.image_encoder()
                if encoder is not None:
                    encoder.embed_texts(["probe"])  # loads the model, learns its dim
                self._image_encoder = encoder
            except ModelError as exc:
                self._image_encoder_failed = True
                _log.warning("image search unavailable: %s", exc)
        return self._image_encoder

    def parse_query(self, query: str, *, now: datetime | None = None) -> QueryTime:
        """The time range named inside ``query`` ("yesterday afternoon", "in March")
        and the query without those words (for showing the user what was understood)."""
        return extract_time(query, now=now)

    def warm_up(self) -> None:
        """Load the search model now, and build the in-memory index if unlocked, so the first
        search is instant (the GUI calls this on a worker at start and after unlock)."""
        self._get_embedder().embed(["warm up"])
        if self._vault.is_unlocked:
            self._ensure_index()

    def search(self, query: str, *, since: datetime | None = None,
               until: datetime | None = None, app: str | None = None,
               limit: int | None = None, monitor: int | None = None,
               natural_time: bool = True, collapse: bool = True,
               now: datetime | None = None) -> list[SearchHit]:
        """Hybrid search. Time words in ``query`` become a time filter (intersected with
        ``since``/``until``) unless ``natural_time`` is False; near-identical neighbouring
        moments are shown once (their ids in ``SearchHit.duplicates``)."""
        if since is not None and until is not None and since >= until:
            raise InvalidInput("--since must be earlier than --until")
        n = limit if limit is not None else self.config.search.default_limit
        if n < 1 or n > 1000:
            raise InvalidInput("the limit must be between 1 and 1000")
        index = self._ensure_index()
        text = query.strip()
        if natural_time and self.config.search.natural_time:
            parsed = extract_time(text, now=now)
            text = parsed.text
            if parsed.since is not None:
                since = parsed.since if since is None else max(since, parsed.since)
            if parsed.until is not None:
                until = parsed.until if until is None else min(until, parsed.until)
            if since is not None and until is not None and since >= until:
                return []
        vector = self._get_embedder().embed([text])[0] if text else None
        image = self._image_encoder if index.latent.image is not None else None
        image_query = image.embed_texts([text])[0] if image is not None and text else None
        flt = IndexFilter(since=since, until=until, app=app, monitor=monitor)
        hits = index.search(vector, text, flt, n, image_query=image_query,
                            collapse=collapse and self.config.search.collapse_duplicates)
        width = self.config.search.snippet_chars
        return [SearchHit(id=h.record.id, timestamp=h.record.timestamp, app=h.record.app,
                          title=h.record.title, source=h.record.source,
                          score=round(h.score, 4),
                          snippet=make_snippet(h.record.text, text, width),
                          origin=h.record.origin, url=h.record.url, duplicates=h.duplicates,
                          caption=h.record.caption,
                          monitor=None if h.record.monitor is None else h.record.monitor.index)
                for h in hits]

    def get(self, memory_id: str) -> MemoryRecord | None:
        return self._ensure_index().get(memory_id)

    # -- episodes and days (timeline) --------------------------------------------------------
    def episodes(self, day: date | None = None) -> list[Episode]:
        """Episodes (oldest first), of one local day or of everything. One day decrypts
        only that day's memories (plus the evening before, for an episode that runs past
        midnight), not the whole history."""
        if day is None:
            return self._all_episodes()
        start = datetime.combine(day, datetime.min.time()).astimezone()
        records = self._ensure_index().records_between(start - timedelta(hours=6),
                                                       start + timedelta(days=1))
        return [e for e in build_episodes(records) if local_day(e.start) == day]

    def _all_episodes(self) -> list[Episode]:
        index = self._ensure_index()
        state = (id(index), len(index), index.mutations, self._store.version())
        cached = self._episode_cache
        if cached is None or cached[0] != state:
            cached = (state, build_episodes(index.records()))
            self._episode_cache = cached
        return cached[1]

    def days(self, last: int | None = None) -> list[DaySummary]:
        """One summary per local day with memories, newest first. ``last``: only the newest
        ``last`` days, decrypting only their memories (the timeline shows a few days at a
        time; summarising the whole history would decrypt all of it)."""
        if last is None:
            return summarise_days(self._all_episodes())
        wanted = self._ensure_index().local_days()[-last:] if last > 0 else []
        return summarise_days([e for day in wanted for e in self.episodes(day)])

    def search_episodes(self, query: str, *, limit: int = 5, **filters: Any
                        ) -> list[tuple[Episode, list[SearchHit]]]:
        """Route a query to episodes: memory hits grouped by the episode they belong to,
        episodes ranked by their best hit (for "what was I working on ..." questions)."""
        hits = self.search(query, limit=200, collapse=False, **filters)
        if not hits:
            return []
        days = {local_day(h.timestamp) for h in hits}  # only the days the hits fall on
        owner = {mid: ep for day in days for ep in self.episodes(day) for mid in ep.memory_ids}
        grouped: dict[str, tuple[Episode, list[SearchHit]]] = {}
        for hit in hits:
            ep = owner.get(hit.id)
            if ep is not None:
                grouped.setdefault(ep.id, (ep, []))[1].append(hit)
        ranked = sorted(grouped.values(), key=lambda item: -max(h.score for h in item[1]))
        return ranked[:limit]

    # -- background consolidation ------------------------------------------------------------
    def consolidation_pending(self) -> int:
        """How many memories still lack a caption (or image vector)."""
        return len(pending_ids(self._ensure_index(),
                               want_images=self._get_image_encoder() is not None))

    def consolidate(self, state: JobState | None = None, *, max_items: int | None = None,
                    budget_s: float | None = None, force: bool = False,
                    index_guard: Callable[[], AbstractContextManager[object]] | None = None
                    ) -> ConsolidationReport:
        """Caption (and CLIP-embed) memories that lack it. Runs only when the machine is
        plugged in or idle unless ``force``; safe to stop and resume at any time.
        ``index_guard``: held while the search index is read or changed (the app's lock)."""
        with (index_guard or contextlib.nullcontext)():
            index = self._ensure_index()
        if not force and self.config.consolidation.only_when_idle:
            machine = MachineState.probe()
            if not machine.good_time():
                return ConsolidationReport(
                    remaining=len(pending_ids(index, want_images=False)),
                    skipped_reason="on battery and busy")
        image = self._get_image_encoder()
        return consolidate(self._store, index,
                           self._get_captioner if self._factories.captioner else None,
                           (lambda: image) if image is not None else None, state,
                           max_items=max_items, budget_s=budget_s,
                           writer=lambda: self.writing("consolidate"), index_guard=index_guard)

    def _get_captioner(self) -> Captioner:
        if self._captioner is None:
            assert self._factories.captioner is not None
            self._captioner = self._factories.captioner()
        return self._captioner

    def thumbnail(self, memory_id: str) -> bytes | None:
        if not self._vault.is_unlocked:
            raise VaultLocked("the vault is locked")
        return self._store.blob(THUMBS, memory_id)

    def frame(self, memory_id: str) -> bytes | None:
        if not self._vault.is_unlocked:
            raise VaultLocked("the vault is locked")
        return self._store.blob(FRAMES, memory_id)

    # -- timeline (metadata only; see core.timeline) ----------------------------------------
    def timeline_hours(self) -> list[TimelineHour]:
        """Every hour that holds memories, oldest first. Reads plaintext buckets only."""
        counts = self._store.bucket_counts()
        return [TimelineHour(bucket=b, count=counts[b]) for b in sorted(counts)]

    def moments_in_hour(self, bucket: int) -> list[MomentSummary]:
        """The moments of one hour bucket, by time: decrypted metadata, no text or images."""
        if not self._vault.is_unlocked:
            raise VaultLocked("the vault is locked")
        out: list[MomentSummary] = []
        for row in self._store.rows_in_bucket(bucket):
            cached = self._index.get(row.id) if self._index is not None else None
            try:
                rec = cached or self._store.decrypt_record(row)
            except (KeyMissing, DecryptionFailed):
                continue
            out.append(MomentSummary(id=row.id, timestamp=rec.timestamp, app=rec.app,
                                     title=rec.title, tier=row.tier, origin=rec.origin,
                                     source=rec.source))
        out.sort(key=lambda m: m.timestamp)
        return out

    def record(self, memory_id: str) -> MemoryRecord | None:
        """One memory, decrypted on its own (no full index load), or None if not kept."""
        if not self._vault.is_unlocked:
            raise VaultLocked("the vault is locked")
        if self._index is not None and memory_id in self._index:
            return self._index.get(memory_id)
        row = self._store.row(memory_id)
        if row is None:
            return None
        try:
            return self._store.decrypt_record(row)
        except KeyMissing:
            return None

    def stats(self, *, now: datetime | None = None) -> Stats:
        counters = self._state.load_counters()
        by_bucket, sizes = measure(self._store)
        storage = storage_report(by_bucket, sizes, self.config.storage, now or datetime.now(UTC))
        tiers = self._store.tier_counts()
        keys = self._vault.key_ids()
        buckets = sorted(set(keys.values()) - {SNAPSHOT_BUCKET})
        return Stats(
            memories=sum(tiers.values()),
            tiers={TIER_NAMES[t]: tiers.get(t, 0) for t in TIER_NAMES},
            bytes_on_disk=dir_size(self.paths.data_dir),
            bytes_store=self._store.bytes_on_disk(),
            captured_total=counters.captured,
            skipped=dict(sorted(counters.skipped.items())),
            last_capture=counters.last_capture,
            data_keys=sum(1 for b in keys.values() if b != SNAPSHOT_BUCKET),
            oldest_bucket=datetime.fromtimestamp(buckets[0] * 3600, UTC) if buckets else None,
            newest_bucket=datetime.fromtimestamp(buckets[-1] * 3600, UTC) if buckets else None,
            data_dir=str(self.paths.data_dir),
            bytes_by_tier=storage.bytes_by_tier,
            budget_bytes=storage.budget_bytes,
            daily_growth_bytes=storage.daily_growth_bytes,
            days_until_budget=storage.days_until_budget,
            row_bytes=storage.row_bytes,
        )

    # -- retention and the storage budget (core/retention.py) -------------------------------
    def plan_maintenance(self, *, now: datetime | None = None) -> MaintenancePlan:
        buckets, sizes = measure(self._store)
        return plan_maintenance(buckets, sizes, self.config.storage, now or datetime.now(UTC))

    def maintain(self, *, now: datetime | None = None) -> MaintenanceReport:
        """Apply retention and the storage budget now (works while locked)."""
        with self.writing("maintenance"):
            plan = self.plan_maintenance(now=now)
            return run_maintenance(self._store, self._vault, plan, state_dir=self._state_dir,
                                   measure_dir=self.paths.vault_dir,
                                   hooks=[self._drop_index_after_forget, *self.on_forget])

    def maintain_if_due(self) -> MaintenanceReport | None:
        """Run ``maintain`` only when the cheap check says it is needed (after writes)."""
        buckets = self._vault.key_ids().values()
        if not maintenance_due(self._store.bytes_on_disk(), min(buckets, default=None),
                               self.config.storage):
            return None
        return self.maintain()
    # -- chat ---------------------------------------------------------------------------------
    @property
    def conversations(self) -> ConversationStore:
        """The encrypted chat history (core.chat.conversations)."""
        if self._conversations is None:
            from core.chat import ConversationStore

            self._conversations = ConversationStore(self.paths.vault_dir / "chats", self._vault)
        return self._conversations

    def chat(self, model: str | None = None) -> ChatService:
        """The chat service for ``model`` (None: the configured one, else the embedded
        Gemma 3 270M; a catalog name; or a GGUF path). The model loads on first use."""
        from core.chat import ChatService, ChatSettings, IndexRecallSource
        from core.llm import LlamaCppLlm, Llm
        from core.models import InstalledModels, resolve_chat_model

        spec = model if model is not None else self.config.chat.model
        service = self._chats.get(spec)
        if service is not None:
            return service
        cfg = self.config.chat
        choice = resolve_chat_model(spec, InstalledModels(self.paths.models_dir))

        def load() -> Llm:
            return LlamaCppLlm.load(choice.path, name=choice.name, n_ctx=cfg.context_tokens,
                                    n_threads=cfg.threads or None)

        settings = ChatSettings(
            max_tokens=cfg.max_tokens,
            evidence_tokens=min(cfg.evidence_tokens,
                                cfg.context_tokens - cfg.max_tokens - 400),
            max_gap=timedelta(seconds=cfg.max_gap_s),
            capture_interval=timedelta(seconds=self.config.capture.interval_s))
        service = ChatService(IndexRecallSource(self._ensure_index, self._get_embedder), load,
                              settings=settings,
                              conversations=self.conversations if cfg.save_history else None)
        self._chats[spec] = service
        return service

    def ask(self, question: str, options: AskOptions | None = None, *,
            model: str | None = None, on_token: Callable[[str], None] | None = None,
            on_status: Callable[[str], None] | None = None, state: JobState | None = None,
            conversation: str | None = None, save: bool = True) -> Answer:
        """Answer ``question`` from memories (blocking; use ``chat().start`` to stream)."""
        self._ensure_index()
        return self.chat(model).ask(question, options, on_token=on_token,
                                    on_status=on_status, state=state,
                                    conversation=conversation, save=save)

    def _forget_chat_turns(self, ids: frozenset[str]) -> None:
        """Forget hook: chat turns that cite a forgotten memory go too (R7)."""
        if ids == FORGET_EVERYTHING:
            return  # forget_all drops every conversation itself
        self.forget_turns_citing(ids)

    def forget_turns_citing(self, memory_ids: Iterable[str]) -> int:
        """Physically remove chat turns that cite any of ``memory_ids`` (R7; works locked)."""
        return self.conversations.forget_turns_citing(list(memory_ids))

    def _close_chats(self) -> None:
        for service in self._chats.values():
            service.close()
        self._chats.clear()

    # -- forgetting -------------------------------------------------------------------------
    def _all_records(self) -> list[MemoryRecord]:
        if self._index is not None:
            return self._ensure_index().records()
        if not self._vault.is_unlocked:
            raise VaultLocked("the vault is locked: unlock it to choose what to forget")
        return self._store.load_all()[0]

    def plan_forget(self, request: ForgetRequest, *, whole_hours: bool = False) -> ForgetPlan:
        """What ``forget`` would remove (core/forget.py). Show it to the user first.

        ``whole_hours``: select every memory of the hours the time range touches, without
        the passphrase (nothing needs re-keying). Otherwise the vault must be unlocked.
        """
        if request.since is not None and request.until is not None \
                and request.since >= request.until:
            raise InvalidInput("--since must be earlier than --until")
        if request.is_empty:
            raise InvalidInput("say what to forget: a time range, an app, ids, a query, "
                               "or everything")
        if whole_hours:
            if request.needs_passphrase:
                raise InvalidInput("only a time range can be forgotten by whole hours")
            present = set(self._vault.key_ids().values()) | {
                m.bucket for m in self._store.row_meta(MEMORIES)}
            return plan_by_buckets(self._store, buckets_overlapping(
                request.since, request.until, present))
        if not self._vault.is_unlocked:
            raise VaultLocked("the vault is locked: unlock it to choose what to forget")
        if request.query is not None:
            hits = self.search(request.query, since=request.since, until=request.until,
                               app=request.app, limit=request.limit)
            records = [rec for h in hits if (rec := self.get(h.id)) is not None]
        elif self._index is not None and (request.since is not None or
                                          request.until is not None or request.app):
            # The index knows every memory's time and app: decrypt only those in range.
            records = self._ensure_index().records_between(request.since, request.until,
                                                           request.app)
        elif self._index is None and (request.since is not None or request.until is not None):
            # Only the hours the range touches need decrypting (the bucket is plaintext).
            lo = bucket_of(request.since) if request.since is not None else None
            hi = bucket_of(request.until) if request.until is not None else None
            where = " AND ".join([f"bucket >= {lo}"] * (lo is not None)
                                 + [f"bucket <= {hi}"] * (hi is not None))
            records = self._store.load_records_where(where)
        else:
            records = self._all_records()
        return plan_by_records(select_records(records, request))

    def forget_keys(self, plan: ForgetPlan) -> int:
        """How many data keys forgetting ``plan`` destroys or replaces (plaintext row
        metadata only: ids, hour buckets, key ids). For the GUI's preview."""
        if plan.empty:
            return 0
        return len({r.key_id for name in (MEMORIES, THUMBS, FRAMES)
                    for r in self._store.row_meta(name)
                    if r.id in plan.ids or r.bucket in plan.buckets})

    def forget(self, plan: ForgetPlan) -> ForgetReport:
        """Forget what ``plan`` selected, for ever (SECURITY.md R7; core/forget.py)."""
        with self.writing("forget"):
            return execute_forget(self._store, self._vault, plan, state_dir=self._state_dir,
                                  measure_dir=self.paths.vault_dir,
                                  hooks=[self._drop_index_after_forget, *self.on_forget])

    def _drop_index_after_forget(self, ids: frozenset[str]) -> None:
        """After a forget: the sealed index snapshot holds the forgotten vectors, so it is
        deleted and its key destroyed; the decrypted index is rebuilt on the next search."""
        del ids
        if self._keeper is not None:
            self._keeper.discard()
            self._keeper.drop()
        else:
            IndexKeeper(self._store, self._vault, self.paths.vault_dir, 0).discard()
        self._episode_cache = None

    def forget_all(self) -> ForgetReport:
        """Forget everything: rows, images, every data key, all versions, caches."""
        with self.writing("forget"):
            before = dir_size(self.paths.vault_dir)
            count = self._store.count()
            self._close_chats()
            self.conversations.forget_all()
            self._store.drop_everything()
            destroyed = self._vault.destroy_keys(list(self._vault.key_ids()))
            self._state.reset()
            self._gap_cache = None
            if self._keeper is not None:
                self._keeper.discard()
                self._keeper.drop()
            else:
                IndexKeeper(self._store, self._vault, self.paths.vault_dir, 0).discard()
            after = dir_size(self.paths.vault_dir)
            for hook in self.on_forget:
                hook(FORGET_EVERYTHING)
            _log.info("forget all: %d memories, %d keys", count, destroyed)
            return ForgetReport(memories=count, data_keys=destroyed,
                                bytes_freed=max(0, before - after))
