"""The in-memory search index over decrypted memories (SECURITY.md R6).

It exists only while the vault is unlocked and is never written to disk.
Dense retrieval: cosine similarity between the query embedding and every chunk
vector of every memory (a memory scores its best chunk). Keyword retrieval:
BM25 over title + OCR text. The two are combined into one score in 0..1.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from core.records import MemoryRecord

_TOKEN = re.compile(r"\w+", re.UNICODE)
DENSE_WEIGHT = 0.7
KEYWORD_WEIGHT = 0.3
BM25_K1 = 1.2
BM25_B = 0.75


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


@dataclass(frozen=True)
class IndexFilter:
    since: datetime | None = None
    until: datetime | None = None
    app: str | None = None

    def accepts(self, rec: MemoryRecord) -> bool:
        if self.since is not None and rec.timestamp < self.since:
            return False
        if self.until is not None and rec.timestamp >= self.until:
            return False
        if self.app is not None:
            wanted = self.app.casefold()
            if wanted not in rec.app.casefold():
                return False
        return True


class MemoryIndex:
    """Dense + BM25 hybrid index held in RAM."""

    def __init__(self, dim: int) -> None:
        self._dim = dim
        self._records: list[MemoryRecord] = []
        self._ids: dict[str, int] = {}
        self._chunks = np.zeros((0, dim), dtype=np.float32)
        self._chunk_owner = np.zeros(0, dtype=np.int64)
        self._postings: dict[str, dict[int, int]] = defaultdict(dict)
        self._doc_len: list[int] = []
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return len(self._records) - len(self._removed)

    def __contains__(self, memory_id: object) -> bool:
        return isinstance(memory_id, str) and memory_id in self._ids and \
            self._ids[memory_id] not in self._removed

    def ids(self) -> set[str]:
        return {rid for rid, pos in self._ids.items() if pos not in self._removed}

    def add(self, records: Sequence[MemoryRecord],
            vectors: Sequence[npt.NDArray[np.float32]]) -> None:
        new_chunks: list[npt.NDArray[np.float32]] = []
        owners: list[npt.NDArray[np.int64]] = []
        for rec, vec in zip(records, vectors, strict=True):
            if rec.id in self._ids:
                continue
            pos = len(self._records)
            self._records.append(rec)
            self._ids[rec.id] = pos
            arr = np.asarray(vec, dtype=np.float32).reshape(-1, self._dim)
            new_chunks.append(arr)
            owners.append(np.full(arr.shape[0], pos, dtype=np.int64))
            terms = tokenize(rec.searchable_text() + "\n" + rec.app)
            self._doc_len.append(len(terms))
            for term, tf in Counter(terms).items():
                self._postings[term][pos] = tf
        if new_chunks:
            self._chunks = np.concatenate([self._chunks, *new_chunks], axis=0)
            self._chunk_owner = np.concatenate([self._chunk_owner, *owners])

    def remove(self, ids: Sequence[str]) -> None:
        for rid in ids:
            pos = self._ids.get(rid)
            if pos is not None:
                self._removed.add(pos)

    def clear(self) -> None:
        self.__init__(self._dim)  # type: ignore[misc]

    def get(self, memory_id: str) -> MemoryRecord | None:
        pos = self._ids.get(memory_id)
        if pos is None or pos in self._removed:
            return None
        return self._records[pos]

    def records(self) -> list[MemoryRecord]:
        return [r for i, r in enumerate(self._records) if i not in self._removed]

    def _bm25(self, terms: list[str]) -> tuple[dict[int, float], float]:
        """BM25 scores, and the most any document could score for these terms."""
        n_docs = len(self._records)
        if n_docs == 0 or not terms:
            return {}, 0.0
        avg_len = (sum(self._doc_len) / n_docs) or 1.0
        scores: dict[int, float] = defaultdict(float)
        ceiling = 0.0
        for term in set(terms):
            postings = self._postings.get(term)
            df = len(postings) if postings else 0
            idf = math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
            ceiling += idf * (BM25_K1 + 1)
            for pos, tf in (postings or {}).items():
                norm = tf + BM25_K1 * (1 - BM25_B + BM25_B * self._doc_len[pos] / avg_len)
                scores[pos] += idf * tf * (BM25_K1 + 1) / norm
        return scores, ceiling

    def search(self, query_vector: npt.NDArray[np.float32] | None, query_text: str,
               flt: IndexFilter, limit: int) -> list[IndexHit]:
        n = len(self._records)
        if n == 0 or limit <= 0:
            return []
        dense = np.full(n, -1.0, dtype=np.float32)
        if query_vector is not None and self._chunks.shape[0]:
            sims = self._chunks @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
            np.maximum.at(dense, self._chunk_owner, sims)
        bm25, ceiling = self._bm25(query_terms(query_text))
        hits: list[IndexHit] = []
        for pos in range(n):
            if pos in self._removed:
                continue
            rec = self._records[pos]
            if not flt.accepts(rec):
                continue
            d = max(float(dense[pos]), 0.0)
            k = min(1.0, bm25.get(pos, 0.0) / ceiling) if ceiling > 0 else 0.0
            score = DENSE_WEIGHT * d + KEYWORD_WEIGHT * k if query_vector is not None else k
            hits.append(IndexHit(record=rec, score=score, dense=d, keyword=k))
        hits.sort(key=lambda h: (h.score, h.record.timestamp), reverse=True)
        return hits[:limit]


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
