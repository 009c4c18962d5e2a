"""Automatic locking (SECURITY.md R5): on idle, on screen lock and sleep, and on request.

``AutoLock`` ties three triggers to one ``lock`` callable (normally ``Memory.lock``):

- **idle**: ``touch()`` on user activity; after ``security.idle_lock_minutes`` (default 10)
  without it, lock. 0 turns the idle lock off.
- **the desktop**: logind's ``Lock`` (this session) and ``PrepareForSleep(true)`` on the
  system bus, and the freedesktop / GNOME ``ScreenSaver.ActiveChanged(true)`` on the session
  bus, through ``jeepney`` (pure-Python D-Bus over a Unix socket). Optional: with no
  ``jeepney`` or no bus the listener logs one line and the rest keeps working.
- **``afterimage lock``**: a ``lock`` command on the process's IPC endpoint (core/ipc.py).

The GUI and the capture service create one ``AutoLock`` each; locking is idempotent.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from core.errors import IpcError
from core.ipc import IpcServer

_log = logging.getLogger(__name__)

LockCallback = Callable[[str], None]  # receives the reason: "idle", "screensaver", ...

LOGIND = "org.freedesktop.login1"
SCREENSAVERS = ("org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver")


class IdleTimer:
    """Calls ``on_idle`` once after ``timeout_s`` without ``touch()``; re-arms on touch."""

    def __init__(self, timeout_s: float, on_idle: Callable[[], None], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._timeout = timeout_s
        self._on_idle = on_idle
        self._clock = clock
        self._last = clock()
        self._fired = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def touch(self) -> None:
        with self._lock:
            self._last = self._clock()
            self._fired = False

    def check(self) -> bool:
        """Fire if idle long enough (and not fired since the last touch). True if fired."""
        if self._timeout <= 0:
            return False
        with self._lock:
            due = not self._fired and self._clock() - self._last >= self._timeout
            if due:
                self._fired = True
        if due:
            self._on_idle()
        return due

    def start(self, poll_s: float | None = None) -> None:
        if self._timeout <= 0 or self._thread is not None:
            return
        interval = poll_s if poll_s is not None else max(0.05, min(30.0, self._timeout / 4))
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval):
                self.check()

        self._thread = threading.Thread(target=loop, name="idle-lock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


def _session_path() -> str | None:
    session = os.environ.get("XDG_SESSION_ID")
    if not session:
        return None
    escaped = "".join(c if c.isalnum() else f"_{ord(c):02x}" for c in session)
    return f"/org/freedesktop/login1/session/{escaped}"


class DesktopSignals:
    """Listens for screen lock and sleep on D-Bus and calls ``on_lock(reason)``.

    ``buses`` maps "logind" and "screensaver" to a bus ("SYSTEM", "SESSION" or an address);
    tests point both at a private bus.
    """

    def __init__(self, on_lock: LockCallback, *,
                 buses: Mapping[str, str] | None = None) -> None:
        self._on_lock = on_lock
        self._buses = dict(buses or {"logind": "SYSTEM", "screensaver": "SESSION"})
        self._threads: list[threading.Thread] = []
        self._conns: list[Any] = []
        self._stop = threading.Event()
        self.listening: list[str] = []

    def start(self) -> bool:
        """Subscribe where possible. False (with a log line) if nothing could be."""
        try:
            from jeepney import MatchRule
            from jeepney.bus_messages import message_bus
            from jeepney.io.blocking import open_dbus_connection
        except ImportError:
            _log.info("autolock: jeepney is not installed; no lock on screen lock/sleep")
            return False
        groups: dict[str, list[Any]] = {
            "logind": [
                MatchRule(type="signal", interface=f"{LOGIND}.Session", member="Lock",
                          path=_session_path()),
                MatchRule(type="signal", interface=f"{LOGIND}.Manager",
                          member="PrepareForSleep"),
            ],
            "screensaver": [MatchRule(type="signal", interface=name, member="ActiveChanged")
                            for name in SCREENSAVERS],
        }
        for group, rules in groups.items():
            bus = self._buses.get(group)
            if not bus:
                continue
            try:
                conn = open_dbus_connection(bus=bus)
                for rule in rules:
                    conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=2.0)
            except Exception as exc:  # noqa: BLE001 - no bus, refused, timeout: fail soft
                _log.info("autolock: %s signals unavailable (%s)", group, type(exc).__name__)
                continue
            self._conns.append(conn)
            thread = threading.Thread(target=self._listen, args=(conn, rules), daemon=True,
                                      name=f"dbus-{group}")
            thread.start()
            self._threads.append(thread)
            self.listening.append(group)
        return bool(self.listening)

    def _listen(self, conn: Any, rules: list[Any]) -> None:
        while not self._stop.is_set():
            try:
                msg = conn.receive(timeout=0.5)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - connection closed or broken: stop quietly
                return
            if not any(rule.matches(msg) for rule in rules):
                continue
            member = msg.header.fields.get(3)  # HeaderFields.member
            body = msg.body
            if member == "Lock":
                self._on_lock("screen-lock")
            elif member == "PrepareForSleep" and body and body[0] is True:
                self._on_lock("sleep")
            elif member == "ActiveChanged" and body and body[0] is True:
                self._on_lock("screensaver")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        for conn in self._conns:
            try:
                conn.close()
            except OSError:
                pass
        self._threads.clear()
        self._conns.clear()


class AutoLock:
    """Idle timer + desktop signals + the IPC ``lock`` command, for one process."""

    def __init__(self, lock: Callable[[], None], *, idle_minutes: float,
                 run_dir: Path | None = None, endpoint: str | None = None,
                 status: Callable[[], dict[str, Any]] | None = None,
                 dbus_buses: Mapping[str, str] | None = None, use_dbus: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lock_fn = lock
        self._status = status
        self.idle = IdleTimer(idle_minutes * 60.0, lambda: self.lock_now("idle"), clock=clock)
        self.signals = DesktopSignals(self.lock_now, buses=dbus_buses) if use_dbus else None
        self._server = (IpcServer(run_dir, endpoint, {"lock": self._ipc_lock,
                                                      "status": self._ipc_status})
                        if run_dir is not None and endpoint is not None else None)
        self.locks: list[str] = []  # reasons, in order (for the UI and tests)

    def lock_now(self, reason: str) -> None:
        self._lock_fn()
        self.locks.append(reason)
        _log.info("locked (%s)", reason)

    def touch(self) -> None:
        self.idle.touch()

    def _ipc_lock(self, args: dict[str, Any]) -> dict[str, Any]:
        self.lock_now("request")
        return {"locked": True}

    def _ipc_status(self, args: dict[str, Any]) -> dict[str, Any]:
        return dict(self._status()) if self._status is not None else {}

    def start(self, *, idle_poll_s: float | None = None) -> None:
        self.idle.start(idle_poll_s)
        if self.signals is not None:
            self.signals.start()
        if self._server is not None:
            try:
                self._server.start()
            except IpcError:
                self.stop()
                raise

    def stop(self) -> None:
        self.idle.stop()
        if self.signals is not None:
            self.signals.stop()
        if self._server is not None:
            self._server.stop()
