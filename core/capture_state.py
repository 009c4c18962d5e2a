"""Small plaintext state of the capture side: skip counters and last-frame fingerprints.

Only counts and fixed-size fingerprints are kept here (no text, no pixels):
skip counts by reason (SECURITY.md R10 asks for them to be visible) and, per
monitor, a keyed 16-byte hash of the last stored frame so that an identical
frame is not stored twice across separate ``capture --once`` runs. The hash key
is random per vault and stored next to it, so the hash reveals only "same frame
or not" about the *last* frame; this is documented in docs/security.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

SKIP_REASONS = ("unchanged", "excluded_app", "private_window", "sensitive", "own_window",
                "paused", "locked", "idle", "dropped_backlog", "error", "excluded_title",
                "excluded_url", "waiting_for_unlock", "coalesced")


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


@dataclass
class CaptureCounters:
    captured: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    last_capture: str | None = None  # ISO time of the last stored memory
    redacted: int = 0  # stored frames that had secrets redacted

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n


class CaptureState:
    """Persisted counters and last-frame hashes, shared by every capturing process."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory

    @property
    def _counters_path(self) -> Path:
        return self._dir / "capture-stats.json"

    @property
    def _frames_path(self) -> Path:
        return self._dir / "capture-last-frames.json"

    @property
    def _hash_key_path(self) -> Path:
        return self._dir / "capture-hash.key"

    def load_counters(self) -> CaptureCounters:
        try:
            data = json.loads(self._counters_path.read_text(encoding="ascii"))
            skipped = {str(k): int(v) for k, v in dict(data.get("skipped", {})).items()
                       if str(k) in SKIP_REASONS}
            last = data.get("last_capture")
            return CaptureCounters(captured=int(data.get("captured", 0)), skipped=skipped,
                                   last_capture=str(last) if last else None,
                                   redacted=int(data.get("redacted", 0)))
        except (OSError, ValueError, TypeError, AttributeError):
            return CaptureCounters()

    def save_counters(self, counters: CaptureCounters) -> None:
        payload = {"captured": counters.captured, "skipped": counters.skipped,
                   "last_capture": counters.last_capture, "redacted": counters.redacted}
        _atomic_write(self._counters_path, json.dumps(payload).encode("ascii"))

    def add(self, delta: CaptureCounters) -> CaptureCounters:
        current = self.load_counters()
        current.captured += delta.captured
        current.redacted += delta.redacted
        for reason, n in delta.skipped.items():
            current.skip(reason, n)
        if delta.last_capture:
            current.last_capture = delta.last_capture
        self.save_counters(current)
        return current

    def _hash_key(self) -> bytes:
        try:
            key = self._hash_key_path.read_bytes()
            if len(key) == 32:
                return key
        except OSError:
            pass
        key = secrets.token_bytes(32)
        _atomic_write(self._hash_key_path, key)
        return key

    def frame_hash(self, image: Image.Image) -> str:
        digest = hashlib.blake2b(key=self._hash_key(), digest_size=16)
        digest.update(f"{image.mode}:{image.width}x{image.height}:".encode("ascii"))
        digest.update(image.tobytes())
        return digest.hexdigest()

    def last_frames(self) -> dict[str, str]:
        try:
            data = json.loads(self._frames_path.read_text(encoding="ascii"))
            return {str(k): str(v) for k, v in dict(data).items()}
        except (OSError, ValueError, TypeError):
            return {}

    def save_last_frames(self, frames: dict[str, str]) -> None:
        _atomic_write(self._frames_path, json.dumps(frames).encode("ascii"))

    def reset(self) -> None:
        from core.gap_log import GAP_FILE  # the sealed capture-gap log goes with them

        for path in (self._counters_path, self._frames_path, self._dir / GAP_FILE):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
