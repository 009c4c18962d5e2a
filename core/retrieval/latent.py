"""The latent-memory index: one fused vector per memory, hybrid search, filters.

Channels (each answers top-K under the same filter mask):

* ``dense``: the memory's fused text vector (normalised mean of its chunk vectors,
  MiniLM space) in an :class:`~core.retrieval.ann.IvfInt8Index`;
* ``image``: the memory's CLIP image vector (optional, CLIP space) in a second
  IVF index, queried with the CLIP *text* embedding of the query;
* ``keyword``: BM25 over title + OCR text + caption (:class:`CompactBm25`).

CLIP and MiniLM vectors live in different spaces, so they are never added into
one vector; each channel scores in its own space and the scores are fused at query
time: by default a weighted sum of the cosines and the max-normalised BM25 score
(0.4 / 0.6, plus 0.5 x image cosine when an image query is given, divided by the
weight total), or reciprocal rank fusion (``method="rrf"``). bench/eval_retrieval.py
compares them (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from core.retrieval.ann import IvfInt8Index, top_k
from core.retrieval.bm25 import CompactBm25
from core.retrieval.idmap import IdList, PosMap

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class FusionConfig:
    """How the channels are fused. The default was chosen on bench/eval_retrieval.py
    (docs/benchmarks.md): 0.4 x cosine + 0.6 x max-normalised BM25 was the only variant
    at or above both dense-only and BM25-only on MRR/nDCG at session and step level and on
    every LoCoMo category; reciprocal rank fusion lost to dense-only."""

    method: str = "weighted"  # "weighted" | "rrf"
    # weighted: score = (wd * cosine + wk * bm25 / best + wi * image cosine) / sum(w)
    weighted_dense: float = 0.4
    weighted_keyword: float = 0.6
    image_weight: float = 0.5  # both methods; only when an image query is given
    # rrf: score = sum_c w_c / (k + rank_c), divided by its best reachable value
    rrf_k: float = 60.0
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    depth: int = 100  # candidates per channel
    # near-duplicate collapsing
    collapse_cosine: float = 0.95
    collapse_seconds: float = 600.0


@dataclass(frozen=True)
class LatentFilter:
    since: datetime | None = None
    until: datetime | None = None
    app: str | None = None
    monitor: int | None = None

    @property
    def empty(self) -> bool:
        return self.since is None and self.until is None and self.app is None and \
            self.monitor is None


@dataclass(frozen=True)
class LatentHit:
    position: int
    id: str
    score: float
    dense: float
    keyword: float
    image: float
    duplicates: tuple[str, ...] = field(default_factory=tuple)


FLAG_CAPTIONED = 1  # the memory has a caption (possibly the empty "nothing to caption")
FLAG_IMPORTED = 2  # the memory came from `import`, not from capture


def fuse_chunks(vectors: npt.ArrayLike, dim: int) -> F32:
    """One vector per memory: the L2-normalised mean of its chunk vectors."""
    arr = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    if arr.shape[0] == 0:
        return np.zeros(dim, dtype=np.float32)
    mean = arr.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    out: F32 = (mean / norm).astype(np.float32) if norm > 0 else mean.astype(np.float32)
    return out


class LatentIndex:
    """Positions are dense ints in insertion order; ``ids[pos]`` is the memory id."""

    def __init__(self, text_dim: int, image_dim: int = 0,
                 fusion: FusionConfig | None = None, **ann_options: int) -> None:
        self.text_dim = text_dim
        self.image_dim = image_dim
        self.fusion = fusion or FusionConfig()
        self.text = IvfInt8Index(text_dim, **ann_options)
        self.image = IvfInt8Index(image_dim, **ann_options) if image_dim else None
        self.bm25 = CompactBm25()
        self.ids = IdList()
        self.pos_of = PosMap(self.ids)
        self._ts = np.zeros(0, dtype=np.float64)
        self._app = np.zeros(0, dtype=np.int32)
        self._mon = np.zeros(0, dtype=np.int16)
        self.apps: list[str] = []
        self._app_id: dict[str, int] = {}
        self._img_of = np.zeros(0, dtype=np.int32)  # memory pos -> image pos or -1
        self._mem_of_img = np.zeros(0, dtype=np.int64)  # image pos -> memory pos
        # Per memory: FLAG_CAPTIONED / FLAG_IMPORTED, so "which memories still need a
        # caption" or "which were imported" is answered without decrypting a million rows.
        self._flags = np.zeros(0, dtype=np.uint8)
        self.flags_known = True  # False for a snapshot written before flags existed

    def __len__(self) -> int:
        return int(np.count_nonzero(self.text.live[:len(self.ids)]))

    def nbytes(self) -> int:
        meta = self._ts.nbytes + self._app.nbytes + self._mon.nbytes + self._img_of.nbytes + \
            self._flags.nbytes + \
            self._mem_of_img.nbytes + self.ids.nbytes() + len(self.ids) * 13  # + PosMap
        img = self.image.nbytes() if self.image is not None else 0
        return int(self.text.nbytes() + img + self.bm25.nbytes() + meta)

    # -- writing ----------------------------------------------------------------------------
    def _grow(self, arr: np.ndarray, extra: int, fill: float | int = 0) -> np.ndarray:
        n = len(self.ids)
        if arr.shape[0] >= n + extra:
            return arr
        out = np.full(max(n + extra, int(arr.shape[0] * 1.25) + 1024), fill, dtype=arr.dtype)
        out[:n] = arr[:n]
        return out

    def add(self, memory_id: str, timestamp: datetime, app: str, monitor: int | None,
            text_vector: F32, terms: Sequence[str], image_vector: F32 | None = None,
            flags: int = 0) -> int:
        known = self.pos_of.get(memory_id)
        if known is not None:
            return known
        self._flags = self._grow(self._flags, 1)
        self._flags[len(self.ids)] = flags
        self._ts = self._grow(self._ts, 1)
        self._app = self._grow(self._app, 1)
        self._mon = self._grow(self._mon, 1, -1)
        if self.image is not None:  # no image channel: no per-memory image slot (4 B each)
            self._img_of = self._grow(self._img_of, 1, -1)
        pos = len(self.ids)
        self._ts[pos] = timestamp.timestamp()
        aid = self._app_id.get(app.casefold())
        if aid is None:
            aid = len(self.apps)
            self.apps.append(app.casefold())
            self._app_id[app.casefold()] = aid
        self._app[pos] = aid
        self._mon[pos] = -1 if monitor is None else monitor
        if self.image is not None:
            self._img_of[pos] = -1
        self.text.add(np.asarray(text_vector, dtype=np.float32).reshape(1, -1))
        self.bm25.add(terms)
        if image_vector is not None and self.image is not None:
            ipos = int(self.image.add(np.asarray(image_vector, np.float32).reshape(1, -1))[0])
            self._img_of[pos] = ipos
            if ipos >= self._mem_of_img.shape[0]:  # grow by 25%, not by one (O(n) each)
                grown = np.zeros(max(ipos + 1, int(ipos * 1.25) + 1024), np.int64)
                grown[:ipos] = self._mem_of_img[:ipos]
                self._mem_of_img = grown
            self._mem_of_img[ipos] = pos
        self.ids.append(memory_id)
        self.pos_of[memory_id] = pos
        return pos

    def remove(self, ids: Sequence[str]) -> list[int]:
        gone = [self.pos_of.pop(i) for i in dict.fromkeys(ids) if i in self.pos_of]
        if gone:
            arr = np.array(gone, dtype=np.int64)
            self.text.remove(arr)
            if self.image is not None:
                img = self._img_of[arr].astype(np.int64)
                img = img[img >= 0]
                if img.size:
                    self.image.remove(img)
        return gone

    def image_vector(self, pos: int) -> F32 | None:
        if self.image is None or pos >= len(self.ids) or self._img_of[pos] < 0:
            return None
        if not self.image.live[int(self._img_of[pos])]:
            return None
        return self.image.vector(int(self._img_of[pos]))

    def timestamp(self, pos: int) -> float:
        return float(self._ts[pos])

    def positions(self, flt: LatentFilter) -> npt.NDArray[np.int64]:
        """Live positions matching ``flt``, oldest first."""
        n = len(self.ids)
        live = self.text.live[:n]
        mask = self.mask(flt)
        return self.by_time(np.flatnonzero(live if mask is None else live & mask)
                            .astype(np.int64))

    def live_hours(self) -> npt.NDArray[np.int64]:
        """Distinct UTC hours (epoch hours) that hold live memories."""
        n = len(self.ids)
        ts = self._ts[:n][self.text.live[:n]]
        return np.unique((ts // 3600).astype(np.int64))

    def by_time(self, positions: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """``positions`` sorted oldest first."""
        out: npt.NDArray[np.int64] = positions[np.argsort(self._ts[positions], kind="stable")]
        return out

    def flagged(self, flag: int, *, present: bool) -> npt.NDArray[np.int64]:
        """Live positions whose ``flag`` is set (``present``) or not, oldest first."""
        n = len(self.ids)
        has = (self._flags[:n] & flag) != 0
        return self.by_time(np.flatnonzero(self.text.live[:n] & (has if present else ~has))
                            .astype(np.int64))

    def has_image_at(self, positions: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        if self.image is None or positions.size == 0:
            return np.zeros(positions.size, np.bool_)
        img = self._img_of[positions]
        out = img >= 0
        out[out] = self.image.live[img[out]]
        return out

    # -- reading ----------------------------------------------------------------------------
    def mask(self, flt: LatentFilter) -> npt.NDArray[np.bool_] | None:
        if flt.empty:
            return None
        n = len(self.ids)
        m = np.ones(n, dtype=np.bool_)
        if flt.since is not None:
            m &= self._ts[:n] >= flt.since.timestamp()
        if flt.until is not None:
            m &= self._ts[:n] < flt.until.timestamp()
        if flt.app is not None:
            wanted = flt.app.casefold()
            ok = np.array([wanted in a for a in self.apps] or [False], dtype=np.bool_)
            m &= ok[self._app[:n]]
        if flt.monitor is not None:
            m &= self._mon[:n] == flt.monitor
        return m

    def _image_channel(self, query: F32, k: int, mask: npt.NDArray[np.bool_] | None
                       ) -> tuple[I64, F32]:
        assert self.image is not None
        n_img = len(self.image)
        img_mask = None if mask is None else mask[self._mem_of_img[:n_img]]
        ipos, sims = self.image.search(query, k, mask=img_mask)
        return self._mem_of_img[ipos], sims

    def search(self, text_query: F32 | None, terms: Sequence[str], flt: LatentFilter,
               limit: int, *, image_query: F32 | None = None, collapse: bool = True,
               fusion: FusionConfig | None = None) -> list[LatentHit]:
        fz = fusion or self.fusion
        n = len(self.ids)
        if n == 0 or limit <= 0:
            return []
        mask = self.mask(flt)
        live = self.text.live[:n] if mask is None else self.text.live[:n] & mask
        if text_query is None and image_query is None and not terms:
            return self._browse(live, limit)  # only a time/app filter: newest first
        depth = max(fz.depth, limit * 4)
        channels: list[tuple[float, I64]] = []
        dense_pos = np.zeros(0, np.int64)
        if text_query is not None:
            dense_pos, _ = self.text.search(text_query, depth, mask=mask)
            channels.append((fz.dense_weight, dense_pos))
        bm_scores, ceiling = self.bm25.search(terms, live=live)
        kw_pos = np.flatnonzero(bm_scores > 0)
        kw_pos, _ = top_k(kw_pos.astype(np.int64), bm_scores[kw_pos], depth)
        channels.append((fz.keyword_weight, kw_pos))
        img_pos = np.zeros(0, np.int64)
        if image_query is not None and self.image is not None and len(self.image):
            img_pos, _ = self._image_channel(image_query, depth, mask)
            channels.append((fz.image_weight, img_pos))
        pool = np.unique(np.concatenate([c for _, c in channels]))
        if pool.size == 0:
            return []
        dense = np.zeros(pool.size, np.float32)
        if text_query is not None:
            dense = np.maximum(self.text._score(np.asarray(text_query, np.float32).reshape(-1),
                                                pool), 0.0)
        kw = (np.minimum(1.0, bm_scores[pool] / ceiling) if ceiling > 0
              else np.zeros(pool.size, np.float32)).astype(np.float32)
        img = np.zeros(pool.size, np.float32)
        if img_pos.size and image_query is not None and self.image is not None:
            ip = self._img_of[pool]
            has = ip >= 0
            q = np.asarray(image_query, np.float32).reshape(-1)
            img[has] = np.maximum(self.image._score(q, ip[has]), 0.0)
        if fz.method == "weighted":
            if text_query is None:
                score = kw
            else:
                score = fz.weighted_dense * dense + fz.weighted_keyword * kw
                total = fz.weighted_dense + fz.weighted_keyword
                if img_pos.size:
                    score = score + fz.image_weight * img
                    total += fz.image_weight
                score = (score / total).astype(np.float32)
        else:
            where = {int(p): i for i, p in enumerate(pool)}
            rrf = np.zeros(pool.size, np.float64)
            best = 0.0
            for weight, ranked in channels:
                if ranked.size == 0:
                    continue
                best += weight / (fz.rrf_k + 1)
                for rank, p in enumerate(ranked.tolist()):
                    rrf[where[p]] += weight / (fz.rrf_k + 1 + rank)
            score = (rrf / best if best > 0 else rrf).astype(np.float32)
        order = np.lexsort((-self._ts[pool], -score))
        hits: list[LatentHit] = []
        for i in order.tolist():
            pos = int(pool[i])
            hit = LatentHit(position=pos, id=self.ids[pos], score=float(score[i]),
                            dense=float(dense[i]), keyword=float(kw[i]), image=float(img[i]))
            if collapse and self._absorb(hits, hit, fz):
                continue
            hits.append(hit)
            if len(hits) >= limit:
                break
        return hits

    def _browse(self, live: npt.NDArray[np.bool_], limit: int) -> list[LatentHit]:
        pos = np.flatnonzero(live)
        newest = pos[np.argsort(-self._ts[pos], kind="stable")[:limit]]
        return [LatentHit(position=int(p), id=self.ids[int(p)], score=0.0, dense=0.0,
                          keyword=0.0, image=0.0) for p in newest]

    def _absorb(self, hits: list[LatentHit], hit: LatentHit, fz: FusionConfig) -> bool:
        """Fold ``hit`` into an earlier near-identical, nearby moment (same app/monitor)."""
        vec = self.text.vector(hit.position)
        for i, kept in enumerate(hits):
            a, b = kept.position, hit.position
            if self._app[a] != self._app[b] or self._mon[a] != self._mon[b]:
                continue
            if abs(self._ts[a] - self._ts[b]) > fz.collapse_seconds:
                continue
            if float(self.text.vector(a) @ vec) < fz.collapse_cosine:
                continue
            hits[i] = LatentHit(kept.position, kept.id, kept.score, kept.dense, kept.keyword,
                                kept.image, kept.duplicates + (hit.id,))
            return True
        return False

    # -- persistence (see core.retrieval.snapshot) -----------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        n = len(self.ids)
        out: dict[str, np.ndarray] = {
            "meta.dims": np.array([self.text_dim, self.image_dim], np.int64),
            "meta.apps": _join(self.apps),
            "meta.ts": self._ts[:n], "meta.app": self._app[:n], "meta.mon": self._mon[:n],
            "meta.img_of": self._img_of[:n if self.image is not None else 0],
            "meta.mem_of_img": self._mem_of_img[:len(self.image) if self.image is not None
                                                else 0],
            "meta.flags": self._flags[:n],
        }
        out.update({f"meta.{k}": v for k, v in self.ids.state().items()})
        out.update({f"text.{k}": v for k, v in self.text.state().items()})
        out.update({f"bm25.{k}": v for k, v in self.bm25.state().items()})
        if self.image is not None:
            out.update({f"image.{k}": v for k, v in self.image.state().items()})
        return out

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray],
                   fusion: FusionConfig | None = None) -> LatentIndex:
        text_dim, image_dim = (int(x) for x in state["meta.dims"])
        idx = cls(text_dim, image_dim, fusion)

        def sub(prefix: str) -> dict[str, np.ndarray]:
            return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}

        idx.text = IvfInt8Index.from_state(sub("text."))
        idx.bm25 = CompactBm25.from_state(sub("bm25."))
        if image_dim:
            idx.image = IvfInt8Index.from_state(sub("image."))
        idx.ids = IdList.from_state(sub("meta."))
        idx.apps = _split(state["meta.apps"])
        idx._app_id = {a: i for i, a in enumerate(idx.apps)}
        idx._ts = np.array(state["meta.ts"], np.float64)
        idx._app = np.array(state["meta.app"], np.int32)
        idx._mon = np.array(state["meta.mon"], np.int16)
        idx._img_of = np.array(state["meta.img_of"], np.int32)
        idx._mem_of_img = np.array(state["meta.mem_of_img"], np.int64)
        if "meta.flags" in state and state["meta.flags"].shape[0] == len(idx.ids):
            idx._flags = np.array(state["meta.flags"], np.uint8)
        else:
            idx._flags = np.zeros(len(idx.ids), np.uint8)
            idx.flags_known = False
        live = idx.text.live
        idx.pos_of = PosMap(idx.ids, live)
        return idx


def _join(items: Sequence[str]) -> np.ndarray:
    return np.frombuffer("".join(f"{t}\x00" for t in items).encode("utf-8"), dtype=np.uint8)


def _split(arr: np.ndarray) -> list[str]:
    return bytes(arr).decode("utf-8").split("\x00")[:-1]
