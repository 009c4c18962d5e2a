"""RecentEmbeddings (the capture service's embedder): a chunk embedded recently is not
embedded again, results keep their order and equal the inner embedder's, memory is bounded."""

from __future__ import annotations

import numpy as np

from core.embed import RecentEmbeddings


class CountingEmbedder:
    model_id = "fake"
    dim = 4

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        out = np.array([[len(t), t.count("a"), t.count("e"), 1.0] for t in texts],
                       dtype=np.float32).reshape(-1, 4)
        return out / np.linalg.norm(out, axis=1, keepdims=True).clip(1e-9)


def test_recent_chunks_are_not_embedded_again():
    inner = CountingEmbedder()
    cached = RecentEmbeddings(inner, capacity=3)
    first = cached.embed(["alpha", "beta", "gamma"])
    assert inner.seen == ["alpha", "beta", "gamma"]
    again = cached.embed(["gamma", "delta", "alpha"])
    assert inner.seen[3:] == ["delta"]  # only the new chunk
    assert np.allclose(again[0], first[2]) and np.allclose(again[2], first[0])
    assert np.allclose(again, CountingEmbedder().embed(["gamma", "delta", "alpha"]))
    assert cached.hits == 2 and cached.model_id == "fake" and cached.dim == 4
    cached.embed(["epsilon", "zeta"])  # capacity 3: the least recently used go
    assert len(cached._items) == 3
    assert cached.embed([]).shape == (0, 4)
    cached.clear()
    cached.embed(["alpha"])
    assert inner.seen[-1] == "alpha"
