from datetime import UTC, datetime, timedelta

import numpy as np

from core.index import IndexFilter, MemoryIndex, make_snippet, tokenize
from core.records import (
    MemoryRecord,
    decode_payload,
    decode_vectors,
    encode_payload,
    encode_vectors,
)
from core.types import MonitorGeometry, OcrLine, OcrResult

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def rec(i: int, text: str, app: str = "editor", title: str = "", hours: int = 0):
    return MemoryRecord(id=f"m{i}", timestamp=T0 + timedelta(hours=hours), app=app,
                        title=title, ocr=OcrResult((OcrLine(text, 0.9, (0, 0, 10, 10)),)))


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_dense_and_keyword_hybrid_ranking():
    idx = MemoryIndex(dim=3)
    idx.add([rec(1, "the quarterly budget"), rec(2, "cat pictures"), rec(3, "budget budget")],
            [unit([[1, 0, 0]]), unit([[0, 1, 0]]), unit([[0.6, 0.8, 0]])])
    hits = idx.search(unit([1, 0, 0]), "budget", IndexFilter(), 10)
    assert [h.record.id for h in hits][:2] == ["m1", "m3"]
    assert hits[0].score <= 1.0
    only_kw = idx.search(None, "cat", IndexFilter(), 10)
    assert only_kw[0].record.id == "m2" and 0 < only_kw[0].keyword <= 1.0
    # A stopword alone must not decide the ranking.
    assert idx.search(None, "the cat", IndexFilter(), 10)[0].record.id == "m2"


def test_chunks_fuse_to_one_vector_and_filters_apply():
    idx = MemoryIndex(dim=2)
    idx.add([rec(1, "a", app="Firefox", hours=0), rec(2, "b", app="Terminal", hours=5)],
            [np.array([[0, 1], [1, 0]], dtype=np.float32), unit([[0.9, 0.1]])])
    hits = idx.search(unit([1, 0]), "", IndexFilter(), 10)
    # m1's fused vector is the normalised mean of its chunks: (0.707, 0.707).
    assert hits[0].record.id == "m2"
    assert abs(hits[1].dense - 0.7071) < 0.01
    assert [h.record.id for h in idx.search(unit([1, 0]), "", IndexFilter(app="term"), 10)] \
        == ["m2"]
    since = idx.search(unit([1, 0]), "", IndexFilter(since=T0 + timedelta(hours=1)), 10)
    assert [h.record.id for h in since] == ["m2"]
    until = idx.search(unit([1, 0]), "", IndexFilter(until=T0 + timedelta(hours=1)), 10)
    assert [h.record.id for h in until] == ["m1"]


def test_remove_and_clear():
    idx = MemoryIndex(dim=2)
    idx.add([rec(1, "alpha"), rec(2, "beta")], [unit([[1, 0]]), unit([[0, 1]])])
    idx.remove(["m1"])
    assert "m1" not in idx and len(idx) == 1
    assert [h.record.id for h in idx.search(unit([1, 0]), "alpha", IndexFilter(), 5)] == ["m2"]
    idx.clear()
    assert len(idx) == 0 and idx.records() == []


def test_tokenize_and_snippet():
    assert tokenize("Hello, WORLD! 42 a") == ["hello", "world", "42"]
    text = "word " * 50 + "needle in the haystack " + "word " * 50
    snip = make_snippet(text, "Needle", 60)
    assert "needle" in snip and len(snip) <= 62
    assert make_snippet("short text", "x", 60) == "short text"


def test_payload_and_vector_roundtrip():
    r = MemoryRecord(id="abc", timestamp=T0, app="firefox", title="Ünïcode — title",
                     ocr=OcrResult((OcrLine("hello", 0.5, (1, 2, 3, 4)),)), url="https://x",
                     pid=42, origin="import", source="a.png",
                     monitor=MonitorGeometry(1, 0, 0, 1920, 1080, 2.0), width=1920, height=1080)
    back = decode_payload("abc", encode_payload(r))
    assert back == r
    vec = np.random.default_rng(0).standard_normal((3, 384)).astype(np.float32)
    out = decode_vectors(encode_vectors(vec))
    assert out.shape == (3, 384) and np.allclose(out, vec, atol=1e-2)


def test_searching_while_another_thread_adds_and_removes():
    """The GUI's workers search while another brings the index up to date (new memories,
    a forget): a reader never sees half of an update (it raised IndexError)."""
    import sys
    import threading

    idx = MemoryIndex(dim=3)
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        i = 0
        try:
            while not stop.is_set():
                batch = [rec(i + k, f"budget report {i + k}") for k in range(20)]
                idx.add(batch, [unit([[1, (i + k) % 7, 0]]) for k in range(20)])
                idx.remove([f"m{i + k}" for k in range(0, 20, 2)])
                i += 20
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(300):
            idx.search(unit([1, 0, 0]), "budget", IndexFilter(), 5)
            idx.records_between()
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(old)
    assert not errors
    assert len(idx) > 0
