"""Approximate nearest-neighbour search over int8 vectors with an IVF coarse quantiser.

Design (chosen for 1,000,000 memories on a 2-core laptop, <= 600 MB, numpy only):

* every vector (L2-normalised float32) is stored as **int8 codes with a per-vector
  scale** (``v ~= scale * codes``): 384 + 4 bytes per 384-d vector (4x smaller than
  float32, recall@10 against exact float search stays ~0.99);
* once ``train_at`` vectors exist, k-means (on a sample) trains ``nlist`` centroids
  and each vector is assigned to its nearest one (an inverted file, IVF). A query
  scores the ``nprobe`` nearest lists only;
* new vectors go to an unindexed **tail** that every query scans exactly, so a new
  memory is searchable as soon as it is added; the tail is merged into the inverted
  lists when it grows past ``merge_at`` (cheap: an argsort of list ids);
* removal flips a live bit; filtered queries whose candidate set is small
  (``exact_below``) are answered exactly over that set instead of through the lists.

The whole state is a handful of numpy arrays (:meth:`state` / :meth:`from_state`), which
:mod:`core.retrieval.snapshot` seals as one encrypted file.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
_BLOCK = 4096  # rows widened to float32 at a time when scoring (6 MB at 384-d)
_scratch = threading.local()
I64 = npt.NDArray[np.int64]
BoolArr = npt.NDArray[np.bool_]


def quantize(vectors: F32) -> tuple[npt.NDArray[np.int8], F32]:
    """float32 rows -> (int8 codes, float32 per-row scale)."""
    arr = np.asarray(vectors, dtype=np.float32)
    peak = np.abs(arr).max(axis=1) if arr.size else np.zeros(arr.shape[0], np.float32)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    codes = np.clip(np.rint(arr / scale[:, None]), -127, 127).astype(np.int8)
    return codes, scale


def kmeans(sample: F32, k: int, *, iters: int = 12, seed: int = 0) -> F32:
    """Spherical k-means (cosine) on ``sample``; returns k unit centroids."""
    rng = np.random.default_rng(seed)
    n = sample.shape[0]
    k = min(k, n)
    cent = sample[rng.choice(n, size=k, replace=False)].copy()
    for _ in range(iters):
        assign = np.empty(n, dtype=np.int64)
        for start in range(0, n, 8192):
            assign[start:start + 8192] = np.argmax(sample[start:start + 8192] @ cent.T, axis=1)
        sums = np.zeros_like(cent)
        np.add.at(sums, assign, sample)
        counts = np.bincount(assign, minlength=k)
        empty = counts == 0
        if empty.any():  # re-seed empty lists with random points
            sums[empty] = sample[rng.choice(n, size=int(empty.sum()), replace=False)]
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        cent = (sums / np.maximum(norms, 1e-12)).astype(np.float32)
    return cent


class IvfInt8Index:
    """int8 vectors + IVF lists + exact tail. Positions are dense ints 0..n-1."""

    def __init__(self, dim: int, *, nlist: int = 0, nprobe: int = 0, train_at: int = 20_000,
                 merge_at: int = 20_000, exact_below: int = 40_000) -> None:
        self.dim = dim
        self.nlist_wanted = nlist  # 0 = choose from the size at training time
        self.nprobe_wanted = nprobe
        self.train_at = train_at
        self.merge_at = merge_at
        self.exact_below = exact_below
        self._codes = np.zeros((0, dim), dtype=np.int8)
        self._scale = np.zeros(0, dtype=np.float32)
        self._n = 0
        self.live = np.zeros(0, dtype=np.bool_)
        self.centroids: F32 | None = None
        self._list_of = np.zeros(0, dtype=np.int32)  # per position (valid below _indexed)
        self._order = np.zeros(0, dtype=np.int32)  # positions sorted by list
        self._offsets = np.zeros(1, dtype=np.int64)
        self._indexed = 0  # positions [0, _indexed) are in the lists; the rest is the tail
        self._trained_n = 0  # size when the lists were last trained

    # -- size -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    @property
    def nlist(self) -> int:
        return 0 if self.centroids is None else int(self.centroids.shape[0])

    @property
    def nprobe(self) -> int:
        if self.nprobe_wanted > 0:
            return min(self.nprobe_wanted, self.nlist)
        return min(self.nlist, max(8, self.nlist // 32))

    def nbytes(self) -> int:
        arrays = (self._codes[:self._n], self._scale[:self._n], self.live[:self._n],
                  self._list_of, self._order, self._offsets)
        total = sum(int(a.nbytes) for a in arrays)
        return total + (0 if self.centroids is None else int(self.centroids.nbytes))

    # -- writing ----------------------------------------------------------------------------
    def _reserve(self, extra: int) -> None:
        need = self._n + extra
        if need <= self._codes.shape[0]:
            return
        # Headroom of 25%, at most 32k rows (12 MB at 384-d): at a million memories a 25%
        # step would keep ~100 MB of empty rows for days.
        cap = need + max(1024, min(self._codes.shape[0] // 4, 32_768))
        codes = np.zeros((cap, self.dim), dtype=np.int8)
        codes[:self._n] = self._codes[:self._n]
        scale = np.zeros(cap, dtype=np.float32)
        scale[:self._n] = self._scale[:self._n]
        live = np.zeros(cap, dtype=np.bool_)
        live[:self._n] = self.live[:self._n]
        self._codes, self._scale, self.live = codes, scale, live

    def add(self, vectors: F32) -> I64:
        """Append L2-normalised vectors; returns their positions."""
        arr = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        m = arr.shape[0]
        self._reserve(m)
        codes, scale = quantize(arr)
        start = self._n
        self._codes[start:start + m] = codes
        self._scale[start:start + m] = scale
        self.live[start:start + m] = True
        self._n += m
        self.maintain()
        return np.arange(start, start + m, dtype=np.int64)

    def remove(self, positions: I64) -> None:
        self.live[np.asarray(positions, dtype=np.int64)] = False

    def maintain(self) -> None:
        """Train the lists when big enough; merge a long tail into them."""
        if self.centroids is None:
            if self._n >= self.train_at:
                self.train()
            return
        if self.nlist_wanted == 0 and self._n >= 8 * self._trained_n:
            self.train()  # grew 8x: more lists keep each probe cheap
        elif self._n - self._indexed >= self.merge_at:
            self._merge_tail()

    def _decoded(self, positions: I64 | slice) -> F32:
        codes = self._codes[positions].astype(np.float32)
        out: F32 = codes * self._scale[positions][:, None]
        return out

    def train(self, *, sample_size: int = 60_000, seed: int = 0) -> None:
        n = self._n
        nlist = self.nlist_wanted or int(np.clip(2 ** round(np.log2(max(n, 1) ** 0.5)), 64,
                                                 2048))
        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(n, size=min(n, sample_size, nlist * 32), replace=False))
        sample = self._decoded(pick)
        sample /= np.maximum(np.linalg.norm(sample, axis=1, keepdims=True), 1e-12)
        self.centroids = kmeans(sample, nlist, iters=10, seed=seed)
        self._trained_n = n
        self._list_of = np.zeros(0, dtype=np.int32)
        self._indexed = 0
        self._merge_tail()

    def _assign(self, start: int, stop: int) -> npt.NDArray[np.int32]:
        assert self.centroids is not None
        out = np.empty(stop - start, dtype=np.int32)
        for s in range(start, stop, 16384):
            e = min(stop, s + 16384)
            out[s - start:e - start] = np.argmax(self._decoded(slice(s, e)) @ self.centroids.T,
                                                 axis=1)
        return out

    def _merge_tail(self) -> None:
        new = self._assign(self._indexed, self._n)
        self._list_of = np.concatenate([self._list_of[:self._indexed], new])
        self._order = np.argsort(self._list_of, kind="stable").astype(np.int32)
        counts = np.bincount(self._list_of, minlength=self.nlist)
        self._offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._indexed = self._n

    # -- reading ----------------------------------------------------------------------------
    def _score(self, query: F32, positions: I64) -> F32:
        """Cosines of ``query`` with the vectors at ``positions``.

        Blocks of rows are gathered and widened into a small reused float32 buffer that
        stays in the CPU cache, instead of widening every candidate at once (at 1M
        memories a query's ~40k candidates would be a 60 MB temporary): ~3x faster.
        """
        m = positions.size
        sims: F32 = np.empty(m, dtype=np.float32)
        if m == 0:
            return sims
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        buf = self._buffer()
        for start in range(0, m, _BLOCK):
            stop = min(m, start + _BLOCK)
            block = buf[:stop - start]
            np.copyto(block, self._codes[positions[start:stop]], casting="unsafe")
            np.matmul(block, q, out=sims[start:stop])
        sims *= self._scale[positions]
        return sims

    def _buffer(self) -> F32:
        buffers: dict[int, F32] = _scratch.__dict__.setdefault("by_dim", {})
        buf = buffers.get(self.dim)
        if buf is None:  # one per thread and width: concurrent searches never share it
            buf = buffers[self.dim] = np.empty((_BLOCK, self.dim), dtype=np.float32)
        return buf

    def candidates(self, query: F32, nprobe: int | None = None) -> I64:
        """Positions the lists propose for ``query`` (plus the exact tail)."""
        tail = np.arange(self._indexed, self._n, dtype=np.int64)
        if self.centroids is None:
            return tail
        probe = min(self.nlist, nprobe or self.nprobe)
        near = np.argpartition(-(self.centroids @ query), probe - 1)[:probe]
        parts: list[np.ndarray] = [self._order[self._offsets[c]:self._offsets[c + 1]]
                                   for c in near]
        parts.append(tail)
        return np.concatenate(parts).astype(np.int64)

    def search(self, query: F32, k: int, *, mask: BoolArr | None = None,
               nprobe: int | None = None) -> tuple[I64, F32]:
        """Top-``k`` positions by cosine (approximate), best first, live and in ``mask``."""
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if self._n == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        allowed = self.live[:self._n] if mask is None else (self.live[:self._n] & mask[:self._n])
        selected = int(np.count_nonzero(mask[:self._n])) if mask is not None else self._n
        if self.centroids is None or selected <= self.exact_below:
            pos = np.flatnonzero(allowed).astype(np.int64)
        else:
            pos = self.candidates(q, nprobe)
            pos = pos[allowed[pos]]
            if pos.size < k and selected > pos.size:  # a selective filter starved the lists
                pos = np.flatnonzero(allowed).astype(np.int64)
        return top_k(pos, self._score(q, pos), k)

    def exact(self, query: F32, k: int) -> tuple[I64, F32]:
        """Exact top-k over the int8 codes (for tests and recall measurement)."""
        pos = np.flatnonzero(self.live[:self._n]).astype(np.int64)
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        return top_k(pos, self._score(q, pos), k)

    def vector(self, position: int) -> F32:
        out: F32 = self._decoded(np.array([position], dtype=np.int64))[0]
        return out

    # -- persistence ------------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        if self.centroids is not None and self._indexed < self._n:
            self._merge_tail()
        out: dict[str, np.ndarray] = {
            "codes": self._codes[:self._n], "scale": self._scale[:self._n],
            "live": self.live[:self._n],
            "params": np.array([self.dim, self.nlist_wanted, self.nprobe_wanted, self.train_at,
                                self.merge_at, self.exact_below, self._indexed,
                                self._trained_n], np.int64),
        }
        if self.centroids is not None:
            out.update(centroids=self.centroids, list_of=self._list_of, order=self._order,
                       offsets=self._offsets)
        return out

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> IvfInt8Index:
        p = [int(x) for x in state["params"]]
        idx = cls(p[0], nlist=p[1], nprobe=p[2], train_at=p[3], merge_at=p[4], exact_below=p[5])
        idx._codes = state["codes"]
        idx._scale = state["scale"]
        idx.live = np.array(state["live"], dtype=np.bool_)  # writable copy (small)
        idx._n = int(idx._codes.shape[0])
        if "centroids" in state:
            idx.centroids = state["centroids"]
            idx._list_of = state["list_of"]
            idx._order = state["order"]
            idx._offsets = state["offsets"]
            idx._indexed = p[6]
            idx._trained_n = p[7]
        return idx


def top_k(positions: I64, scores: F32, k: int) -> tuple[I64, F32]:
    if positions.size == 0:
        return positions, scores
    if positions.size > k:
        part = np.argpartition(-scores, k - 1)[:k]
        positions, scores = positions[part], scores[part]
    order = np.argsort(-scores, kind="stable")
    return positions[order], scores[order]
