"""Redaction: replace secrets in OCR text and black out their boxes in the pixels.

Runs before the thumbnail, the stored frame, the embedding or any caption is made, so none
of them ever sees the secret. Two modes (``PrivacyPolicy.redact_mode``):

- ``line`` (default): the whole OCR line box that holds any part of a secret is blacked
  out. Safe whatever the font: the box is what the OCR engine found the text in.
- ``span``: only the secret's share of the line is blacked out, estimated from its
  character offsets in proportion to the box width and widened by two average character
  widths on each side (proportional fonts make the estimate approximate); a secret that
  covers more than 60% of the line takes the whole box. Keeps the rest of the line legible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageDraw

from core.privacy.detectors import SensitiveMatch
from core.privacy.policy import REDACT_LINE
from core.types import OcrLine, OcrResult

BOX_PAD_PX = 2
SPAN_MARGIN_CHARS = 2.0
WHOLE_LINE_SHARE = 0.6


def placeholder(kind: str) -> str:
    return f"[redacted {kind.replace('_', ' ')}]"


@dataclass(frozen=True)
class Redaction:
    image: Image.Image
    ocr: OcrResult
    boxes: tuple[tuple[int, int, int, int], ...]  # blacked-out rectangles (image pixels)


def _line_spans(lines: tuple[OcrLine, ...]) -> list[tuple[int, int]]:
    """Start/end offsets of each line in ``"\\n".join(texts)``."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in lines:
        spans.append((pos, pos + len(line.text)))
        pos += len(line.text) + 1
    return spans


def _span_box(line: OcrLine, start: int, end: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = line.box
    n = max(1, len(line.text))
    if (end - start) / n > WHOLE_LINE_SHARE:
        return line.box
    char_w = (x1 - x0) / n
    left = x0 + start * char_w - SPAN_MARGIN_CHARS * char_w
    right = x0 + end * char_w + SPAN_MARGIN_CHARS * char_w
    return (max(x0, int(left)), y0, min(x1, int(right + 0.999)), y1)


def redact(image: Image.Image, ocr: OcrResult, matches: Iterable[SensitiveMatch],
           mode: str = REDACT_LINE) -> Redaction:
    """A copy of ``image`` and ``ocr`` with every match replaced and blacked out."""
    lines = ocr.lines
    spans = _line_spans(lines)
    # per line: list of (start, end, kind) in line-local offsets
    cuts: dict[int, list[tuple[int, int, str]]] = {}
    for m in matches:
        for i, (s, e) in enumerate(spans):
            lo, hi = max(m.start, s), min(m.end, e)
            if lo < hi or (m.start <= s and m.end >= e and s == e):
                cuts.setdefault(i, []).append((lo - s, hi - s, m.kind))
    boxes: list[tuple[int, int, int, int]] = []
    new_lines: list[OcrLine] = []
    for i, line in enumerate(lines):
        pieces = cuts.get(i)
        if not pieces:
            new_lines.append(line)
            continue
        text = line.text
        merged = _merge(pieces)
        for start, end, kind in reversed(merged):
            text = text[:start] + placeholder(kind) + text[end:]
            if mode != REDACT_LINE:
                boxes.append(_span_box(line, start, end))
        if mode == REDACT_LINE:
            boxes.append(line.box)
        new_lines.append(OcrLine(text=text, confidence=line.confidence, box=line.box))
    out = image.copy() if boxes else image
    if boxes:
        draw = ImageDraw.Draw(out)
        w, h = out.size
        for x0, y0, x1, y1 in boxes:
            draw.rectangle((max(0, x0 - BOX_PAD_PX), max(0, y0 - BOX_PAD_PX),
                            min(w - 1, x1 + BOX_PAD_PX), min(h - 1, y1 + BOX_PAD_PX)),
                           fill=(0, 0, 0))
    return Redaction(image=out, ocr=OcrResult(tuple(new_lines)), boxes=tuple(boxes))


def _merge(pieces: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    pieces = sorted(pieces)
    out: list[tuple[int, int, str]] = []
    for start, end, kind in pieces:
        if out and start <= out[-1][1]:
            ps, pe, pk = out[-1]
            out[-1] = (ps, max(pe, end), pk)
        else:
            out.append((start, end, kind))
    return out


def redact_text(text: str, matches: Iterable[SensitiveMatch]) -> str:
    """``text`` with every match replaced by its placeholder (window titles, URLs)."""
    pieces = _merge([(m.start, m.end, m.kind) for m in matches])
    for start, end, kind in reversed(pieces):
        text = text[:start] + placeholder(kind) + text[end:]
    return text
