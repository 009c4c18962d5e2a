"""The capture service's status file: what the GUI, the tray and `afterimage stats` show.

``run/service-status.json``, written atomically (temp file, fsync, rename), owner-only. It
holds states, times and counts only — never text, titles or app names (SECURITY.md R1, R10).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATUS_FILE = "service-status.json"

RUNNING = "running"  # capturing on schedule
PAUSED = "paused"  # the user paused capture
LOCKED = "locked"  # the screen is locked
IDLE = "idle"  # no input for capture.idle_after_s
FILTERED = "filtered"  # the last frame was withheld by a privacy rule
WAITING = "waiting_for_unlock"  # user privacy lists are sealed; waiting for the handoff
ERROR = "error"  # the last capture failed; retrying
STOPPED = "stopped"  # the service exited cleanly
STATES = (RUNNING, PAUSED, LOCKED, IDLE, FILTERED, WAITING, ERROR, STOPPED)


@dataclass
class ServiceStatus:
    state: str
    pid: int
    since: str  # ISO time the service started
    updated: str  # ISO time of this status
    last_capture: str | None = None
    frames_captured: int = 0  # stored by this service run
    frames_skipped: dict[str, int] = field(default_factory=dict)  # this run, by reason
    frames_redacted: int = 0
    paused_until: str | None = None  # ISO, or None (with state paused: until resumed)
    on_battery: bool = False
    interval_s: float = 3.0
    policy: str = "defaults"  # defaults | user | waiting
    handoff_key: str = ""  # hex X25519 public key for the sealed policy handoff
    error: str | None = None  # a content-free message
    idle_detection: bool = True  # False: idle time unknown on this desktop
    display_server: str = "x11"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def status_path(run_dir: Path) -> Path:
    return run_dir / STATUS_FILE


def write_status(run_dir: Path, status: ServiceStatus) -> None:
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = status_path(run_dir)
    tmp = path.with_name(f"{STATUS_FILE}.tmp{os.getpid()}")
    data = json.dumps(status.to_dict(), sort_keys=True).encode("ascii")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_status(run_dir: Path) -> ServiceStatus | None:
    """The last status written, or None. A dead service's non-final status reads as
    ``stopped`` with ``error`` saying it exited unexpectedly."""
    try:
        data = json.loads(status_path(run_dir).read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    known = {f for f in ServiceStatus.__dataclass_fields__}
    try:
        status = ServiceStatus(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return None
    if status.state != STOPPED and not pid_alive(int(status.pid)):
        status.state = STOPPED
        status.error = "the service exited unexpectedly"
    return status
