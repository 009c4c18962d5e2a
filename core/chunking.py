"""Split a memory's text into chunks for embedding, at boundaries the text itself chooses.

The text encoder reads at most ~256 word pieces; a screen of text is often ten times longer,
so it is embedded in chunks of about ``words_per_chunk`` words and the memory keeps one
vector per chunk (at most ``max_chunks``).

Chunks are cut **between lines, where the content says so** (content-defined chunking, as
in rsync and backup tools), not every N words. Consecutive captures of one screen differ
by a typed word, a scroll or a window switch; with fixed word windows an inserted word
shifts every later chunk, so every later chunk is embedded again. Here a line ends a chunk
when its own hash says so (once the chunk holds ``min_words``), so a typed word changes the
chunk that holds its line (and at most its neighbours), and a scrolled view cuts its
unchanged lines into the same chunks as before. The capture service's embedder reuses the
vectors of chunks it has seen (core/embed.py), so only changed chunks cost CPU.

Each chunk after the first starts with the last line of the chunk before it, so a phrase
that spans a boundary is still embedded whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

# Past MIN_PART % of words_per_chunk, a line ends its chunk with probability 1 / CUT_EVERY;
# no chunk grows past MAX_PART %. With ~12 words a line, chunks average about words_per_chunk
# (130 words: ~170 MiniLM tokens of English, under the encoder's 256).
CUT_EVERY = 3
MIN_PART = 75
MAX_PART = 130


def _is_cut(line: str) -> bool:
    digest = hashlib.blake2b(line.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "little") % CUT_EVERY == 0


def _units(body: str, max_words: int) -> Iterator[list[str]]:
    """Lines as word lists; a line longer than ``max_words`` (text without line breaks)
    comes in pieces of ``max_words // 2``."""
    for line in body.splitlines():
        words = line.split()
        if not words:
            continue
        if len(words) <= max_words:
            yield words
            continue
        step = max(1, max_words // 2)
        for start in range(0, len(words), step):
            yield words[start:start + step]


def chunk_text(title: str, body: str, *, words_per_chunk: int = 130,
               max_chunks: int = 8) -> list[str]:
    """Title + body as at most ``max_chunks`` chunks of roughly ``words_per_chunk`` words
    (0.75 to 1.3 times that), cut between lines by content."""
    head = title.strip()
    min_words = max(1, words_per_chunk * MIN_PART // 100)
    max_words = max(min_words + 1, words_per_chunk * MAX_PART // 100)
    chunks: list[list[str]] = []
    current: list[list[str]] = []
    size = 0
    for unit in _units(body, max_words):
        if current and size + len(unit) > max_words:
            chunks.append([" ".join(u) for u in current])
            current, size = [current[-1]], len(current[-1])
            if len(chunks) == max_chunks:
                break
        current.append(unit)
        size += len(unit)
        if size >= min_words and _is_cut(" ".join(unit)):
            chunks.append([" ".join(u) for u in current])
            current, size = [unit], len(unit)
            if len(chunks) == max_chunks:
                break
    else:
        # the rest, unless it is only the line carried over from the chunk before
        if current and (not chunks or len(current) > 1):
            chunks.append([" ".join(u) for u in current])
    if not chunks:
        return [head or " "]
    return [f"{head}\n" + "\n".join(lines) if head else "\n".join(lines) for lines in chunks]
