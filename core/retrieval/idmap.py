"""Memory ids held compactly: a million ids as one bytes array, not a million str + dict
entries (~180 MB of Python objects -> ~40 MB).

:class:`IdList` maps position -> id (append-only). :class:`PosMap` maps a live id ->
position: a sorted copy searched with ``np.searchsorted`` plus a small dict for ids
added since the last merge; removals flip a bit.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt


class IdList:
    def __init__(self, arr: npt.NDArray[np.bytes_] | None = None) -> None:
        self._arr: npt.NDArray[np.bytes_] = arr if arr is not None else np.zeros(0, "S32")
        self._n = 0 if arr is None else int(arr.shape[0])

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, pos: int) -> str:
        if not 0 <= pos < self._n:
            raise IndexError(pos)
        return bytes(self._arr[pos]).decode("utf-8")

    def append(self, memory_id: str) -> None:
        raw = memory_id.encode("utf-8")
        width = self._arr.dtype.itemsize
        if len(raw) > width:
            self._arr = self._arr.astype(f"S{len(raw)}")
        if self._n >= self._arr.shape[0]:
            grown = np.zeros(max(1024, int(self._n * 1.25) + 1), self._arr.dtype)
            grown[:self._n] = self._arr[:self._n]
            self._arr = grown
        self._arr[self._n] = raw
        self._n += 1

    def array(self) -> npt.NDArray[np.bytes_]:
        return self._arr[:self._n]

    def tolist(self) -> list[str]:
        return [bytes(x).decode("utf-8") for x in self._arr[:self._n]]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IdList):
            return self.tolist() == other.tolist()
        return NotImplemented

    def nbytes(self) -> int:
        return int(self._arr.nbytes)


def id_hashes(arr: npt.NDArray[np.bytes_]) -> npt.NDArray[np.uint64]:
    """A 64-bit hash per fixed-width id (vectorised; collisions are checked by callers)."""
    width = arr.dtype.itemsize
    padded = (width + 7) // 8 * 8
    raw = np.zeros((arr.shape[0], padded), dtype=np.uint8)
    if arr.shape[0]:
        raw[:, :width] = np.frombuffer(arr.tobytes(), dtype=np.uint8).reshape(-1, width)
    words = raw.view("<u8")
    h = np.full(arr.shape[0], 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(words.shape[1]):
            h = (h ^ words[:, j]) * np.uint64(0x100000001B3)
            h ^= h >> np.uint64(29)
    return h


class PosMap:
    """live id -> position."""

    def __init__(self, ids: IdList, live: npt.NDArray[np.bool_] | None = None,
                 *, merge_at: int = 50_000) -> None:
        self._ids = ids
        self._merge_at = merge_at
        n = len(ids)
        self._dead = np.zeros(max(n, 1024), np.bool_)
        if live is not None:
            self._dead[:n] = ~live[:n]
        self._tail: dict[str, int] = {}
        self._count = int(n - np.count_nonzero(self._dead[:n]))
        self._build(n)

    def _build(self, n: int) -> None:
        hashes = id_hashes(self._ids.array()[:n])
        order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._keys = hashes[order]  # 8 bytes per id instead of a copy of the id
        self._pos = order
        self._merged = n
        self._tail = {}

    def __len__(self) -> int:
        return self._count

    def get(self, memory_id: str, default: int | None = None) -> int | None:
        pos = self._tail.get(memory_id)
        if pos is None and self._keys.shape[0]:
            raw = memory_id.encode("utf-8")
            width = self._ids.array().dtype.itemsize
            if len(raw) <= width:
                key = id_hashes(np.array([raw], dtype=f"S{width}"))[0]
                i = int(np.searchsorted(self._keys, key))
                while i < self._keys.shape[0] and self._keys[i] == key:
                    cand = int(self._pos[i])
                    if not self._dead[cand] and self._ids[cand] == memory_id:
                        pos = cand
                        break
                    i += 1
        if pos is None or self._dead[pos]:
            return default
        return pos

    def __contains__(self, memory_id: object) -> bool:
        return isinstance(memory_id, str) and self.get(memory_id) is not None

    def __getitem__(self, memory_id: str) -> int:
        pos = self.get(memory_id)
        if pos is None:
            raise KeyError(memory_id)
        return pos

    def __setitem__(self, memory_id: str, pos: int) -> None:
        """Register the id just appended at ``pos``."""
        if pos >= self._dead.shape[0]:
            grown = np.zeros(max(pos + 1, int(self._dead.shape[0] * 1.25)), np.bool_)
            grown[:self._dead.shape[0]] = self._dead
            self._dead = grown
        self._dead[pos] = False
        self._tail[memory_id] = pos
        self._count += 1
        if len(self._tail) >= self._merge_at:
            self._build(len(self._ids))

    def pop(self, memory_id: str) -> int:
        pos = self[memory_id]
        self._dead[pos] = True
        self._tail.pop(memory_id, None)
        self._count -= 1
        return pos

    def values(self) -> list[int]:
        n = len(self._ids)
        return np.flatnonzero(~self._dead[:n]).tolist()

    def __iter__(self) -> Iterator[str]:
        for pos in self.values():
            yield self._ids[pos]
