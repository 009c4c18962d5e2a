"""Retrieval quality on third-party data: ScreenAgent screenshots and LoCoMo dialogues.

    python -m bench.eval_retrieval [--sessions N] [--skip-locomo] [--out FILE]

ScreenAgent (``../shared/eval/screenagent_test``): the screenshots are imported into a
fresh encrypted vault through the product's import path (``Memory.import_paths``,
timestamps from the file names), then queried with each session's ``task_prompt``
(session level: any screenshot of that session is relevant) and each step's
``current_task`` (step level: that step's screenshot). Reported for BM25 only, dense
only, the foundation's weighted sum (0.7 dense + 0.3 BM25), reciprocal rank fusion and
the product's default (``FusionConfig()``: 0.4 dense + 0.6 BM25): hit@1/5/10, MRR@10
and nDCG@10. Near-duplicate collapsing is
off for the metrics (a collapsed group would otherwise count as one rank).

LoCoMo (``../shared/eval/locomo``): every dialogue turn becomes a text memory; each
QA item of categories 1-4 is a query; recall@5/@10 = share of its evidence turns
in the top k, per method.

OCR results and LoCoMo embeddings are cached outside the repository
(``~/.cache/afterimage-eval``; see :mod:`bench.ocr_cache`). The data is never copied
into the repository; when it is absent the evaluation is skipped with a message.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.ocr_cache import cache_dir, default_caching_ocr
from core.config import Config, Paths
from core.embed import MiniLmEmbedder
from core.index import IndexFilter, MemoryIndex
from core.memory import Factories, Memory
from core.records import MemoryRecord
from core.retrieval.latent import FusionConfig
from core.types import OcrLine, OcrResult
from core.vault import KdfParams

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
METHODS: tuple[str, ...] = ("bm25", "dense", "weighted_0.7_0.3", "rrf", "default")
# --grid: fusion variants compared to choose the default (FusionConfig in
# core/retrieval/latent.py). "weighted" is the legacy 0.7 dense + 0.3 BM25 sum.
GRID = {
    "rrf_d0.5_k60": FusionConfig(method="rrf", dense_weight=0.5, rrf_k=60),
    "rrf_d0.5_k20": FusionConfig(method="rrf", dense_weight=0.5, rrf_k=20),
    "rrf_d0.7_k20": FusionConfig(method="rrf", dense_weight=0.7, rrf_k=20),
    "weighted_0.5_0.5": FusionConfig(method="weighted", weighted_dense=0.5,
                                     weighted_keyword=0.5),
    "weighted_0.4_0.6": FusionConfig(method="weighted", weighted_dense=0.4,
                                     weighted_keyword=0.6),
    "weighted_0.3_0.7": FusionConfig(method="weighted", weighted_dense=0.3,
                                     weighted_keyword=0.7),
}


def eval_root() -> Path:
    env = os.environ.get("AFTERIMAGE_EVAL_DATA")
    if env:
        return Path(env)
    for candidate in (EVAL, Path("/work/shared/eval")):
        if candidate.is_dir():
            return candidate
    return EVAL


def ranked(index: MemoryIndex, method: str, vec: np.ndarray, text: str, k: int) -> list[str]:
    flt = IndexFilter()
    if method == "bm25":
        hits = index.search(None, text, flt, k, collapse=False)
    elif method == "dense":
        hits = [h for h in index.search(vec, "", flt, k, collapse=False)]
    elif method == "weighted_0.7_0.3":  # the foundation's fusion
        hits = index.search(vec, text, flt, k, collapse=False,
                            fusion=FusionConfig(method="weighted", weighted_dense=0.7,
                                                weighted_keyword=0.3))
    elif method == "rrf":
        hits = index.search(vec, text, flt, k, collapse=False, fusion=FusionConfig(
            method="rrf"))
    elif method in GRID:
        hits = index.search(vec, text, flt, k, collapse=False, fusion=GRID[method])
    else:  # "default": the product's FusionConfig()
        hits = index.search(vec, text, flt, k, collapse=False)
    return [h.record.id for h in hits]


def metrics(results: list[tuple[list[str], set[str]]]) -> dict[str, float]:
    h1 = h5 = h10 = mrr = ndcg = 0.0
    for got, rel in results:
        first = next((i for i, g in enumerate(got[:10]) if g in rel), None)
        h1 += first is not None and first < 1
        h5 += first is not None and first < 5
        h10 += first is not None
        mrr += 0 if first is None else 1 / (first + 1)
        dcg = sum(1 / math.log2(i + 2) for i, g in enumerate(got[:10]) if g in rel)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(len(rel), 10)))
        ndcg += dcg / ideal if ideal else 0
    n = max(len(results), 1)
    return {"hit@1": round(h1 / n, 3), "hit@5": round(h5 / n, 3), "hit@10": round(h10 / n, 3),
            "mrr@10": round(mrr / n, 3), "ndcg@10": round(ndcg / n, 3), "queries": len(results)}


def screenagent(root: Path, max_sessions: int, embedder: MiniLmEmbedder) -> dict[str, Any]:
    data = root / "screenagent_test"
    sessions = [json.loads(line) for line in (data / "index.jsonl").read_text().splitlines()
                if line.strip()]
    sessions = sorted((s for s in sessions if s.get("images_included")),
                      key=lambda s: s["session_id"])[:max_sessions or None]
    files: list[Path] = []
    owner: dict[str, str] = {}
    for s in sessions:
        for img in sorted((data / "sessions" / s["session_id"] / "images").glob("*.jpg")):
            files.append(img)
            owner[img.name] = s["session_id"]
    ocr = default_caching_ocr()
    with tempfile.TemporaryDirectory(prefix="afterimage-eval-") as tmp:
        paths = Paths(config_file=Path(tmp) / "config.toml", data_dir=Path(tmp) / "data")
        kdf = KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1)

        def unavailable() -> Any:
            raise RuntimeError("not used")

        factories = Factories(ocr=lambda: ocr, embedder=lambda: embedder, screen=unavailable,
                              windows=unavailable)
        memory = Memory.create(Config(), paths, "evaluation-passphrase", kdf=kdf,
                               factories=factories)
        t0 = time.perf_counter()
        report = memory.import_paths(files)
        import_s = time.perf_counter() - t0
        index = memory._ensure_index()
        by_source = {r.source: r.id for r in index.records()}
        ids_of_session: dict[str, set[str]] = {}
        for name, sid in owner.items():
            if name in by_source:
                ids_of_session.setdefault(sid, set()).add(by_source[name])
        queries: list[tuple[str, str, set[str]]] = []
        for s in sessions:
            rel = ids_of_session.get(s["session_id"], set())
            if rel:
                queries.append(("session", s["task_prompt"], rel))
            for step in s.get("steps", []):
                img = step.get("image")
                task = (step.get("current_task") or "").strip()
                if img and task and img in by_source:
                    queries.append(("step", task, {by_source[img]}))
        texts = sorted({q for _, q, _ in queries})
        vec_of = dict(zip(texts, embedder.embed(texts), strict=True))
        out: dict[str, Any] = {"sessions": len(sessions), "screenshots": len(by_source),
                               "import_s": round(import_s, 1), "ocr_cache_hits": ocr.hits,
                               "ocr_runs": ocr.misses, "failed": len(report.failed)}
        for level in ("session", "step"):
            level_q = [(t, rel) for lv, t, rel in queries if lv == level]
            out[level] = {m: metrics([(ranked(index, m, vec_of[t], t, 10), rel)
                                      for t, rel in level_q]) for m in METHODS}
        memory.close()  # locking drops the index: query before this
    return out


def _locomo_time(text: str) -> datetime:
    return datetime.strptime(text, "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def cached_embed(embedder: MiniLmEmbedder, texts: list[str]) -> np.ndarray:
    digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:24]
    path = cache_dir().parent / "emb" / f"minilm-{digest}.npy"
    if path.is_file():
        return np.load(path)
    vecs = embedder.embed(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs


def locomo(root: Path, embedder: MiniLmEmbedder) -> dict[str, Any]:
    convs = json.loads((root / "locomo" / "locomo10.json").read_text())
    per_cat: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for conv in convs:
        c = conv["conversation"]
        turns: list[tuple[str, datetime, str]] = []
        n = 1
        while f"session_{n}" in c:
            when = _locomo_time(c[f"session_{n}_date_time"])
            for i, turn in enumerate(c[f"session_{n}"]):
                text = f"{turn['speaker']}: {turn['text']}"
                if turn.get("blip_caption"):
                    text += f" [shares a photo: {turn['blip_caption']}]"
                turns.append((turn["dia_id"], when + timedelta(seconds=i), text))
            n += 1
        vecs = cached_embed(embedder, [t for _, _, t in turns])
        index = MemoryIndex(embedder.dim)
        records = [MemoryRecord(id=dia, timestamp=when, app="chat", title="",
                                ocr=OcrResult((OcrLine(text, 1.0, (0, 0, 1, 1)),)))
                   for dia, when, text in turns]
        index.add(records, [v[None, :] for v in vecs])
        qa = [q for q in conv["qa"] if q.get("category") in (1, 2, 3, 4) and q.get("evidence")]
        qvecs = cached_embed(embedder, [q["question"] for q in qa])
        for q, qv in zip(qa, qvecs, strict=True):
            rel = set(q["evidence"])
            for m in METHODS:
                got = ranked(index, m, qv, q["question"], 10)
                r5 = len(rel & set(got[:5])) / len(rel)
                r10 = len(rel & set(got[:10])) / len(rel)
                per_cat.setdefault(str(q["category"]), {}).setdefault(m, []).append((r5, r10))
    out: dict[str, Any] = {}
    for cat, by_m in sorted(per_cat.items()):
        out[cat] = {m: {"recall@5": round(float(np.mean([a for a, _ in v])), 3),
                        "recall@10": round(float(np.mean([b for _, b in v])), 3),
                        "queries": len(v)} for m, v in by_m.items()}
    allq = {m: [x for cat in per_cat.values() for x in cat[m]] for m in METHODS}
    out["all"] = {m: {"recall@5": round(float(np.mean([a for a, _ in v])), 3),
                      "recall@10": round(float(np.mean([b for _, b in v])), 3),
                      "queries": len(v)} for m, v in allq.items()}
    return out


def main(argv: list[str] | None = None, log: Callable[[str], None] = print) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=0, help="first N sessions (0 = all)")
    ap.add_argument("--skip-locomo", action="store_true")
    ap.add_argument("--skip-screenagent", action="store_true")
    ap.add_argument("--out", default="bench/results/retrieval_eval.json")
    ap.add_argument("--grid", action="store_true", help="also compare fusion variants")
    args = ap.parse_args(argv)
    global METHODS
    if args.grid:
        METHODS = (*METHODS, *GRID)
    root = eval_root()
    if not root.is_dir():
        log(f"SKIPPED: evaluation data not found at {root} (see ../shared/eval/README.md)")
        return 0
    embedder = MiniLmEmbedder()
    result: dict[str, Any] = {"default_fusion": str(FusionConfig())}
    if not args.skip_screenagent:
        if (root / "screenagent_test").is_dir():
            result["screenagent"] = screenagent(root, args.sessions, embedder)
            log(json.dumps(result["screenagent"], indent=1))
        else:
            log("SKIPPED: screenagent_test not found")
    if not args.skip_locomo:
        if (root / "locomo").is_dir():
            result["locomo"] = locomo(root, embedder)
            log(json.dumps(result["locomo"], indent=1))
        else:
            log("SKIPPED: locomo not found")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
