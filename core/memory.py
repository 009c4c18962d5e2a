"""``Memory``: the one facade over Afterimage's core. The CLI and the GUI are its clients.

It owns the vault (keys), the encrypted store, the in-memory index and the
models, and exposes what a user can do: capture, import, search, stats, forget,
lock and unlock. Models load lazily through factories, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.capture_state import CaptureCounters, CaptureState
from core.config import Config, Paths
from core.encode import Moment, MomentEncoder, StageTimes
from core.errors import AfterimageError, ImportFailed, InvalidInput, VaultLocked
from core.importer import ImportReport, collect_images, moment_from_file
from core.index import IndexFilter, MemoryIndex, make_snippet
from core.jobs import JobState, SilentJob, check_cancelled
from core.locks import WriterLock
from core.records import TIER_NAMES, MemoryRecord
from core.retrieval.keeper import SNAPSHOT_BUCKET, IndexKeeper
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


def default_factories(config: Config) -> Factories:
    def ocr() -> Ocr:
        from core.ocr import RapidOcrEngine

        return RapidOcrEngine(min_confidence=config.ocr.min_confidence,
                              max_side_px=config.ocr.max_side_px)

    def embedder() -> Embedder:
        from core.embed import MiniLmEmbedder

        return MiniLmEmbedder(max_tokens=config.embed.max_tokens)

    def screen() -> ScreenSource:
        from core.capture import default_screen_source

        return default_screen_source()

    def windows() -> WindowInfoSource:
        from core.capture import default_window_info

        return default_window_info()

    return Factories(ocr=ocr, embedder=embedder, screen=screen, windows=windows)


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
            self._keeper = IndexKeeper(self._store, self._vault, self.paths.vault_dir,
                                       self._get_embedder().dim)
        return self._keeper.ensure()

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
        if natural_time:
            parsed = extract_time(text, now=now)
            text = parsed.text
            if parsed.since is not None:
                since = parsed.since if since is None else max(since, parsed.since)
            if parsed.until is not None:
                until = parsed.until if until is None else min(until, parsed.until)
            if since is not None and until is not None and since >= until:
                return []
        vector = self._get_embedder().embed([text])[0] if text else None
        flt = IndexFilter(since=since, until=until, app=app, monitor=monitor)
        hits = index.search(vector, text, flt, n, collapse=collapse)
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
