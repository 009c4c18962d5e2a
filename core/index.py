"""The in-memory search index over decrypted memories (SECURITY.md R6).

It exists only while the vault is unlocked and is never written to disk.
Dense retrieval: cosine similarity between the query embedding and each memory's
fused vector (int8, IVF lists at scale). Keyword retrieval: BM25 over title + OCR
text + caption. Both (and CLIP image similarity when present) are fused by
reciprocal rank into one score in 0..1; see :mod:`core.retrieval.latent`.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from core.records import MemoryRecord
from core.retrieval.latent import (
    FLAG_CAPTIONED,
    FLAG_IMPORTED,
    FusionConfig,
    LatentFilter,
    LatentIndex,
    fuse_chunks,
)

_TOKEN = re.compile(r"\w+", re.UNICODE)
_T = TypeVar("_T")


# Function words carry no topic; matching them must not outrank meaning.
STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does for from had has have how i if in
into is it its me my no not of on or our so than that the their them then there these they
this to was we were what when where which who why will with would you your about after all
also any before did just more most other over some such up out very
""".split())


def tokenize(text: str) -> list[str]:
    norm = unicodedata.normalize("NFKC", text).casefold()
    return [t for t in _TOKEN.findall(norm) if len(t) > 1 or t.isdigit()]


def query_terms(text: str) -> list[str]:
    """Query tokens without stopwords (unless the query is nothing but stopwords)."""
    terms = tokenize(text)
    kept = [t for t in terms if t not in STOPWORDS]
    return kept or terms


@dataclass(frozen=True)
class IndexHit:
    record: MemoryRecord
    score: float
    dense: float
    keyword: float
    image: float = 0.0
    # Ids of near-identical neighbouring moments folded into this hit (shown once).
    duplicates: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexFilter:
    since: datetime | None = None
    until: datetime | None = None
    app: str | None = None
    monitor: int | None = None  # 1-based monitor index (mss numbering)

    def accepts(self, rec: MemoryRecord) -> bool:
        if self.since is not None and rec.timestamp < self.since:
            return False
        if self.until is not None and rec.timestamp >= self.until:
            return False
        if self.app is not None:
            wanted = self.app.casefold()
            if wanted not in rec.app.casefold():
                return False
        if self.monitor is not None and (rec.monitor is None or
                                         rec.monitor.index != self.monitor):
            return False
        return True

    def latent(self) -> LatentFilter:
        return LatentFilter(since=self.since, until=self.until, app=self.app,
                            monitor=self.monitor)


RecordLoader = Callable[[list[str]], list[MemoryRecord]]


def _locked(method: Callable[..., _T]) -> Callable[..., _T]:
    """Run ``method`` holding the index's lock: the GUI's workers search while another brings
    the index up to date, and a reader must never see half of an update."""
    @functools.wraps(method)
    def wrapper(self: MemoryIndex, *args: object, **kwargs: object) -> _T:
        with self._lock:
            return method(self, *args, **kwargs)
    return wrapper


