"""Timeline listing from plaintext hour buckets, per-hour metadata, single-record reads."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core.config import Config, Paths
from core.errors import VaultLocked
from core.memory import Memory
from core.records import MemoryRecord
from core.store import NewMemory
from core.timeline import MomentSummary, find_gaps
from core.types import OcrLine, OcrResult
from core.vault import KdfParams
from tests.support import PASSPHRASE


def _memory(tmp_path) -> Memory:
    paths = Paths(config_file=tmp_path / "c.toml", data_dir=tmp_path)
    return Memory.create(Config(), paths, PASSPHRASE,
                         kdf=KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1))


def _item(ts: datetime, app: str, thumb: bool) -> NewMemory:
    rec = MemoryRecord(id=os.urandom(16).hex(), timestamp=ts, app=app, title=f"{app} window",
                       ocr=OcrResult((OcrLine("private words", 0.9, (0, 0, 10, 10)),)))
    return NewMemory(record=rec, vectors=np.ones((1, 384), dtype=np.float32) / 384 ** 0.5,
                     thumbnail=b"jpeg" if thumb else None, frame=None)


def test_hours_moments_and_records(tmp_path):
    memory = _memory(tmp_path)
    base = datetime(2024, 5, 13, 9, 0, tzinfo=UTC)
    items = [_item(base + timedelta(minutes=m), "code", m % 2 == 0) for m in (1, 2, 40)]
    items += [_item(base + timedelta(hours=2, minutes=5), "firefox", False)]
    ids = memory._store.add(items)
    hours = memory.timeline_hours()
    assert [(h.start.hour, h.count) for h in hours] == [(9, 3), (11, 1)]
    moments = memory.moments_in_hour(hours[0].bucket)
    assert [m.id for m in moments] == ids[:3]
    assert moments[0].app == "code" and moments[0].title == "code window"
    assert [m.tier for m in moments] == [2, 1, 1]  # text only, thumbnail, thumbnail
    record = memory.record(ids[3])
    assert record is not None and record.app == "firefox" and record.text == "private words"
    assert memory.record("0" * 32) is None
    memory.lock()
    assert len(memory.timeline_hours()) == 2  # plaintext buckets: no key needed
    with pytest.raises(VaultLocked):
        memory.moments_in_hour(hours[0].bucket)
    with pytest.raises(VaultLocked):
        memory.record(ids[0])
    memory.close()


def test_gaps():
    t = datetime(2024, 1, 1, tzinfo=UTC)
    moments = [MomentSummary(str(i), t + timedelta(seconds=s), "a", "", 0)
               for i, s in enumerate((0, 3, 6, 600, 603))]
    gaps = find_gaps(moments, 120)
    assert len(gaps) == 1 and gaps[0].seconds == 594 and gaps[0].reason is None
