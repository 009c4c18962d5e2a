"""The encrypted index snapshot: a whole in-memory index sealed as one file.

Decrypting and re-indexing a million rows at unlock would take minutes, so when the
vault locks (or the app closes) the index's numpy arrays are written as one file,
sealed with a fresh random data key (AES-256-GCM via :func:`core.vault.seal_field`)
and loaded in one sequential read at the next unlock (SECURITY.md R1, R6).

Layout: ``MAGIC | key id (16 B) | snapshot id (16 B) | u32 n_segments`` then, per
segment, ``u32 length | sealed envelope``. Segment 0 is the sealed JSON manifest
(array names, dtypes, shapes, offsets); the others are the arrays' bytes cut in
16 MiB pieces. Each envelope's associated data binds it to the snapshot id and its
segment number, so segments cannot be reordered, swapped between snapshots or
truncated unnoticed. Decryption writes into one preallocated buffer, so the peak
memory is the index plus one segment.

Forgetting anything deletes the snapshot file and destroys its key
(:func:`discard_snapshot`); a fresh one is written at the next lock.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import DecryptionFailed, StoreError
from core.vault import DataKey, FieldRef, open_field, seal_field

MAGIC = b"AISNAP01"
SEGMENT = (1 << 24) - 4  # plaintext bytes per segment; framed size is exactly 2**24
_ALIGN = 64
TABLE = "index_snapshot"


def _ref(snapshot_id: str, segment: int) -> FieldRef:
    return FieldRef(TABLE, f"segment{segment}", snapshot_id)


def write_snapshot(path: Path, key: DataKey, arrays: dict[str, np.ndarray]) -> int:
    """Seal ``arrays`` into ``path`` atomically; returns the file size."""
    manifest: list[dict[str, object]] = []
    offset = 0
    views: list[memoryview] = []
    for name, arr in arrays.items():
        a = np.ascontiguousarray(arr)
        pad = (-offset) % _ALIGN
        if pad:
            views.append(memoryview(bytes(pad)))
            offset += pad
        manifest.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape),
                         "offset": offset})
        raw = a.data.cast("B") if a.size else memoryview(b"")
        views.append(raw)
        offset += raw.nbytes
    total = offset
    snapshot_id = os.urandom(16).hex()
    head = json.dumps({"arrays": manifest, "total": total}).encode()
    n_segments = 1 + (total + SEGMENT - 1) // SEGMENT
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + bytes.fromhex(key.key_id) + bytes.fromhex(snapshot_id))
            fh.write(struct.pack(">I", n_segments))

            def emit(segment: int, plain: bytes) -> None:
                env = seal_field(key, plain, _ref(snapshot_id, segment))
                fh.write(struct.pack(">I", len(env)))
                fh.write(env)

            emit(0, head)
            buf = bytearray()
            segment = 1
            for view in views:
                start = 0
                while start < view.nbytes:
                    take = min(SEGMENT - len(buf), view.nbytes - start)
                    buf += view[start:start + take]
                    start += take
                    if len(buf) == SEGMENT:
                        emit(segment, bytes(buf))
                        segment += 1
                        buf = bytearray()
            if buf:
                emit(segment, bytes(buf))
                segment += 1
            assert segment == n_segments
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"could not write the index snapshot ({exc.strerror})") from exc
    return path.stat().st_size


def snapshot_key_id(path: Path) -> str | None:
    """The data key id a snapshot was sealed with (None if there is no valid file)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(MAGIC) + 16)
    except OSError:
        return None
    if len(head) != len(MAGIC) + 16 or not head.startswith(MAGIC):
        return None
    return head[len(MAGIC):].hex()


def read_snapshot(path: Path, key: DataKey) -> dict[str, np.ndarray]:
    """Load and decrypt a snapshot (streamed: peak memory is the index plus one segment).

    Raises DecryptionFailed if it was tampered with, truncated or sealed with another key.
    """
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise StoreError(f"could not read the index snapshot ({exc.strerror})") from exc
    with fh:
        fixed = len(MAGIC) + 32 + 4
        start = fh.read(fixed)
        if len(start) < fixed or not start.startswith(MAGIC):
            raise DecryptionFailed("the index snapshot is not a snapshot file")
        if start[len(MAGIC):len(MAGIC) + 16].hex() != key.key_id:
            raise DecryptionFailed("the index snapshot was sealed with another key")
        snapshot_id = start[len(MAGIC) + 16:len(MAGIC) + 32].hex()
        (n_segments,) = struct.unpack(">I", start[len(MAGIC) + 32:])

        def segment(i: int) -> bytes:
            size = fh.read(4)
            if len(size) != 4:
                raise DecryptionFailed("the index snapshot is truncated")
            (length,) = struct.unpack(">I", size)
            env = fh.read(length)
            if len(env) != length:
                raise DecryptionFailed("the index snapshot is truncated")
            return open_field(key, env, _ref(snapshot_id, i))

        try:
            head = json.loads(segment(0))
            total = int(head["total"])
            arrays, places = _allocate(head["arrays"], total)
        except (ValueError, KeyError, TypeError) as exc:
            raise DecryptionFailed("the index snapshot manifest is malformed") from exc
        if n_segments != 1 + (total + SEGMENT - 1) // SEGMENT:
            raise DecryptionFailed("the index snapshot is truncated")
        # Each array gets its own allocation (not views into one big buffer), so that a
        # later re-allocation of one array (the index growing) frees the old copy.
        filled = 0
        first = 0
        for i in range(1, n_segments):
            plain = memoryview(segment(i))
            lo, hi = filled, filled + len(plain)
            while first < len(places) and places[first][0] + places[first][1].nbytes <= lo:
                first += 1
            for offset, dest in places[first:]:
                if offset >= hi:
                    break
                a, b = max(lo, offset), min(hi, offset + dest.nbytes)
                if a < b:
                    dest[a - offset:b - offset] = plain[a - lo:b - lo]
            filled = hi
        if filled != total or fh.read(1):
            raise DecryptionFailed("the index snapshot has the wrong length")
    return arrays


def _allocate(manifest: list[dict[str, Any]], total: int
              ) -> tuple[dict[str, np.ndarray], list[tuple[int, memoryview]]]:
    """Empty arrays for the manifest, and (stream offset, writable bytes) per array."""
    arrays: dict[str, np.ndarray] = {}
    places: list[tuple[int, memoryview]] = []
    for item in manifest:
        dtype = np.dtype(str(item["dtype"]))
        shape = tuple(int(x) for x in item["shape"])
        offset = int(item["offset"])
        arr = np.empty(shape, dtype=dtype)
        if offset < 0 or offset + arr.nbytes > total:
            raise ValueError("array outside the snapshot")
        arrays[str(item["name"])] = arr
        if arr.nbytes:
            places.append((offset, arr.reshape(-1).view(np.uint8).data))
    places.sort(key=lambda p: p[0])
    return arrays, places


def discard_snapshot(path: Path) -> str | None:
    """Delete the snapshot file; returns the key id the caller must destroy."""
    key_id = snapshot_key_id(path)
    for p in (path, path.with_suffix(".tmp")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"could not delete the index snapshot ({exc.strerror})") from exc
    return key_id
