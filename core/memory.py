"""``Memory``: the one facade over Afterimage's core. The CLI and the GUI are its clients.

It owns the vault (keys), the encrypted store, the in-memory index and the
models, and exposes what a user can do: capture, import, search, stats, forget,
lock and unlock. Models load lazily through factories, once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.capture.pipeline import FramePipeline
from core.capture_state import CaptureCounters, CaptureState
from core.config import Config, Paths
from core.encode import MomentEncoder, StageTimes
from core.errors import AfterimageError, ImportFailed, InvalidInput, VaultLocked
from core.importer import ImportReport, collect_images, moment_from_file
from core.index import IndexFilter, MemoryIndex, make_snippet
from core.jobs import JobState, SilentJob, check_cancelled
from core.locks import WriterLock
from core.privacy import sealed as sealed_policy
from core.privacy.filter import PrivacyFilter
from core.privacy.policy import PrivacyPolicy
from core.records import TIER_NAMES, MemoryRecord
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
        self._index: MemoryIndex | None = None
        self._index_version = -1
        self._ocr: Ocr | None = None
        self._embedder: Embedder | None = None
        self._screen: ScreenSource | None = None
        self._windows: WindowInfoSource | None = None
        self._writer = WriterLock(paths.vault_dir / "writer.lock", "writer")
        self._privacy: PrivacyFilter | None = None

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
        if self._index is not None:
            self._index.clear()
        self._index = None
        self._index_version = -1
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
        self.acquire_writer("capture")
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
    @property
    def _state_dir(self) -> Path:
        return self.paths.vault_dir / "state"

    def privacy_policy(self) -> PrivacyPolicy:
        """The user's policy (defaults when none was saved). Needs the vault unlocked."""
        if not self.is_unlocked:
            raise VaultLocked("the vault is locked: unlock it to read your privacy lists")
        raw = sealed_policy.read_policy(self._state_dir, self._vault.vault_id,
                                        self._vault.capture_public_key,
                                        self._vault.capture_exchange)
        return PrivacyPolicy() if raw is None else PrivacyPolicy.from_json(raw)

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
    def _ensure_index(self) -> MemoryIndex:
        if not self._vault.is_unlocked:
            raise VaultLocked("the vault is locked: unlock it to search")
        version = self._store.version()
        if self._index is None:
            self._index = MemoryIndex(self._get_embedder().dim)
        if version != self._index_version:
            records, vectors, _ = self._store.load_all(exclude=self._index.ids())
            self._index.add(records, vectors)
            live = {row.id for row in self._store.rows()}
            gone = [rid for rid in self._index.ids() if rid not in live]
            self._index.remove(gone)
            self._index_version = version
        return self._index

    def search(self, query: str, *, since: datetime | None = None,
               until: datetime | None = None, app: str | None = None,
               limit: int | None = None) -> list[SearchHit]:
        if since is not None and until is not None and since >= until:
            raise InvalidInput("--since must be earlier than --until")
        n = limit if limit is not None else self.config.search.default_limit
        if n < 1 or n > 1000:
            raise InvalidInput("the limit must be between 1 and 1000")
        index = self._ensure_index()
        text = query.strip()
        vector = self._get_embedder().embed([text])[0] if text else None
        hits = index.search(vector, text, IndexFilter(since=since, until=until, app=app), n)
        width = self.config.search.snippet_chars
        return [SearchHit(id=h.record.id, timestamp=h.record.timestamp, app=h.record.app,
                          title=h.record.title, source=h.record.source,
                          score=round(h.score, 4),
                          snippet=make_snippet(h.record.text, text, width),
                          origin=h.record.origin, url=h.record.url) for h in hits]

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
        buckets = sorted(set(keys.values()))
        return Stats(
            memories=sum(tiers.values()),
            tiers={TIER_NAMES[t]: tiers.get(t, 0) for t in TIER_NAMES},
            bytes_on_disk=dir_size(self.paths.data_dir),
            bytes_store=self._store.bytes_on_disk(),
            captured_total=counters.captured,
            skipped=dict(sorted(counters.skipped.items())),
            last_capture=counters.last_capture,
            data_keys=len(keys),
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
        if self._index is not None:
            self._index.clear()
        self._index_version = -1
        after = dir_size(self.paths.vault_dir)
        _log.info("forget all: %d memories, %d keys", count, destroyed)
        return ForgetReport(memories=count, data_keys=destroyed,
                            bytes_freed=max(0, before - after))
