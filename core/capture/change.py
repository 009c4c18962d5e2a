"""Cheap frame fingerprints: skip pixel-identical screenshots, measure how much changed."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import CaptureError

if TYPE_CHECKING:
    from PIL import Image

    from core.types import ScreenFrame

THUMB_WIDTH = 64
THUMB_HEIGHT = 36
# A thumbnail cell counts as changed when its grey level moves by more than this (0-255).
DEFAULT_CELL_THRESHOLD = 8

_MAGIC = b"AIFP"
_VERSION = 1
_HEADER = struct.Struct(">4sBIIHH")  # magic, version, width, height, thumb w, thumb h
_DIGEST_SIZE = 32  # sha256


def _exact_digest(image: Image.Image) -> bytes:
    # sha256 rather than blake2b: with SHA-NI (most x86 CPUs since ~2019) it is about
    # three times faster on a 6 MB frame, and it is never worse than blake2b by much.
    hasher = hashlib.sha256()
    hasher.update(f"{image.mode}:{image.width}x{image.height}:".encode("ascii"))
    hasher.update(image.tobytes())
    return hasher.digest()


def _thumbnail(image: Image.Image) -> bytes:
    from PIL import Image

    grey = image.convert("L")
    return grey.resize((THUMB_WIDTH, THUMB_HEIGHT), Image.Resampling.BOX).tobytes()


@dataclass(frozen=True)
class FrameFingerprint:
    """An exact hash of a frame's pixels plus a 64x36 grey thumbnail of it."""

    width: int
    height: int
    digest: bytes  # sha256 over mode, size and the full-resolution pixels
    thumbnail: bytes  # THUMB_WIDTH * THUMB_HEIGHT grey levels, row-major
    thumb_width: int = THUMB_WIDTH
    thumb_height: int = THUMB_HEIGHT

    @classmethod
    def of(cls, image: Image.Image) -> FrameFingerprint:
        return cls(
            width=image.width,
            height=image.height,
            digest=_exact_digest(image),
            thumbnail=_thumbnail(image),
        )

    def to_bytes(self) -> bytes:
        header = _HEADER.pack(
            _MAGIC, _VERSION, self.width, self.height, self.thumb_width, self.thumb_height
        )
        return header + self.digest + self.thumbnail

    @classmethod
    def from_bytes(cls, data: bytes) -> FrameFingerprint:
        if len(data) < _HEADER.size + _DIGEST_SIZE:
            raise CaptureError("Stored frame fingerprint is truncated")
        magic, version, width, height, thumb_w, thumb_h = _HEADER.unpack_from(data)
        if magic != _MAGIC or version != _VERSION:
            raise CaptureError(f"Stored frame fingerprint has an unknown format (v{version})")
        body = data[_HEADER.size :]
        digest, thumbnail = body[:_DIGEST_SIZE], body[_DIGEST_SIZE:]
        if len(thumbnail) != thumb_w * thumb_h:
            raise CaptureError("Stored frame fingerprint has a thumbnail of the wrong size")
        return cls(width, height, bytes(digest), bytes(thumbnail), thumb_w, thumb_h)


def is_same(prev: FrameFingerprint, new: FrameFingerprint) -> bool:
    """True only when both frames are pixel-identical."""
    return (prev.width, prev.height, prev.digest) == (new.width, new.height, new.digest)


def changed_fraction(
    prev: FrameFingerprint, new: FrameFingerprint, threshold: int = DEFAULT_CELL_THRESHOLD
) -> float:
    """Fraction (0.0-1.0) of thumbnail cells whose grey level changed by more than threshold.

    Frames of different sizes count as entirely changed.
    """
    if (prev.width, prev.height, prev.thumb_width, prev.thumb_height) != (
        new.width,
        new.height,
        new.thumb_width,
        new.thumb_height,
    ):
        return 1.0
    cells = len(new.thumbnail)
    if cells == 0:
        return 0.0
    changed = sum(
        1 for a, b in zip(prev.thumbnail, new.thumbnail, strict=True) if abs(a - b) > threshold
    )
    return changed / cells


class IdenticalFrameFilter:
    """Remembers the last fingerprint per monitor index and flags pixel-identical repeats.

    ``restore``/``last_fingerprints`` let the caller persist the state between runs
    (via :meth:`FrameFingerprint.to_bytes`).
    """

    def __init__(self, last: Mapping[int, FrameFingerprint] | None = None) -> None:
        self._last: dict[int, FrameFingerprint] = dict(last or {})

    def is_duplicate(self, frame: ScreenFrame) -> bool:
        """Fingerprint ``frame``, remember it, and say whether it repeats the previous one."""
        fingerprint = FrameFingerprint.of(frame.image)
        previous = self._last.get(frame.monitor.index)
        self._last[frame.monitor.index] = fingerprint
        return previous is not None and is_same(previous, fingerprint)

    def last(self, monitor_index: int) -> FrameFingerprint | None:
        return self._last.get(monitor_index)

    def last_fingerprints(self) -> dict[int, FrameFingerprint]:
        return dict(self._last)

    def restore(self, last: Mapping[int, FrameFingerprint]) -> None:
        self._last = dict(last)

    def reset(self) -> None:
        self._last.clear()
