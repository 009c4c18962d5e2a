"""Split a memory's text into overlapping chunks for embedding.

The text encoder reads at most ``max_tokens`` word pieces; a full screen of
text is often longer, so it is embedded in word windows and the memory keeps
one vector per chunk (at most ``max_chunks``).
"""

from __future__ import annotations


def chunk_text(title: str, body: str, *, words_per_chunk: int = 120, overlap: int = 20,
               max_chunks: int = 8) -> list[str]:
    words = body.split()
    head = title.strip()
    if not words:
        return [head or " "]
    step = max(1, words_per_chunk - overlap)
    chunks: list[str] = []
    for start in range(0, len(words), step):
        piece = " ".join(words[start:start + words_per_chunk])
        chunks.append(f"{head}\n{piece}" if head else piece)
        if start + words_per_chunk >= len(words) or len(chunks) >= max_chunks:
            break
    return chunks