class MemoryIndex:
    """Hybrid index held in RAM: decrypted records plus a :class:`LatentIndex`.

    Each memory is one fused text vector (normalised mean of its chunk vectors), an
    optional CLIP image vector, and BM25 terms; see :mod:`core.retrieval.latent`.
    """

    def __init__(self, dim: int, *, image_dim: int = 0,
                 fusion: FusionConfig | None = None,
                 loader: RecordLoader | None = None) -> None:
        self._dim = dim
        self._image_dim = image_dim
        self._fusion = fusion
        self._loader = loader
        self._lock = threading.RLock()
        self.latent = LatentIndex(dim, image_dim, fusion)
        # None = not decrypted yet (loaded on demand through ``loader``) or removed.
        self._records: list[MemoryRecord | None] = []
        self.mutations = 0  # changes since the last snapshot
        # Called before memories leave the index (the snapshot keeper discards its copy).
        self.on_remove: list[Callable[[], None]] = []

    @classmethod
    def from_latent(cls, latent: LatentIndex, loader: RecordLoader,
                    fusion: FusionConfig | None = None) -> MemoryIndex:
        """An index whose vectors come from a snapshot; records decrypt on demand."""
        idx = cls(latent.text_dim, image_dim=latent.image_dim, fusion=fusion, loader=loader)
        idx.latent = latent
        idx._records = [None] * len(latent.ids)
        return idx

    @property
    def dim(self) -> int:
        return self._dim

    def _materialise(self, positions: Sequence[int]) -> None:
        missing = [p for p in positions if self._records[p] is None and
                   self.latent.pos_of.get(self.latent.ids[p]) == p]
        if not missing or self._loader is None:
            return
        for rec in self._loader([self.latent.ids[p] for p in missing]):
            pos = self.latent.pos_of.get(rec.id)
            if pos is not None:
                self._records[pos] = rec

    def __len__(self) -> int:
        return len(self.latent.pos_of)

    def __contains__(self, memory_id: object) -> bool:
        return isinstance(memory_id, str) and memory_id in self.latent.pos_of

    @_locked
    def ids(self) -> set[str]:
        return set(self.latent.pos_of)

    @_locked
    def add(self, records: Sequence[MemoryRecord],
            vectors: Sequence[npt.NDArray[np.float32]],
            image_vectors: Sequence[npt.NDArray[np.float32] | None] | None = None) -> None:
        images = image_vectors if image_vectors is not None else [None] * len(records)
        for rec, vec, img in zip(records, vectors, images, strict=True):
            if rec.id in self.latent.pos_of:
                continue
            terms = tokenize(rec.searchable_text() + "\n" + rec.app)
            pos = self.latent.add(rec.id, rec.timestamp, rec.app,
                                  None if rec.monitor is None else rec.monitor.index,
                                  fuse_chunks(vec, self._dim), terms, img,
                                  flags=_flags_of(rec))
            while len(self._records) <= pos:
                self._records.append(None)
            self._records[pos] = rec
            self.mutations += 1

    @_locked
    def has_image(self, memory_id: str) -> bool:
        return self.image_vector(memory_id) is not None

    @_locked
    def image_vector(self, memory_id: str) -> npt.NDArray[np.float32] | None:
        pos = self.latent.pos_of.get(memory_id)
        return None if pos is None else self.latent.image_vector(pos)

    @_locked
    def replace(self, record: MemoryRecord, vectors: npt.NDArray[np.float32],
                image: npt.NDArray[np.float32] | None) -> None:
        """Swap in an updated version of a memory (caption, image vector)."""
        pos = self.latent.pos_of.get(record.id)
        if pos is None:
            return
        self.latent.remove([record.id])
        self._records[pos] = None
        self.add([record], [vectors], [image])

    @_locked
    def remove(self, ids: Sequence[str]) -> None:
        present = [i for i in ids if i in self.latent.pos_of]
        if present:
            for callback in self.on_remove:
                callback()
        for pos in self.latent.remove(present):
            self._records[pos] = None
            self.mutations += 1

    @_locked
    def clear(self) -> None:
        self.latent = LatentIndex(self._dim, self._image_dim, self._fusion)
        self._records = []
        self.mutations = 0

    @_locked
    def get(self, memory_id: str) -> MemoryRecord | None:
        pos = self.latent.pos_of.get(memory_id)
        if pos is None:
            return None
        self._materialise([pos])
        return self._records[pos]

    @_locked
    def records(self) -> list[MemoryRecord]:
        """Every record (decrypts all of them: prefer :meth:`records_between`)."""
        self._materialise(list(self.latent.pos_of.values()))
        return [r for p, r in enumerate(self._records)
                if r is not None and self.latent.pos_of.get(r.id) == p]

    def _records_at(self, positions: Sequence[int]) -> list[MemoryRecord]:
        self._materialise(positions)
        return [r for p in positions if (r := self._records[p]) is not None]

    @_locked
    def records_between(self, since: datetime | None = None, until: datetime | None = None,
                        app: str | None = None) -> list[MemoryRecord]:
        """Records in [since, until) (of apps containing ``app``), oldest first; only those
        are decrypted, not the whole history."""
        flt = LatentFilter(since=since, until=until, app=app)
        return self._records_at(self.latent.positions(flt).tolist())

    @_locked
    def local_days(self) -> list[date]:
        """The local dates that hold live memories, oldest first (from timestamps only)."""
        hours = self.latent.live_hours()
        return sorted({datetime.fromtimestamp(int(h) * 3600, UTC).astimezone().date()
                       for h in hours})

    @_locked
    def apps(self) -> list[str]:
        """App names seen (case-folded), from the index's metadata; nothing is decrypted."""
        return [a for a in self.latent.apps if a]

    @_locked
    def imported_records(self) -> list[MemoryRecord]:
        if not self.latent.flags_known:
            return [r for r in self.records() if r.origin == "import"]
        return self._records_at(self.latent.flagged(FLAG_IMPORTED, present=True).tolist())

    @_locked
    def pending_ids(self, *, want_images: bool) -> list[str]:
        """Memories lacking a caption (or an image vector), newest first."""
        if not self.latent.flags_known:
            out = [(r.timestamp, r.id) for r in self.records()
                   if r.caption is None or (want_images and not self.has_image(r.id))]
            return [mid for _, mid in sorted(out, reverse=True)]
        lat = self.latent
        uncaptioned = lat.flagged(FLAG_CAPTIONED, present=False)
        if want_images:
            everything = lat.positions(LatentFilter())
            lacking = everything[~lat.has_image_at(everything)]
            uncaptioned = lat.by_time(np.union1d(uncaptioned, lacking))
        return [lat.ids[int(p)] for p in uncaptioned[::-1]]

    @_locked
    def search(self, query_vector: npt.NDArray[np.float32] | None, query_text: str,
               flt: IndexFilter, limit: int, *,
               image_query: npt.NDArray[np.float32] | None = None, collapse: bool = True,
               fusion: FusionConfig | None = None) -> list[IndexHit]:
        hits = self.latent.search(query_vector, query_terms(query_text), flt.latent(), limit,
                                  image_query=image_query, collapse=collapse, fusion=fusion)
        self._materialise([h.position for h in hits])
        out = []
        for h in hits:
            rec = self._records[h.position]
            if rec is None:
                continue
            out.append(IndexHit(record=rec, score=h.score, dense=h.dense, keyword=h.keyword,
                                image=h.image, duplicates=h.duplicates))
        return out


def make_snippet(text: str, query: str, width: int) -> str:
    """A window of ``text`` around the first query term found, on one line."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    lowered = flat.casefold()
    best = -1
    for term in sorted(set(query_terms(query)), key=len, reverse=True):
        best = lowered.find(term)
        if best >= 0:
            break
    if best < 0:
        return flat[: width - 1].rstrip() + "…"
    start = max(0, best - width // 3)
    end = min(len(flat), start + width)
    start = max(0, end - width)
    out = flat[start:end].strip()
    if start > 0:
        out = "…" + out
    if end < len(flat):
        out = out + "…"
    return out


def _flags_of(rec: MemoryRecord) -> int:
    return (FLAG_CAPTIONED if rec.caption is not None else 0) | \
        (FLAG_IMPORTED if rec.origin == "import" else 0)
