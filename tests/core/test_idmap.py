"""IdList / PosMap: memory ids held compactly, looked up exactly, across snapshots."""

from __future__ import annotations

import secrets

import numpy as np

from core.retrieval.idmap import IdList, PosMap


def test_hex_ids_take_16_bytes_and_round_trip_through_state():
    ids = [secrets.token_hex(16) for _ in range(3000)]
    lst = IdList()
    for i in ids:
        lst.append(i)
    assert lst.hex_mode and lst.nbytes() <= 16 * 4000  # raw bytes, with growth headroom
    assert lst.tolist() == ids
    back = IdList.from_state(lst.state())
    assert back.tolist() == ids and back.hex_mode
    pos = PosMap(back)
    assert all(pos[i] == n for n, i in enumerate(ids[:200]))
    assert pos.get(secrets.token_hex(16)) is None
    assert pos.get(ids[5].upper()) is None  # ids are exact, not case-folded


def test_other_ids_switch_to_text_without_losing_earlier_ones():
    first = secrets.token_hex(16)
    lst = IdList()
    lst.append(first)
    lst.append("imported-legacy-id-0001")
    lst.append(secrets.token_hex(16))
    assert not lst.hex_mode
    assert lst[0] == first and lst[1] == "imported-legacy-id-0001"
    back = IdList.from_state(lst.state())
    assert back.tolist() == lst.tolist()
    pos = PosMap(back)
    assert pos["imported-legacy-id-0001"] == 1 and pos[first] == 0


def test_a_snapshot_with_text_ids_loads_into_the_compact_form():
    ids = [secrets.token_hex(16) for _ in range(50)]
    old = {"ids": np.array([i.encode() for i in ids], dtype="S32")}
    lst = IdList.from_state(old)
    assert lst.hex_mode and lst.tolist() == ids
    pos = PosMap(lst, np.ones(50, np.bool_))
    pos.pop(ids[3])
    assert ids[3] not in pos and pos[ids[4]] == 4
    lst.append("not-a-hex-id")  # switches mode, keeps everything, lookups still work
    pos["not-a-hex-id"] = 50
    assert lst.tolist()[:50] == ids
    assert pos[ids[7]] == 7 and pos["not-a-hex-id"] == 50 and ids[3] not in pos
