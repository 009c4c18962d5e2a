"""The scalable latent index: int8 IVF, compact BM25, fusion, collapsing, snapshots."""

import math
import os
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core.errors import DecryptionFailed
from core.retrieval.ann import IvfInt8Index
from core.retrieval.bm25 import CompactBm25
from core.retrieval.latent import FusionConfig, LatentFilter, LatentIndex, fuse_chunks
from core.retrieval.snapshot import read_snapshot, write_snapshot
from core.vault import DataKey

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def unit(a):
    a = np.asarray(a, dtype=np.float32)
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def clustered(n, dim=64, seed=0):
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((60, dim)))
    return unit(centres[rng.integers(0, 60, n)] + 0.08 * rng.standard_normal((n, dim)))


def test_ivf_recall_incremental_add_remove_and_state():
    data = clustered(24_000).astype(np.float32)
    idx = IvfInt8Index(64, train_at=20_000, merge_at=2_000)
    idx.add(data[:21_000])
    assert idx.nlist > 0  # trained once big enough
    idx.add(data[21_000:])  # tail, merged as it grows
    rng = np.random.default_rng(1)
    queries = unit(data[rng.integers(0, 24_000, 40)] + 0.1 * rng.standard_normal((40, 64)))
    recall = []
    for q in queries:
        truth = set(np.argsort(-(data @ q))[:10].tolist())
        got, _ = idx.search(q, 10)
        recall.append(len(truth & set(got.tolist())) / 10)
    assert np.mean(recall) >= 0.95
    fresh = unit(np.ones(64))
    (pos,) = idx.add(fresh[None, :])
    assert idx.search(fresh, 1)[0][0] == pos  # searchable immediately
    idx.remove(np.array([pos]))
    assert pos not in idx.search(fresh, 5)[0]
    mask = np.zeros(len(idx), dtype=bool)
    mask[:100] = True  # a selective filter is answered exactly
    got, _ = idx.search(queries[0], 5, mask=mask)
    assert set(got.tolist()) <= set(range(100)) and len(got) == 5
    back = IvfInt8Index.from_state({k: np.array(v) for k, v in idx.state().items()})
    assert np.array_equal(back.search(queries[3], 10)[0], idx.search(queries[3], 10)[0])


def bm25_reference(docs, query, k1=1.2, b=0.75):
    n = len(docs)
    avg = sum(len(d) for d in docs) / n
    out = []
    for d in docs:
        s = 0.0
        for t in set(query):
            df = sum(1 for x in docs if t in x)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = d.count(t)
            s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avg)) if tf else 0
        out.append(s)
    return out


def test_bm25_matches_formula_before_and_after_merge():
    docs = [["budget", "q3", "budget"], ["cat", "photo"], ["budget", "report", "pdf", "x"],
            ["report"]]
    idx = CompactBm25(merge_at=1000)
    for d in docs:
        idx.add(d)
    expect = bm25_reference(docs, ["budget", "report"])
    pending, _ = idx.search(["budget", "report"])
    idx.merge()
    merged, ceiling = idx.search(["budget", "report"])
    assert np.allclose(pending, expect, atol=1e-5) and np.allclose(merged, expect, atol=1e-5)
    assert ceiling > merged.max()
    back = CompactBm25.from_state(idx.state())
    assert np.allclose(back.search(["budget", "report"])[0], expect, atol=1e-5)
    assert back.search(["unknownword"])[0].max() == 0


def make_index(fusion=None):
    idx = LatentIndex(3, fusion=fusion)
    rows = [
        ("a", 0, "editor", 1, [1, 0, 0], "quarterly budget spreadsheet"),
        ("b", 1, "editor", 1, [0.99, 0.05, 0], "quarterly budget spreadsheet"),  # near-dup
        ("c", 60, "browser", 2, [0, 1, 0], "cat pictures"),
        ("d", 120, "terminal", 1, [0.5, 0.5, 0.7], "budget error traceback"),
    ]
    for mid, minutes, app, mon, vec, text in rows:
        idx.add(mid, T0 + timedelta(minutes=minutes), app, mon, unit(vec), text.split())
    return idx


