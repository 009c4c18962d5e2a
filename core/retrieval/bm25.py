"""A compact BM25 inverted index in numpy arrays (no per-posting Python objects).

Postings live in CSR form: ``offsets[t]:offsets[t+1]`` slices ``docs`` (int32 document
positions) and ``tfs`` (uint8 term frequency, clipped at 255) for term id ``t``.
New documents go to a small pending buffer that queries scan too, so they are
searchable at once; the buffer is merged into the CSR arrays when it grows.
Positions are stored as uint16 gaps (int32 only for terms with a gap >= 65536), so a
posting costs ~3 bytes: ~105 MB at 1,000,000 memories with ~35 distinct terms each,
against several GB for the dict-of-dicts it replaces.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

K1 = 1.2
B = 0.75

F32 = npt.NDArray[np.float32]


class CompactBm25:
    def __init__(self, *, merge_at: int = 5_000) -> None:
        self.merge_at = merge_at
        self.vocab: dict[str, int] = {}
        # Merged postings, per term t: offsets[t]:offsets[t+1] slices ``tfs`` and ``gaps``.
        # A term's doc positions are first[t] + cumsum(gaps) (gaps[0] == 0): uint16 gaps
        # halve the memory of int32 positions. Terms with a gap >= 65536 keep absolute
        # int32 positions in ``wide`` (same offsets) and first[t] == -1.
        self._offsets = np.zeros(1, dtype=np.int64)
        self._gaps = np.zeros(0, dtype=np.uint16)
        self._first = np.zeros(0, dtype=np.int32)
        self._wide_offsets = np.zeros(1, dtype=np.int64)
        self._wide = np.zeros(0, dtype=np.int32)
        self._tfs = np.zeros(0, dtype=np.uint8)
        self._df = np.zeros(0, dtype=np.int32)  # per term, including pending
        self._doc_len = np.zeros(0, dtype=np.int32)
        self._n = 0
        self._len_sum = 0
        self._pending: dict[int, list[tuple[int, int]]] = {}  # term id -> [(doc, tf)]
        self._pending_docs = 0

    def __len__(self) -> int:
        return self._n

    def nbytes(self) -> int:
        vocab = sum(len(t) + 60 for t in self.vocab)  # rough CPython dict + str cost
        return int(self._offsets.nbytes + self._gaps.nbytes + self._first.nbytes +
                   self._wide_offsets.nbytes + self._wide.nbytes + self._tfs.nbytes +
                   self._df.nbytes + self._doc_len.nbytes) + vocab

    def _term_ids(self, terms: Iterable[str], *, create: bool) -> list[int]:
        out = []
        for t in terms:
            tid = self.vocab.get(t)
            if tid is None and create:
                tid = len(self.vocab)
                self.vocab[t] = tid
            if tid is not None:
                out.append(tid)
        return out

    def add(self, terms: Sequence[str]) -> int:
        """Index one document (its tokens); returns its position."""
        counts = Counter(terms)
        ids = self._term_ids(counts.keys(), create=True)
        tids = np.array(ids, dtype=np.int32)
        tfs = np.minimum(np.array(list(counts.values()), dtype=np.int64), 255).astype(np.uint8)
        return self.add_encoded(tids, tfs, len(terms))

    def add_encoded(self, term_ids: npt.NDArray[np.int32], tfs: npt.NDArray[np.uint8],
                    length: int) -> int:
        pos = self._n
        if self._doc_len.shape[0] <= pos:
            grown = np.zeros(max(1024, int(pos * 1.25) + 1), dtype=np.int32)
            grown[:pos] = self._doc_len[:pos]
            self._doc_len = grown
        self._doc_len[pos] = length
        self._len_sum += length
        self._n += 1
        if term_ids.size:
            top = int(term_ids.max()) + 1
            if top > self._df.shape[0]:
                self._df = np.concatenate([self._df, np.zeros(max(top - self._df.shape[0],
                                                                  1024), np.int32)])
            self._df[term_ids] += 1
        for tid, tf in zip(term_ids.tolist(), tfs.tolist(), strict=True):
            self._pending.setdefault(tid, []).append((pos, tf))
        self._pending_docs += 1
        if self._pending_docs >= self.merge_at:
            self.merge()
        return pos

    def bulk_load(self, offsets: npt.NDArray[np.int64], docs: npt.NDArray[np.int32],
                  tfs: npt.NDArray[np.uint8], doc_len: npt.NDArray[np.int32],
                  vocab: dict[str, int]) -> None:
        """Replace the contents with prebuilt CSR arrays (snapshots, benchmarks)."""
        self.vocab = vocab
        self._encode(offsets, docs, tfs)
        self._doc_len = np.array(doc_len, dtype=np.int32)
        self._n = int(doc_len.shape[0])
        self._len_sum = int(self._doc_len.sum())
        self._df = np.diff(offsets).astype(np.int32)
        self._pending = {}
        self._pending_docs = 0

    def merge(self) -> None:
        if not self._pending_docs:
            return
        n_terms = max(len(self.vocab), self._offsets.shape[0] - 1)
        flat = [(tid, d, f) for tid, post in self._pending.items() for d, f in post]
        p_terms = np.array([x[0] for x in flat], dtype=np.int32)
        p_docs = np.array([x[1] for x in flat], dtype=np.int32)
        p_tfs = np.array([x[2] for x in flat], dtype=np.uint8)
        old_terms = np.repeat(np.arange(self._offsets.shape[0] - 1, dtype=np.int32),
                              np.diff(self._offsets))
        terms = np.concatenate([old_terms, p_terms])
        docs = np.concatenate([self._decode_all(), p_docs])
        tfs = np.concatenate([self._tfs, p_tfs])
        order = np.argsort(terms, kind="stable")  # keeps doc order within a term
        counts = np.bincount(terms, minlength=n_terms)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._encode(offsets, docs[order], tfs[order])
        self._pending = {}
        self._pending_docs = 0

    def _encode(self, offsets: npt.NDArray[np.int64], docs: npt.NDArray[np.int32],
                tfs: npt.NDArray[np.uint8]) -> None:
        """CSR positions (ascending within each term) -> gap-coded storage."""
        n_terms = offsets.shape[0] - 1
        docs = np.asarray(docs, dtype=np.int64)
        gaps = np.diff(docs, prepend=0)
        starts = offsets[:-1][np.diff(offsets) > 0]
        gaps[starts] = 0
        term_of = np.repeat(np.arange(n_terms), np.diff(offsets))
        big = np.zeros(n_terms, dtype=np.bool_)
        if gaps.size:
            big[np.unique(term_of[gaps >= 65536])] = True
        first = np.full(n_terms, -1, dtype=np.int32)
        has = (np.diff(offsets) > 0) & ~big
        first[has] = docs[offsets[:-1][has]]
        narrow_mask = ~big[term_of] if gaps.size else np.zeros(0, np.bool_)
        self._gaps = np.where(narrow_mask, gaps, 0).astype(np.uint16)
        wide_counts = np.where(big, np.diff(offsets), 0)
        self._wide_offsets = np.concatenate([[0], np.cumsum(wide_counts)]).astype(np.int64)
        self._wide = docs[~narrow_mask].astype(np.int32) if gaps.size else \
            np.zeros(0, np.int32)
        self._first = first
        self._offsets = np.asarray(offsets, dtype=np.int64)
        self._tfs = np.asarray(tfs, dtype=np.uint8)

    def _term_docs(self, tid: int) -> npt.NDArray[np.int32]:
        s, e = int(self._offsets[tid]), int(self._offsets[tid + 1])
        first = int(self._first[tid])
        if first >= 0:
            out: npt.NDArray[np.int32] = (first + np.cumsum(self._gaps[s:e], dtype=np.int64)
                                          ).astype(np.int32)
            return out
        ws, we = int(self._wide_offsets[tid]), int(self._wide_offsets[tid + 1])
        return self._wide[ws:we]

    def _decode_all(self) -> npt.NDArray[np.int32]:
        n_terms = self._offsets.shape[0] - 1
        if n_terms <= 0:
            return np.zeros(0, np.int32)
        parts = [self._term_docs(t) for t in range(n_terms) if self._offsets[t + 1] >
                 self._offsets[t]]
        return np.concatenate(parts) if parts else np.zeros(0, np.int32)

    def search(self, terms: Sequence[str], *, live: npt.NDArray[np.bool_] | None = None
               ) -> tuple[F32, float]:
        """BM25 score of every document position (0 where no term matches), and the
        highest score any document could reach (for a 0..1 normalisation)."""
        n = self._n
        scores = np.zeros(n, dtype=np.float32)
        if n == 0 or not terms:
            return scores, 0.0
        avg = (self._len_sum / n) or 1.0
        ceiling = 0.0
        uniq = list(dict.fromkeys(terms))
        norm_len = None
        for tid_list in (self._term_ids([t], create=False) for t in uniq):
            df = int(self._df[tid_list[0]]) if tid_list and tid_list[0] < self._df.shape[0] \
                else 0
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            ceiling += idf * (K1 + 1)
            if not tid_list or df == 0:
                continue
            tid = tid_list[0]
            if norm_len is None:
                norm_len = (K1 * (1 - B + B * self._doc_len[:n] / avg)).astype(np.float32)
            parts_d, parts_f = [], []
            if tid + 1 < self._offsets.shape[0]:
                s, e = int(self._offsets[tid]), int(self._offsets[tid + 1])
                if e > s:
                    parts_d.append(self._term_docs(tid))
                    parts_f.append(self._tfs[s:e])
            post = self._pending.get(tid)
            if post:
                parts_d.append(np.array([d for d, _ in post], np.int32))
                parts_f.append(np.array([f for _, f in post], np.uint8))
            if not parts_d:
                continue
            docs = np.concatenate(parts_d)
            tf = np.concatenate(parts_f).astype(np.float32)
            scores[docs] += idf * tf * (K1 + 1) / (tf + norm_len[docs])
        if live is not None:
            scores[~live[:n]] = 0.0
        return scores, ceiling

    def state(self) -> dict[str, np.ndarray]:
        self.merge()
        terms = "\x00".join(sorted(self.vocab, key=self.vocab.__getitem__))
        return {"offsets": self._offsets, "gaps": self._gaps, "first": self._first,
                "wide_offsets": self._wide_offsets, "wide": self._wide, "tfs": self._tfs,
                "doc_len": self._doc_len[:self._n],
                "vocab": np.frombuffer(terms.encode("utf-8"), dtype=np.uint8)}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> CompactBm25:
        idx = cls()
        text = bytes(state["vocab"]).decode("utf-8")
        vocab = {t: i for i, t in enumerate(text.split("\x00"))} if text else {}
        idx._offsets, idx._gaps, idx._first = state["offsets"], state["gaps"], state["first"]
        idx._wide_offsets, idx._wide, idx._tfs = (state["wide_offsets"], state["wide"],
                                                  state["tfs"])
        idx.vocab = vocab
        idx._doc_len = np.array(state["doc_len"], dtype=np.int32)
        idx._n = int(idx._doc_len.shape[0])
        idx._len_sum = int(idx._doc_len.sum())
        idx._df = np.diff(idx._offsets).astype(np.int32)
        return idx
