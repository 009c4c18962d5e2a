"""At scale the index must not decrypt the whole history to answer "what is in this time
range", "what still needs a caption" or "what was imported": those come from its metadata,
and only the matching records are decrypted (through the loader)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from core.index import MemoryIndex
from core.records import MemoryRecord
from core.retrieval.latent import LatentIndex
from core.types import OcrLine, OcrResult

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)


def make(i: int, *, app: str = "editor", caption: str | None = None,
         origin: str = "capture") -> MemoryRecord:
    return MemoryRecord(id=f"{i:032x}", timestamp=T0 + timedelta(hours=i), app=app,
                        title=f"t{i}", ocr=OcrResult((OcrLine(f"line {i}", 0.9, (0, 0, 1, 1)),)),
                        caption=caption, origin=origin)


def reloaded(records: list[MemoryRecord], *, drop_flags: bool = False
             ) -> tuple[MemoryIndex, list[list[str]]]:
    """An index rebuilt from its state (like a snapshot at unlock) with a counting loader."""
    src = MemoryIndex(dim=2)
    src.add(records, [np.ones((1, 2), np.float32) for _ in records])
    state = src.latent.state()
    if drop_flags:
        del state["meta.flags"]
    by_id = {r.id: r for r in records}
    calls: list[list[str]] = []

    def loader(ids):
        calls.append(list(ids))
        return [by_id[i] for i in ids]

    return MemoryIndex.from_latent(LatentIndex.from_state(state), loader), calls


def test_time_range_and_app_decrypt_only_the_matching_records():
    records = [make(i, app="firefox" if i % 2 else "terminal") for i in range(20)]
    idx, calls = reloaded(records)
    got = idx.records_between(T0 + timedelta(hours=5), T0 + timedelta(hours=9), "fire")
    assert [r.id for r in got] == [records[i].id for i in (5, 7)]
    assert sorted(sum(calls, [])) == sorted(records[i].id for i in (5, 7))
    assert sorted(idx.apps()) == ["firefox", "terminal"] and len(calls) == 1


def test_pending_captions_and_imports_come_from_flags_without_decrypting():
    records = [make(i, caption="c" if i < 6 else None,
                    origin="import" if i in (2, 8) else "capture") for i in range(10)]
    idx, calls = reloaded(records)
    assert idx.pending_ids(want_images=False) == [records[i].id for i in (9, 8, 7, 6)]
    assert calls == []
    assert [r.id for r in idx.imported_records()] == [records[2].id, records[8].id]
    assert sorted(sum(calls, [])) == sorted([records[2].id, records[8].id])
    # a caption written later flips the flag
    idx.replace(replace(records[9], caption="now captioned"), np.ones((1, 2), np.float32),
                None)
    assert records[9].id not in idx.pending_ids(want_images=False)


def test_a_snapshot_without_flags_falls_back_to_decrypting():
    records = [make(i, caption="c" if i % 2 else None) for i in range(6)]
    idx, calls = reloaded(records, drop_flags=True)
    assert not idx.latent.flags_known
    assert idx.pending_ids(want_images=False) == [records[i].id for i in (4, 2, 0)]
    assert calls  # had to decrypt


def test_flags_of_the_wrong_length_are_not_trusted_and_adds_still_work():
    records = [make(i) for i in range(4)]
    src = MemoryIndex(dim=2)
    src.add(records, [np.ones((1, 2), np.float32) for _ in records])
    state = src.latent.state()
    state["meta.flags"] = state["meta.flags"][:0]
    latent = LatentIndex.from_state(state)
    assert not latent.flags_known
    latent.add("f" * 32, T0, "editor", None, np.ones(2, np.float32), ["x"])
    assert latent.pos_of["f" * 32] == 4