def test_rrf_fusion_filters_collapse_and_browse():
    idx = make_index()
    hits = idx.search(unit([1, 0, 0]), ["budget"], LatentFilter(), 10)
    # a and b are the same screen a minute apart: shown once, the other as a duplicate.
    assert hits[0].id in {"a", "b"} and hits[0].duplicates == tuple({"a", "b"} - {hits[0].id})
    assert [h.id for h in hits][1] == "d" and 0 < hits[0].score <= 1.0
    flat = idx.search(unit([1, 0, 0]), ["budget"], LatentFilter(), 10, collapse=False)
    assert {h.id for h in flat} == {"a", "b", "c", "d"}
    assert idx.search(None, ["cat"], LatentFilter(monitor=1), 10) == []
    assert [h.id for h in idx.search(None, ["cat"], LatentFilter(monitor=2), 10)] == ["c"]
    later = LatentFilter(since=T0 + timedelta(minutes=30), app="TERM")
    assert [h.id for h in idx.search(unit([1, 0, 0]), [], later, 10)] == ["d"]
    browse = idx.search(None, [], LatentFilter(until=T0 + timedelta(minutes=90)), 10)
    assert [h.id for h in browse] == ["c", "b", "a"]  # newest first
    weighted = idx.search(unit([1, 0, 0]), ["budget"], LatentFilter(), 10,
                          fusion=FusionConfig(method="weighted"))
    assert weighted[0].id in {"a", "b"}
    idx.remove(["a", "b"])
    after = [h.id for h in idx.search(unit([1, 0, 0]), ["budget"], LatentFilter(), 10)]
    assert after[0] == "d" and "a" not in after and "b" not in after


def test_fuse_chunks_is_normalised_mean():
    v = fuse_chunks(np.array([[1, 0], [0, 1]], np.float32), 2)
    assert np.allclose(v, [0.7071, 0.7071], atol=1e-3)


def test_snapshot_roundtrip_tamper_and_no_plaintext(tmp_path):
    idx = make_index()
    idx.add("z", T0, "secretapp", 1, unit([0, 0, 1]), ["zebrasecretword"] * 3)
    key = DataKey.generate(0)
    path = tmp_path / "index.snapshot"
    write_snapshot(path, key, idx.state())
    raw = path.read_bytes()
    for needle in (b"zebrasecretword", b"secretapp", b"quarterly"):
        assert needle not in raw
    back = LatentIndex.from_state(read_snapshot(path, key))
    assert back.search(None, ["zebrasecretword"], LatentFilter(), 1)[0].id == "z"
    assert back.ids == idx.ids and back.apps == idx.apps
    with pytest.raises(DecryptionFailed):
        read_snapshot(path, DataKey.generate(0))  # another key
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 1
    path.write_bytes(bytes(flipped))
    with pytest.raises(DecryptionFailed):
        read_snapshot(path, key)
    path.write_bytes(raw[:-10])
    with pytest.raises(DecryptionFailed):
        read_snapshot(path, key)


def test_snapshot_spans_many_segments(tmp_path, monkeypatch):
    import core.retrieval.snapshot as snap

    monkeypatch.setattr(snap, "SEGMENT", 4096 - 4)
    arrays = {"a": np.arange(10_000, dtype=np.int64), "b": np.frombuffer(os.urandom(9999),
                                                                         np.uint8)}
    key = DataKey.generate(0)
    snap.write_snapshot(tmp_path / "s", key, arrays)
    back = snap.read_snapshot(tmp_path / "s", key)
    assert np.array_equal(back["a"], arrays["a"]) and np.array_equal(back["b"], arrays["b"])


def test_bm25_gap_coding_handles_far_apart_documents():
    n = 70_010
    offsets = np.array([0, 3, 5], dtype=np.int64)
    docs = np.array([0, 70_000, 70_001, 5, 6], dtype=np.int32)  # term 0 needs int32 gaps
    tfs = np.array([1, 2, 1, 1, 3], dtype=np.uint8)
    idx = CompactBm25()
    idx.bulk_load(offsets, docs, tfs, np.full(n, 10, np.int32), {"far": 0, "near": 1})
    far, _ = idx.search(["far"])
    near, _ = idx.search(["near"])
    assert set(np.flatnonzero(far).tolist()) == {0, 70_000, 70_001}
    assert set(np.flatnonzero(near).tolist()) == {5, 6} and near[6] > near[5]
    idx.add(["near", "far"])  # pending, then merged with the gap-coded postings
    idx.merge()
    assert set(np.flatnonzero(idx.search(["far"])[0]).tolist()) == {0, 70_000, 70_001, n}
    back = CompactBm25.from_state(idx.state())
    assert np.array_equal(back.search(["near"])[0], idx.search(["near"])[0])
