"""Chat recall on LoCoMo: evidence recall of the routed retrieval, answer token-F1, speed.

    .venv/bin/python -m bench.eval_chat [--model PATH.gguf] [--per-category 5]
                                        [--conversations 10] [--out bench/results/chat.json]

LoCoMo (snap-research, CC BY-NC 4.0) is read from ``../shared/eval/locomo/locomo10.json``
(or ``--data``) and never copied. Each dialogue turn becomes one text memory (OCR text =
"Speaker: text", plus the image caption LoCoMo gives for shared photos; timestamp = the
session's date and time, one second apart per turn; app = "LoCoMo"). Each conversation gets
its own in-memory index with the real MiniLM embedder; no vault is involved (the store's
encryption is measured elsewhere).

- *Evidence recall* (categories 1-4, every question): the share of the gold evidence turns
  that are among the evidence items the router would hand to the model (search route: the
  first, narrow retrieval under the evidence token budget; other routes: their cited
  memories).
- *Answer token-F1* (a per-category sample, since generation on this 2-core CPU is slow):
  SQuAD-style token F1 of the final, checked answer (citations removed) against the gold
  answer, after lowercasing and removing punctuation and articles; snap's script also
  stems words, so these figures are slightly stricter. Also reported: F1 of the model's raw
  reply before the support check (what answering without refusals would score).
- Time to first token, tokens per second, and answer latency per route.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import string
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "eval" / "locomo" / "locomo10.json"
if not DEFAULT_DATA.exists():
    DEFAULT_DATA = Path("/work/shared/eval/locomo/locomo10.json")
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}


def parse_session_time(text: str) -> datetime:
    # "1:56 pm on 8 May, 2023"
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def normalize(text: str) -> list[str]:
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the|and)\b", " ", text)
    return text.split()


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = normalize(prediction), normalize(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def build_conversation(sample: dict[str, Any], embedder: Any) -> tuple[Any, dict[str, str],
                                                                       datetime]:
    from core.index import MemoryIndex
    from core.records import MemoryRecord
    from core.types import OcrLine, OcrResult

    conv = sample["conversation"]
    records: list[MemoryRecord] = []
    dia_of: dict[str, str] = {}
    last = datetime(2000, 1, 1, tzinfo=UTC)
    k = 1
    while f"session_{k}" in conv:
        when = parse_session_time(conv[f"session_{k}_date_time"])
        for i, turn in enumerate(conv[f"session_{k}"]):
            text = f"{turn['speaker']}: {turn['text']}"
            if turn.get("blip_caption"):
                text += f" [shared a photo: {turn['blip_caption']}]"
            rid = f"{len(records):08x}{abs(hash(sample['sample_id'])) % 10**8:08d}".ljust(32, "0")
            rec = MemoryRecord(id=rid, timestamp=when + timedelta(seconds=i), app="LoCoMo",
                               title=f"session {k}",
                               ocr=OcrResult((OcrLine(text, 1.0, (0, 0, 1, 1)),)))
            records.append(rec)
            dia_of[rid] = turn["dia_id"]
            last = max(last, rec.timestamp)
        k += 1
    vectors = embedder.embed([r.text for r in records])
    index = MemoryIndex(embedder.dim)
    index.add(records, [vectors[i:i + 1] for i in range(len(records))])
    return index, dia_of, last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", help="a GGUF file (default: the embedded Gemma 3 270M)")
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--per-category", type=int, default=5,
                        help="answers generated per category (0: retrieval only)")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--evidence-tokens", type=int, default=700)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "chat.json")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"LoCoMo not found at {args.data}: skipping the chat evaluation "
              "(see ../shared/eval/README.md).")
        return 0

    from core.chat.answer import AskOptions, ChatEngine, ChatSettings
    from core.chat.evidence import select_evidence
    from core.chat.router import Route
    from core.chat.service import IndexRecallSource
    from core.embed import MiniLmEmbedder
    from core.llm import LlamaCppLlm
    from core.models import InstalledModels

    data = json.loads(args.data.read_text(encoding="utf-8"))[: args.conversations]
    embedder = MiniLmEmbedder()
    if args.model:
        model_path, model_name = Path(args.model), Path(args.model).name
    else:
        cache = REPO / "build" / "bench-models"
        model_path, model_name = InstalledModels(cache).embedded_default(), "gemma-3-270m"
    t0 = time.perf_counter()
    llm = LlamaCppLlm.load(model_path, name=model_name, n_ctx=2048,
                           n_threads=args.threads or None) if args.per_category else None
    load_s = time.perf_counter() - t0
    settings = ChatSettings(max_tokens=args.max_tokens, evidence_tokens=args.evidence_tokens)

    recall: dict[int, list[float]] = defaultdict(list)
    routes: Counter[str] = Counter()
    f1: dict[int, list[float]] = defaultdict(list)
    raw_f1: dict[int, list[float]] = defaultdict(list)
    supported: dict[int, list[bool]] = defaultdict(list)
    latency: dict[str, list[float]] = defaultdict(list)
    ttft: list[float] = []
    tps: list[float] = []
    samples: list[dict[str, Any]] = []
    wanted = {c: args.per_category for c in CATEGORIES}
    ingest_s = 0.0
    for sample in data:
        t = time.perf_counter()
        index, dia_of, last = build_conversation(sample, embedder)
        ingest_s += time.perf_counter() - t
        source = IndexRecallSource(lambda index=index: index, lambda: embedder)
        engine = ChatEngine(source, (lambda: llm) if llm else None, settings)  # type: ignore[arg-type,return-value]
        now = last + timedelta(days=1)
        for qa in sample["qa"]:
            cat = qa.get("category")
            if cat not in CATEGORIES:
                continue
            gold = set(qa.get("evidence") or [])
            routed = engine.route(qa["question"], now)
            routes[routed.route.value] += 1
            if routed.route == Route.SEARCH:
                span = routed.span
                hits = source.search(routed.query or routed.question,
                                     since=span.since if span else None,
                                     until=span.until if span else None, app=routed.app,
                                     limit=settings.search_limit)
                items = select_evidence(hits, routed.query, budget_tokens=settings.evidence_tokens,
                                        count_tokens=llm.count_tokens if llm else
                                        (lambda s: max(1, len(s) // 4)))
                got = {dia_of[i.record.id] for i in items}
            else:
                answer = engine.answer(qa["question"], AskOptions(now=now))
                got = {dia_of[c.id] for c in answer.citations}
            if gold:
                recall[cat].append(len(gold & got) / len(gold))
            if llm is not None and wanted[cat] > 0:
                wanted[cat] -= 1
                answer = engine.answer(qa["question"], AskOptions(now=now))
                gold_answer = str(qa.get("answer", ""))
                text = re.sub(r"\[\d+\]", "", answer.text)
                f1[cat].append(token_f1(text, gold_answer))
                raw = answer.generation.text if answer.generation else text
                raw_f1[cat].append(token_f1(re.sub(r"\[\d+\]", "", raw), gold_answer))
                supported[cat].append(answer.supported)
                latency[answer.route].append(answer.seconds)
                gen = answer.generation
                if gen is not None and gen.seconds_to_first_token is not None:
                    ttft.append(gen.seconds_to_first_token)
                    decode = gen.seconds - gen.seconds_to_first_token
                    if gen.tokens > 1 and decode > 0:
                        tps.append((gen.tokens - 1) / decode)
                samples.append({"category": cat, "route": answer.route,
                                "supported": answer.supported, "f1": f1[cat][-1]})
                print(f"  [{CATEGORIES[cat]}] f1={f1[cat][-1]:.2f} raw={raw_f1[cat][-1]:.2f} "
                      f"{answer.seconds:.1f}s {answer.route}", file=sys.stderr)

    # Latency of the metadata routes on the last conversation's index.
    for question in ("how many times did Caroline talk about the support group?",
                     "which apps did I use most?", "what was I doing at 2 pm on 8 May 2023?"):
        answer = engine.answer(question, AskOptions(now=now))
        latency[answer.route].append(answer.seconds)

    def mean(values: list[float]) -> float | None:
        return round(statistics.fmean(values), 4) if values else None

    all_recall = [v for vs in recall.values() for v in vs]
    result = {
        "model": model_name if llm else None,
        "conversations": len(data),
        "questions_cat_1_4": len(all_recall),
        "ingest_seconds": round(ingest_s, 1),
        "model_load_seconds": round(load_s, 2) if llm else None,
        "routes": dict(routes),
        "evidence_recall": {CATEGORIES[c]: mean(recall[c]) for c in CATEGORIES} |
        {"all": mean(all_recall)},
        "answers_per_category": args.per_category,
        "answer_f1": {CATEGORIES[c]: mean(f1[c]) for c in CATEGORIES} |
        {"all": mean([v for vs in f1.values() for v in vs])},
        "raw_model_f1": {CATEGORIES[c]: mean(raw_f1[c]) for c in CATEGORIES} |
        {"all": mean([v for vs in raw_f1.values() for v in vs])},
        "supported_rate": mean([float(v) for vs in supported.values() for v in vs]),
        "ttft_s_median": round(statistics.median(ttft), 3) if ttft else None,
        "tokens_per_s_median": round(statistics.median(tps), 2) if tps else None,
        "latency_s_median_by_route": {r: round(statistics.median(v), 3)
                                      for r, v in latency.items()},
        "max_tokens": args.max_tokens, "evidence_tokens": args.evidence_tokens,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
