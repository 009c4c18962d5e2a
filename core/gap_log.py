"""Why the timeline has gaps: a sealed log of the capture service's holds and runs.

The capture service records, as it happens, each stretch in which it held capture (paused,
screen locked, idle, a privacy filter withheld the screen, waiting for the sealed privacy
lists) and when it started and stopped. The timeline turns these into gap reasons: "paused",
"locked", "idle", "filtered", "waiting" and "not running" (between a clean stop and the next
start).

A record is a reason and a time range: metadata, but precise times say when the user was at
the computer, so records are sealed like the privacy policy (``core.privacy.sealed``: X25519
to the vault's capture public key + HKDF + AES-256-GCM). The service writes them while the
vault is locked (it only needs the public key); only an unlocked vault reads them. Every
record is padded to the same length, so the file shows only how many records there are.

File: ``vault/state/capture-gaps.sealed``, one base64 line per record, appended with fsync,
owner-only. A torn last line (a crash while appending) is skipped on read. "Forget
everything" removes the file (``CaptureState.reset``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.errors import VaultCorrupt
from core.privacy.sealed import Exchange, open_with, seal_to
from core.timeline import TimelineGap

GAP_FILE = "capture-gaps.sealed"
_LABEL = b"afterimage/capture-gaps/v1"
_PLAIN_SIZE = 96  # every record's plaintext is padded to this many bytes

HOLD_REASONS = ("paused", "locked", "idle", "filtered", "waiting")
NOT_RUNNING = "not running"
START = "start"
STOP = "stop"


@dataclass(frozen=True)
class GapRecord:
    """``kind`` is a hold reason (HOLD_REASONS), ``start`` or ``stop`` (of the service)."""

    kind: str
    start: datetime  # timezone-aware
    end: datetime  # == start for start/stop


def _encode(record: GapRecord) -> bytes:
    raw = json.dumps({"k": record.kind, "s": record.start.timestamp(),
                      "e": record.end.timestamp()}, separators=(",", ":")).encode("ascii")
    if len(raw) > _PLAIN_SIZE:
        raise ValueError("gap record too long")
    return raw.ljust(_PLAIN_SIZE, b" ")


def _decode(raw: bytes) -> GapRecord | None:
    try:
        data = json.loads(raw.decode("ascii"))
        kind = str(data["k"])
        if kind not in (*HOLD_REASONS, START, STOP):
            return None
        return GapRecord(kind, datetime.fromtimestamp(float(data["s"]), UTC),
                         datetime.fromtimestamp(float(data["e"]), UTC))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


class GapLog:
    """Append (public key only) and read (needs the vault's capture key exchange)."""

    def __init__(self, state_dir: Path, vault_id: str, capture_pub: bytes,
                 exchange: Exchange | None = None) -> None:
        self._path = state_dir / GAP_FILE
        self._context = bytes.fromhex(vault_id)
        self._pub = capture_pub
        self._exchange = exchange

    @property
    def path(self) -> Path:
        return self._path

    def append(self, record: GapRecord) -> None:
        sealed = seal_to(self._pub, _LABEL, self._context, _encode(record))
        line = base64.b64encode(sealed) + b"\n"
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def records(self) -> list[GapRecord]:
        """Every readable record, oldest first (needs the vault unlocked)."""
        records, _ = self.read_from(0)
        records.sort(key=lambda r: r.start)
        return records

    def read_from(self, offset: int) -> tuple[list[GapRecord], int]:
        """The records appended at or after byte ``offset`` (file order) and the offset to
        read from next time: a caller that keeps them reads only what is new."""
        if self._exchange is None:
            raise VaultCorrupt("this gap log was opened for writing only")
        try:
            with open(self._path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if offset > size:  # the file was removed and started again
                    offset = 0
                fh.seek(offset)
                data = fh.read()
        except FileNotFoundError:
            return [], 0
        end = data.rfind(b"\n") + 1  # a line still being written is read next time
        out: list[GapRecord] = []
        for line in data[:end].splitlines():
            try:
                sealed = base64.b64decode(line, validate=True)
                record = _decode(open_with(self._exchange, self._pub, _LABEL, self._context,
                                           sealed))
            except (binascii.Error, ValueError, VaultCorrupt):
                continue  # a torn or foreign line: skip it, keep the rest
            if record is not None:
                out.append(record)
        return out, offset + end

    def gaps(self, since: datetime, until: datetime) -> list[TimelineGap]:
        """Recorded holds and "not running" stretches overlapping ``[since, until)``,
        clipped to it, oldest first."""
        return gaps_from_records(self.records(), since, until)

    def clear(self) -> None:
        self._path.unlink(missing_ok=True)


def gaps_from_records(records: list[GapRecord], since: datetime,
                      until: datetime) -> list[TimelineGap]:
    spans: list[TimelineGap] = []
    stopped_at: datetime | None = None
    for record in records:
        if record.kind == STOP:
            stopped_at = record.start
        elif record.kind == START:
            if stopped_at is not None:
                spans.append(TimelineGap(stopped_at, record.start, NOT_RUNNING))
            stopped_at = None
        else:
            spans.append(TimelineGap(record.start, record.end, record.kind))
    out = []
    for gap in spans:
        start, end = max(gap.start, since), min(gap.end, until)
        if end > start:
            out.append(TimelineGap(start, end, gap.reason))
    out.sort(key=lambda g: g.start)
    return out


def reason_for(gap: TimelineGap, recorded: list[TimelineGap]) -> str | None:
    """The recorded reason that covers most of ``gap`` (None when nothing was recorded)."""
    best: tuple[float, str] | None = None
    for rec in recorded:
        overlap = (min(gap.end, rec.end) - max(gap.start, rec.start)).total_seconds()
        if overlap > 0 and rec.reason is not None and (best is None or overlap > best[0]):
            best = (overlap, rec.reason)
    if best is None or best[0] < 0.25 * max(1.0, gap.seconds):
        return None  # a short hold inside a long gap does not explain it
    return best[1]


class HoldTracker:
    """Turns the capture service's state changes into gap records (Qt-free, clock given)."""

    def __init__(self, log: GapLog, min_seconds: float = 5.0) -> None:
        self._lock = threading.Lock()  # the scheduler and the capture worker both report
        self._log = log
        self._min = min_seconds
        self._reason: str | None = None
        self._since: datetime | None = None

    def started(self, now: datetime) -> None:
        with self._lock:
            self._log.append(GapRecord(START, now, now))

    def state(self, reason: str | None, now: datetime) -> None:
        """The service is now holding for ``reason`` (None: capturing or another state)."""
        with self._lock:
            if reason == self._reason:
                return
            self._close(now)
            self._reason = reason
            self._since = now if reason is not None else None

    def stopped(self, now: datetime) -> None:
        with self._lock:
            self._close(now)
            self._log.append(GapRecord(STOP, now, now))

    def _close(self, now: datetime) -> None:
        if self._reason is not None and self._since is not None \
                and (now - self._since).total_seconds() >= self._min:
            self._log.append(GapRecord(self._reason, self._since, now))
        self._reason = None
        self._since = None
