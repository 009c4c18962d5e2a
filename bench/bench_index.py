"""Scale benchmark: the product's latent index vs brute-force numpy (OpenRecall's way).

    python -m bench.bench_index --sizes 10000,100000,1000000 [--queries 200]

Synthetic memories that look like screen history: 64 domains -> topics -> sessions of
~8 near-identical consecutive captures (cosine ~0.95), 384-d unit vectors (MiniLM's
size), ~35 distinct BM25 terms per memory from a topic vocabulary plus a Zipf tail,
timestamps ~30 s apart, 40 apps, 2 monitors. Queries are noisy versions (cosine ~0.7)
of a random memory or topic plus 3 topic terms.

Per size, in one run: the brute-force baseline (float32 matrix @ query, argsort; its
RSS and latency) in this process, and the product index in a **fresh child process**
that loads the sealed snapshot from disk (ready time = read + AES-GCM decrypt + build)
and reports its RSS, query latency p50/p99 (dense-only, hybrid, hybrid with a 7-day
filter), recall@10 against exact float32 search, and incremental-add latency.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from core.memtrim import return_freed_memory
from core.retrieval.ann import IvfInt8Index
from core.retrieval.bm25 import CompactBm25
from core.retrieval.idmap import IdList
from core.retrieval.latent import LatentFilter, LatentIndex
from core.retrieval.snapshot import read_snapshot, write_snapshot
from core.vault import DataKey

DIM = 384
VOCAB = 100_000


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _unit(a: np.ndarray) -> np.ndarray:
    out: np.ndarray = (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)
    return out


def _noisy(base: np.ndarray, cos: float, rng: np.random.Generator) -> np.ndarray:
    sigma = np.sqrt((1 / cos**2 - 1) / DIM)
    return _unit(base + rng.standard_normal(base.shape, dtype=np.float32) * sigma)


def synthesize(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    domains = _unit(rng.standard_normal((64, DIM), dtype=np.float32))
    n_topics = max(256, n // 250)
    topics = _noisy(domains[rng.integers(0, 64, n_topics)], 0.6, rng)
    topic_terms = rng.integers(0, VOCAB, (n_topics, 30)).astype(np.int32)
    n_sessions = (n + 7) // 8
    sess_topic = rng.integers(0, n_topics, n_sessions)
    sessions = np.empty((n_sessions, DIM), np.float32)
    for s in range(0, n_sessions, 50_000):
        sessions[s:s + 50_000] = _noisy(topics[sess_topic[s:s + 50_000]], 0.8, rng)
    mem_session = np.minimum(np.arange(n) // 8, n_sessions - 1)
    vectors = np.empty((n, DIM), np.float32)
    for s in range(0, n, 100_000):
        vectors[s:s + 100_000] = _noisy(sessions[mem_session[s:s + 100_000]], 0.95, rng)
    topic_of = sess_topic[mem_session]
    own = topic_terms[topic_of[:, None], rng.integers(0, 30, (n, 25))]
    tail = np.minimum(rng.zipf(1.3, (n, 15)), VOCAB - 1).astype(np.int32)
    terms = np.concatenate([own, tail], axis=1)
    ts = 1.7e9 + np.arange(n, dtype=np.float64) * 30.0
    apps = rng.integers(0, 40, n_sessions)[mem_session].astype(np.int32)
    mon = (1 + rng.integers(0, 2, n_sessions)[mem_session]).astype(np.int16)
    return {"vectors": vectors, "terms": terms, "ts": ts, "apps": apps, "mon": mon,
            "topics": topics, "topic_terms": topic_terms, "topic_of": topic_of}


def bm25_csr(terms: np.ndarray) -> tuple[np.ndarray, ...]:
    n, width = terms.shape
    key = np.repeat(np.arange(n, dtype=np.int64), width) * VOCAB + terms.reshape(-1)
    uniq, tf = np.unique(key, return_counts=True)
    docs = (uniq // VOCAB).astype(np.int32)
    tids = (uniq % VOCAB).astype(np.int32)
    order = np.argsort(tids, kind="stable")
    counts = np.bincount(tids, minlength=VOCAB)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    doc_len = np.full(n, width, np.int32)
    return offsets, docs[order], np.minimum(tf[order], 255).astype(np.uint8), doc_len


def build_state(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n = data["vectors"].shape[0]
    ivf = IvfInt8Index(DIM, train_at=max(n, 1), merge_at=max(n, 1))
    for s in range(0, n, 100_000):
        ivf.add(data["vectors"][s:s + 100_000])
    if ivf.centroids is None and n >= 20_000:
        ivf.train()
    ivf.train_at, ivf.merge_at = 20_000, 20_000
    bm = CompactBm25()
    offsets, docs, tfs, doc_len = bm25_csr(data["terms"])
    bm.bulk_load(offsets, docs, tfs, doc_len, {f"t{i}": i for i in range(VOCAB)})
    idx = LatentIndex(DIM)
    idx.text, idx.bm25 = ivf, bm
    idx.ids = IdList(np.array([f"{i:032x}".encode() for i in range(n)], dtype="S32"))
    idx.apps = [f"app{i}" for i in range(40)]
    idx._ts, idx._app, idx._mon = data["ts"], data["apps"], data["mon"]
    idx._flags = np.full(n, 1, np.uint8)  # captioned (FLAG_CAPTIONED), captured
    return idx.state()


def make_queries(data: dict[str, np.ndarray], q: int, seed: int = 11
                 ) -> tuple[np.ndarray, list[list[str]]]:
    rng = np.random.default_rng(seed)
    n = data["vectors"].shape[0]
    pick = rng.integers(0, n, q)
    half = q // 2
    vecs = np.concatenate([_noisy(data["vectors"][pick[:half]], 0.7, rng),
                           _noisy(data["topics"][data["topic_of"][pick[half:]]], 0.7, rng)])
    terms = [[f"t{t}" for t in data["topic_terms"][data["topic_of"][p]][rng.integers(0, 30, 3)]]
             for p in pick]
    return vecs.astype(np.float32), terms


def pct(values: list[float], p: float) -> float:
    return round(float(np.percentile(np.array(values) * 1000, p)), 2)


def child(workdir: Path) -> dict[str, object]:
    """Runs in a fresh process: load the sealed snapshot, measure the product index."""
    base = rss_mb()
    meta = json.loads((workdir / "meta.json").read_text())
    key = DataKey(key_id=meta["key_id"], bucket=0, key=bytes.fromhex(meta["key"]))
    queries = np.load(workdir / "queries.npy")
    truth = np.load(workdir / "truth.npy")
    terms = meta["terms"]
    t0 = time.perf_counter()
    idx = LatentIndex.from_state(read_snapshot(workdir / "index.snap", key))
    return_freed_memory()  # as core/retrieval/keeper.py does after loading
    ready = time.perf_counter() - t0
    loaded = rss_mb()
    idx.search(queries[0], terms[0], LatentFilter(), 10)  # warm-up
    dense_t, hybrid_t, filt_t, recall = [], [], [], []
    week = LatentFilter(since=_dt(idx.timestamp(len(idx.ids) - 1) - 7 * 86400))
    for i, q in enumerate(queries):
        t = time.perf_counter()
        pos, _ = idx.text.search(q, 10)
        dense_t.append(time.perf_counter() - t)
        recall.append(len(set(pos.tolist()) & set(truth[i].tolist())) / 10)
        t = time.perf_counter()
        idx.search(q, terms[i], LatentFilter(), 10)
        hybrid_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        idx.search(q, terms[i], week, 10)
        filt_t.append(time.perf_counter() - t)
    from datetime import UTC, datetime
    add_t, found = [], 0
    rng = np.random.default_rng(5)
    for j in range(50):
        v = _unit(rng.standard_normal((1, DIM), dtype=np.float32))[0]
        t = time.perf_counter()
        idx.add(f"new{j}", datetime.now(UTC), "app1", 1, v, ["fresh", f"n{j}"])
        add_t.append(time.perf_counter() - t)
        found += idx.search(v, [f"n{j}"], LatentFilter(), 1, collapse=False)[0].id == f"new{j}"
    return_freed_memory()
    return {"ready_s": round(ready, 3), "rss_mb": round(rss_mb(), 1),
            "rss_index_mb": round(loaded - base, 1),
            "rss_index_after_adds_mb": round(rss_mb() - base, 1),
            "index_nbytes_mb": round(idx.nbytes() / 2**20, 1),
            "nlist": idx.text.nlist, "nprobe": idx.text.nprobe,
            "dense_p50_ms": pct(dense_t, 50), "dense_p99_ms": pct(dense_t, 99),
            "hybrid_p50_ms": pct(hybrid_t, 50), "hybrid_p99_ms": pct(hybrid_t, 99),
            "filtered_p50_ms": pct(filt_t, 50), "filtered_p99_ms": pct(filt_t, 99),
            "recall_at_10": round(float(np.mean(recall)), 4),
            "add_p50_ms": pct(add_t, 50), "add_max_ms": pct(add_t, 100),
            "new_found_top1": f"{found}/50"}


def _dt(ts: float):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime
    return datetime.fromtimestamp(ts, UTC)


def run_size(n: int, q: int) -> dict[str, object]:
    t0 = time.perf_counter()
    data = synthesize(n)
    gen_s = time.perf_counter() - t0
    queries, terms = make_queries(data, q)
    # Baseline: brute-force float32 (OpenRecall keeps float32 vectors and argsorts all).
    before = rss_mb()
    matrix = data["vectors"]  # already float32 n x 384 (what OpenRecall holds)
    bf_t, truth = [], []
    for qv in queries:
        t = time.perf_counter()
        sims = matrix @ qv
        top = np.argsort(-sims)[:10]
        bf_t.append(time.perf_counter() - t)
        truth.append(top)
    baseline = {"rss_matrix_mb": round(matrix.nbytes / 2**20, 1),
                "p50_ms": pct(bf_t, 50), "p99_ms": pct(bf_t, 99), "recall_at_10": 1.0}
    del before
    t = time.perf_counter()
    state = build_state(data)
    build_s = time.perf_counter() - t
    key = DataKey.generate(0)
    with tempfile.TemporaryDirectory(prefix="afterimage-bench-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        size = write_snapshot(work / "index.snap", key, state)
        write_s = time.perf_counter() - t
        del state, data
        np.save(work / "queries.npy", queries)
        np.save(work / "truth.npy", np.array(truth))
        (work / "meta.json").write_text(json.dumps({"key_id": key.key_id, "key": key.key.hex(),
                                                    "terms": terms}))
        out = subprocess.run([sys.executable, "-m", "bench.bench_index", "--child", str(work)],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": os.getcwd()})
        product = json.loads(out.stdout.strip().splitlines()[-1])
    product.update(build_s=round(build_s, 1), snapshot_mb=round(size / 2**20, 1),
                   snapshot_write_s=round(write_s, 2))
    return {"memories": n, "queries": q, "generate_s": round(gen_s, 1), "product": product,
            "brute_force_numpy": baseline}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--out", default="bench/results/index.json")
    ap.add_argument("--child", default=None)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child))))
        return 0
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        res = run_size(n, args.queries)
        print(json.dumps(res), flush=True)
        results.append(res)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"results": results, "cpus": os.cpu_count()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
