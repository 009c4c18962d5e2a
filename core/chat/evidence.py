"""Evidence for a grounded answer: chosen under a token budget, numbered, and fenced.

Each memory becomes one item: its caption when it has one, else the parts of its screen
text around the question's words. Items are ranked by retrieval score, newest first within
ties, and added until the token budget is spent (an item that does not fit is shortened,
then skipped).

Captured text is untrusted (SECURITY.md A8, R11). In the evidence block it is *data*:
``&``, ``<`` and ``>`` are escaped so no screen can close the ``<memory>`` element or the
``<evidence>`` block, citation-like ``[3]`` in screen text becomes ``(3)`` so it cannot
pose as one of our citations, and control characters are removed. The block is tokenized
without special tokens (:mod:`core.llm`), so chat-template markers on screen stay text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.index import query_terms
from core.records import MemoryRecord

TokenCounter = Callable[[str], int]


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate (about 4 characters per token for English)."""
    return max(1, (len(text) + 3) // 4)


@dataclass(frozen=True)
class EvidenceItem:
    n: int
    record: MemoryRecord
    text: str  # the (unescaped) caption or snippets shown for this memory
    score: float


_CITE_LIKE = re.compile(r"\[(\s*\d+\s*)\]")


def escape_untrusted(text: str) -> str:
    """Make captured text inert inside the evidence block."""
    cleaned = "".join(ch for ch in text
                      if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))
    cleaned = cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _CITE_LIKE.sub(r"(\1)", cleaned)


def snippets(text: str, terms: Sequence[str], max_chars: int, *, window: int = 220) -> str:
    """The parts of ``text`` around ``terms`` (joined with " … "), at most ``max_chars``."""
    flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return flat
    lowered = flat.casefold()
    spots: list[tuple[int, int]] = []
    for term in sorted(set(terms), key=len, reverse=True):
        start = 0
        while (pos := lowered.find(term, start)) >= 0 and len(spots) < 8:
            spots.append((max(0, pos - window // 2), min(len(flat), pos + window // 2)))
            start = pos + len(term)
    if not spots:
        return flat[:max_chars].rstrip() + "…"
    spots.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spots:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    out = ""
    for a, b in merged:
        piece = ("…" if a > 0 else "") + flat[a:b].strip() + ("…" if b < len(flat) else "")
        if len(out) + len(piece) + 1 > max_chars:
            break
        out = (out + " " + piece).strip()
    return out or flat[:max_chars].rstrip() + "…"


def _item_text(rec: MemoryRecord, terms: Sequence[str], max_chars: int) -> str:
    if rec.caption:
        body = rec.caption
        if rec.text:
            body += " | " + snippets(rec.text, terms, max(0, max_chars - len(body) - 3))
        return body[:max_chars]
    return snippets(rec.text, terms, max_chars)


def select_evidence(ranked: Sequence[tuple[MemoryRecord, float]], question: str, *,
                    budget_tokens: int, count_tokens: TokenCounter = approx_tokens,
                    max_items: int = 12, item_chars: int = 900) -> list[EvidenceItem]:
    """Choose and number evidence under ``budget_tokens`` (best score, then newest)."""
    terms = query_terms(question)
    order = sorted(ranked, key=lambda rs: (-round(rs[1], 6), -rs[0].timestamp.timestamp()))
    items: list[EvidenceItem] = []
    used = 0
    for rec, score in order:
        if len(items) >= max_items:
            break
        text = _item_text(rec, terms, item_chars)
        candidate = EvidenceItem(len(items) + 1, rec, text, score)
        cost = count_tokens(render_item(candidate))
        if used + cost > budget_tokens:
            room_chars = (budget_tokens - used - 40) * 3
            if room_chars < 120:
                continue
            candidate = EvidenceItem(len(items) + 1, rec, _item_text(rec, terms, room_chars),
                                     score)
            cost = count_tokens(render_item(candidate))
            if used + cost > budget_tokens:
                continue
        items.append(candidate)
        used += cost
    return items


def _attr(value: str) -> str:
    return escape_untrusted(value).replace('"', "&quot;").replace("\n", " ")


def _stamp(ts: datetime) -> str:
    return ts.astimezone().strftime("%Y-%m-%d %H:%M")


def render_item(item: EvidenceItem) -> str:
    rec = item.record
    return (f'<memory n="{item.n}" time="{_stamp(rec.timestamp)}" app="{_attr(rec.app)}" '
            f'title="{_attr(rec.title)}">\n{escape_untrusted(item.text)}\n</memory>\n')


def render_evidence(items: Sequence[EvidenceItem]) -> str:
    """The fenced evidence block handed to the model (untrusted part of the prompt)."""
    body = "".join(render_item(i) for i in items)
    return f"<evidence>\n{body}</evidence>\n"
