"""Locking the GUI from outside it (SECURITY.md R5): ``afterimage lock`` and the desktop.

Runs ``core.autolock.AutoLock`` for the GUI process: an IPC endpoint named ``gui`` that
answers ``lock`` (and ``status``), and the logind / ScreenSaver D-Bus signals (screen lock,
sleep). The idle part stays with ``ui.idle_lock`` (it watches our own windows' input), so
the core idle timer is off here.

AutoLock calls back on its own threads; a queued signal carries the request to the UI
thread, where the session locks (workers never touch widgets). Everything fails soft: with
no Unix sockets, no D-Bus or a stale endpoint the app runs on and logs one line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from core.autolock import AutoLock
from core.errors import AfterimageError

_log = logging.getLogger(__name__)

ENDPOINT = "gui"


class DesktopLock(QObject):
    """Emits ``lock_requested(reason)`` on the UI thread when something outside asks."""

    lock_requested = Signal(str)
    _relay = Signal(str)

    def __init__(self, run_dir: Path, *, is_locked: Any = None, use_dbus: bool = True,
                 dbus_buses: Mapping[str, str] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._relay.connect(self.lock_requested.emit, Qt.ConnectionType.QueuedConnection)
        self._is_locked = is_locked
        self.autolock = AutoLock(self._from_thread, idle_minutes=0, run_dir=run_dir,
                                 endpoint=ENDPOINT, status=self._status,
                                 dbus_buses=dbus_buses, use_dbus=use_dbus)
        self.serving = False
        self.listening: list[str] = []

    def _from_thread(self) -> None:
        self._relay.emit("request")

    def _status(self) -> dict[str, Any]:
        locked = bool(self._is_locked()) if self._is_locked is not None else None
        return {"locked": locked, "process": "gui"}

    def start(self) -> bool:
        """Serve and listen where possible; False (logged) if the endpoint could not start."""
        try:
            self.autolock.start()
        except (AfterimageError, OSError) as exc:
            _log.warning("the lock endpoint is unavailable (%s); `afterimage lock` will not "
                         "reach this window", type(exc).__name__)
            return False
        self.serving = True
        if self.autolock.signals is not None:
            self.listening = list(self.autolock.signals.listening)
        return True

    def stop(self) -> None:
        self.autolock.stop()
        self.serving = False
