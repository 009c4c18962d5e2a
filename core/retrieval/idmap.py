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

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


class IdList:
    """position -> id, append-only.

    Memory ids are 32 lowercase hex digits (``secrets.token_hex(16)``), so they are kept as
    their 16 raw bytes (16 MB per million instead of 32); any other id switches the list
    to fixed-width text (tests, imports from older versions).
    """

    def __init__(self, arr: npt.NDArray[np.bytes_] | None = None) -> None:
        self._raw = np.zeros((0, 16), dtype=np.uint8)  # hex mode: 16 bytes per id
        self._text: npt.NDArray[np.bytes_] | None = None  # text mode: fixed-width ids
        self._n = 0
        if arr is not None:
            self._n = int(arr.shape[0])
            raw = _hex_to_raw(arr)
            if raw is None:
                self._text = arr
            else:
                self._raw = raw

    @classmethod
    def from_raw(cls, raw: npt.NDArray[np.uint8]) -> IdList:
        out = cls()
        out._raw = np.asarray(raw, dtype=np.uint8).reshape(-1, 16)
        out._n = int(out._raw.shape[0])
        return out

    @property
    def hex_mode(self) -> bool:
        return self._text is None

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, pos: int) -> str:
        if not 0 <= pos < self._n:
            raise IndexError(pos)
        if self._text is None:
            return bytes(self._raw[pos]).hex()
        return bytes(self._text[pos]).decode("utf-8")

    def append(self, memory_id: str) -> None:
        if self._text is None:
            raw16 = _parse_hex(memory_id)
            if raw16 is not None:
                if self._n >= self._raw.shape[0]:
                    grown = np.zeros((max(1024, int(self._n * 1.25) + 1), 16), np.uint8)
                    grown[:self._n] = self._raw[:self._n]
                    self._raw = grown
                self._raw[self._n] = np.frombuffer(raw16, dtype=np.uint8)
                self._n += 1
                return
            self._text = np.array([bytes(r).hex().encode() for r in self._raw[:self._n]],
                                  dtype="S32").reshape(-1)
            self._raw = np.zeros((0, 16), dtype=np.uint8)
        raw = memory_id.encode("utf-8")
        if len(raw) > self._text.dtype.itemsize:
            self._text = self._text.astype(f"S{len(raw)}")
        if self._n >= self._text.shape[0]:
            grown_text = np.zeros(max(1024, int(self._n * 1.25) + 1), self._text.dtype)
            grown_text[:self._n] = self._text[:self._n]
            self._text = grown_text
        self._text[self._n] = raw
        self._n += 1

    def array(self) -> np.ndarray:
        """One fixed-width item per id (for hashing): raw 16-byte records or text."""
        if self._text is None:
            return self._raw[:self._n].view("V16").reshape(-1)
        return self._text[:self._n]

    def key_for(self, memory_id: str) -> np.ndarray | None:
        """``memory_id`` in :meth:`array`'s representation (None: it cannot be in here)."""
        if self._text is None:
            raw16 = _parse_hex(memory_id)
            if raw16 is None:
                return None
            return np.frombuffer(raw16, dtype=np.uint8).view("V16").reshape(-1)
        raw = memory_id.encode("utf-8")
        width = self._text.dtype.itemsize
        if len(raw) > width:
            return None
        return np.array([raw], dtype=f"S{width}")

    def state(self) -> dict[str, np.ndarray]:
        if self._text is None:
            return {"ids16": self._raw[:self._n]}
        return {"ids": self._text[:self._n]}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> IdList:
        if "ids16" in state:
            return cls.from_raw(np.array(state["ids16"], dtype=np.uint8))
        return cls(np.array(state["ids"]))  # older snapshots: text (converted when hex)

    def tolist(self) -> list[str]:
        return [self[i] for i in range(self._n)]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IdList):
            return self.tolist() == other.tolist()
        return NotImplemented

    def nbytes(self) -> int:
        return int(self._raw.nbytes if self._text is None else self._text.nbytes)


def _parse_hex(memory_id: str) -> bytes | None:
    if len(memory_id) != 32 or memory_id != memory_id.lower():
        return None
    try:
        return bytes.fromhex(memory_id)
    except ValueError:
        return None


def _hex_to_raw(arr: npt.NDArray[np.bytes_]) -> npt.NDArray[np.uint8] | None:
    """Text ids -> raw 16-byte rows, when every id is 32 lowercase hex digits."""
    n = int(arr.shape[0])
    if arr.dtype.itemsize != 32:
        return None if n else np.zeros((0, 16), np.uint8)
    chars = np.frombuffer(np.ascontiguousarray(arr).tobytes(), dtype=np.uint8)
    if not np.isin(chars, _HEX_DIGITS).all():
        return None
    return np.frombuffer(bytes.fromhex(chars.tobytes().decode("ascii")),
                         dtype=np.uint8).reshape(n, 16).copy()


def id_hashes(arr: np.ndarray) -> npt.NDArray[np.uint64]:
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
        self._built_hex = self._ids.hex_mode
        self._pos = order
        self._merged = n
        self._tail = {}

    def __len__(self) -> int:
        return self._count

    def get(self, memory_id: str, default: int | None = None) -> int | None:
        if self._ids.hex_mode != self._built_hex:  # the ids switched representation
            self._build(len(self._ids))
        pos = self._tail.get(memory_id)
        if pos is None and self._keys.shape[0]:
            probe = self._ids.key_for(memory_id)
            if probe is not None:
                key = id_hashes(probe)[0]
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
