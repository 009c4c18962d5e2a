"""``Memory``: the one facade over Afterimage's core. The CLI and the GUI are its clients.

It owns the vault (keys), the encrypted store, the in-memory index and the
models, and exposes what a user can do: capture, import, search, stats, forget,
lock and unlock. Models load lazily through factories, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from core.capture_state import CaptureCounters, CaptureState
from core.config import Config, Paths
from core.encode import Moment, MomentEncoder, StageTimes
from core.errors import AfterimageError, ImportFailed, InvalidInput, ModelError, VaultLocked
from core.importer import ImportReport, collect_images, moment_from_file
from core.index import IndexFilter, MemoryIndex, make_snippet
from core.jobs import JobState, SilentJob, check_cancelled
from core.locks import WriterLock
from core.records import TIER_NAMES, MemoryRecord
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
from core.retrieval.keeper import SNAPSHOT_BUCKET, IndexKeeper
from core.retrieval.latent import FusionConfig
from core.retrieval.nltime import QueryTime, extract_time
from core.store import FRAMES, THUMBS, EncryptedStore, NewMemory, dir_size
from core.types import ActiveWindow, Embedder, Ocr, ScreenFrame, ScreenSource, WindowInfoSource
from core.vault import KdfParams, Vault

_log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class ForgetReport:
    memories: int
    data_keys: int
    bytes_freed: int


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
        from core.ocr import RapidOcrEngine

        return RapidOcrEngine(min_confidence=config.ocr.min_confidence,
                              max_side_px=config.ocr.max_side_px)

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


def _window_on_monitor(window: ActiveWindow | None, frame: ScreenFrame) -> bool:
    if window is None:
        return False
    if window.left is None or window.top is None or window.width is None \
            or window.height is None:
        return True  # geometry unknown: attribute to every monitor
    mon = frame.monitor
    cx = window.left + window.width / 2
    cy = window.top + window.height / 2
    return mon.left <= cx < mon.left + mon.width and mon.top <= cy < mon.top + mon.height


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
        if self._keeper is not None:
            try:
                self._keeper.save()
            except AfterimageError as exc:  # the snapshot is a cache: never block locking
                _log.warning("index snapshot not written (%s)", type(exc).__name__)
            self._keeper.drop()
        self._episode_cache = None
        self._vault.lock()
        _log.info("vault locked")

    def change_passphrase(self, old: str, new: str) -> None:
        if len(new) < 8:
            raise InvalidInput("the new passphrase must have at least 8 characters")
        self._vault.change_passphrase(old, new, kdf_from_config(self.config))

    def close(self) -> None:
        self.lock()
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

    def _get_embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._factories.embedder()
        return self._embedder

    def _encoder(self) -> MomentEncoder:
        return MomentEncoder(self._get_ocr(), self._get_embedder(), self.config.capture)

    # -- writing ----------------------------------------------------------------------------
    def acquire_writer(self, purpose: str = "writer") -> None:
        """Become the single writer (raises WriterBusy if another process is)."""
        self._writer = WriterLock(self.paths.vault_dir / "writer.lock", purpose) \
            if not self._writer.held else self._writer
        self._writer.acquire()

    def _write(self, items: list[NewMemory]) -> list[str]:
        self.acquire_writer()
        return self._store.add(items)

    def capture_once(self) -> CaptureReport:
        """Grab every monitor now; store each changed monitor as its own memory."""
        self.acquire_writer("capture")
        if self._screen is None:
            self._screen = self._factories.screen()
        if self._windows is None:
            self._windows = self._factories.windows()
        report = CaptureReport()
        frames = self._screen.grab_all()
        window = self._windows.active_window()
        report.monitors = len(frames)
        counters = CaptureCounters()
        last = self._state.last_frames()
        encoder = self._encoder()
        items: list[NewMemory] = []
        for frame in frames:
            key = str(frame.monitor.index)
            digest = self._state.frame_hash(frame.image)
            if self.config.capture.skip_identical and last.get(key) == digest:
                counters.skip("unchanged")
                continue
            on_this = _window_on_monitor(window, frame)
            moment = Moment(
                image=frame.image, timestamp=frame.captured_at,
                app=window.app if (window and on_this) else "",
                title=window.title if (window and on_this) else "",
                url=window.url if (window and on_this) else None,
                pid=window.pid if (window and on_this) else None,
                monitor=frame.monitor, origin="capture")
            items.append(encoder.encode(moment, times=report.times))
            last[key] = digest
        if items:
            report.stored = self._store.add(items)
            counters.captured = len(items)
            counters.last_capture = datetime.now(UTC).isoformat()
        self._state.save_last_frames(last)
        self._state.add(counters)
        report.skipped = dict(counters.skipped)
        _log.info("capture: %d stored, %d skipped", len(report.stored),
                  sum(report.skipped.values()))
        return report

    def import_paths(self, paths: Iterable[Path], state: JobState | None = None,
                     *, batch: int = 8) -> ImportReport:
        """Import screenshot files/folders as memories (see :mod:`core.importer`)."""
        job = state or SilentJob()
        files, missing = collect_images(paths)
        report = ImportReport(missing=[str(p) for p in missing])
        if not files:
            return report
        self.acquire_writer("import")
        known: set[tuple[str, str]] = set()
        if self.is_unlocked:
            known = {(r.source or "", r.timestamp.isoformat())
                     for r in self._ensure_index().records() if r.origin == "import"}
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
        """Episodes (oldest first), of one local day or of everything."""
        episodes = self._all_episodes()
        if day is None:
            return episodes
        return [e for e in episodes if local_day(e.start) == day]

    def _all_episodes(self) -> list[Episode]:
        index = self._ensure_index()
        state = (id(index), len(index), index.mutations, self._store.version())
        cached = self._episode_cache
        if cached is None or cached[0] != state:
            cached = (state, build_episodes(index.records()))
            self._episode_cache = cached
        return cached[1]

    def days(self) -> list[DaySummary]:
        """One summary per local day with memories, newest first."""
        return summarise_days(self._all_episodes())

    def search_episodes(self, query: str, *, limit: int = 5, **filters: Any
                        ) -> list[tuple[Episode, list[SearchHit]]]:
        """Route a query to episodes: memory hits grouped by the episode they belong to,
        episodes ranked by their best hit (for "what was I working on ..." questions)."""
        hits = self.search(query, limit=200, collapse=False, **filters)
        if not hits:
            return []
        episodes = self._all_episodes()
        owner = {mid: ep for ep in episodes for mid in ep.memory_ids}
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
                    budget_s: float | None = None, force: bool = False) -> ConsolidationReport:
        """Caption (and CLIP-embed) memories that lack it. Runs only when the machine is
        plugged in or idle unless ``force``; safe to stop and resume at any time."""
        index = self._ensure_index()
        if not force and self.config.consolidation.only_when_idle:
            machine = MachineState.probe()
            if not machine.good_time():
                return ConsolidationReport(
                    remaining=len(pending_ids(index, want_images=False)),
                    skipped_reason="on battery and busy")
        self.acquire_writer("consolidate")
        image = self._get_image_encoder()
        return consolidate(self._store, index, self._factories.captioner,
                           (lambda: image) if image is not None else None, state,
                           max_items=max_items, budget_s=budget_s)

    def thumbnail(self, memory_id: str) -> bytes | None:
        if not self._vault.is_unlocked:
            raise VaultLocked("the vault is locked")
        return self._store.blob(THUMBS, memory_id)

    def frame(self, memory_id: str) -> bytes | None:
        if not self._vault.is_unlocked:
            raise VaultLocked("the vault is locked")
        return self._store.blob(FRAMES, memory_id)

    def stats(self) -> Stats:
        counters = self._state.load_counters()
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
        )

    # -- forgetting -------------------------------------------------------------------------
    def forget_all(self) -> ForgetReport:
        """Forget everything: rows, images, every data key, all versions, caches."""
        self.acquire_writer("forget")
        before = dir_size(self.paths.vault_dir)
        count = self._store.count()
        self._store.drop_everything()
        destroyed = self._vault.destroy_keys(list(self._vault.key_ids()))
        self._state.reset()
        if self._keeper is not None:
            self._keeper.discard()
            self._keeper.drop()
        else:
            IndexKeeper(self._store, self._vault, self.paths.vault_dir, 0).discard()
        after = dir_size(self.paths.vault_dir)
        _log.info("forget all: %d memories, %d keys", count, destroyed)
        return ForgetReport(memories=count, data_keys=destroyed,
                            bytes_freed=max(0, before - after))
