"""Runs the capture service as a child process and keeps it running (Qt-free).

The GUI and the tray use it (ActivityWatch's ``aw_qt/manager.py`` pattern): start the
service, restart it when it crashes — at most ``max_restarts`` times in a row, waiting
1, 2, 4, 8... seconds (capped) between tries — and when it keeps crashing, stop trying and
say so through ``on_gave_up`` so the user is told instead of capture silently stopping.
A run that lasted ``stable_after_s`` resets the count. Exit code 0 (stopped on purpose) is
not restarted; exit code 5 (another service already holds the vault) is reported, not retried.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

_log = logging.getLogger(__name__)

EXIT_BUSY = 5


@dataclass(frozen=True)
class SupervisorEvent:
    kind: str  # started | exited | restarting | gave_up | busy | stopped
    exit_code: int | None = None
    restarts: int = 0
    message: str = ""


def service_command(python: str | None = None, *, frozen: bool | None = None,
                    environ: Mapping[str, str] | None = None) -> list[str]:
    """The command that runs the capture service.

    From source, ``python -m app service``. In a frozen bundle (PyInstaller sets
    ``sys.frozen``) ``sys.executable`` is the app itself, whose entry point
    (``packaging/entry.py``) takes the subcommand: ``<bundle executable> service``. Inside
    an AppImage ``sys.executable`` lies in a temporary mount that goes away with the app,
    so the AppImage file itself (``$APPIMAGE``, set by its runtime) runs the service.
    """
    executable = python or sys.executable
    if frozen is None:
        frozen = bool(getattr(sys, "frozen", False))
    env = os.environ if environ is None else environ
    if frozen:
        appimage = env.get("APPIMAGE", "")
        if appimage and os.path.isfile(appimage):
            return [appimage, "service"]
        return [executable, "service"]
    return [executable, "-m", "app", "service"]


class Supervisor:
    def __init__(self, command: Sequence[str] | None = None, *,
                 env: Mapping[str, str] | None = None, max_restarts: int = 5,
                 backoff_s: float = 1.0, backoff_cap_s: float = 60.0,
                 stable_after_s: float = 600.0,
                 on_event: Callable[[SupervisorEvent], None] | None = None,
                 on_gave_up: Callable[[str], None] | None = None,
                 stop_timeout_s: float = 40.0) -> None:
        self._command = list(command or service_command())
        self._env = dict(env) if env is not None else None
        self._max = max_restarts
        self._backoff = backoff_s
        self._cap = backoff_cap_s
        self._stable = stable_after_s
        self._on_event = on_event
        self._on_gave_up = on_gave_up
        self._stop_timeout = stop_timeout_s
        self._stop = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.restarts = 0
        self.gave_up = False

    @property
    def running(self) -> bool:
        with self._lock:
            return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.gave_up = False
        self.restarts = 0
        self._thread = threading.Thread(target=self._loop, name="service-supervisor",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> int | None:
        """Stop supervising and ask the service to stop (SIGTERM, then kill)."""
        self._stop.set()
        code = None
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                code = proc.wait(self._stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait(5)
        if self._thread is not None:
            self._thread.join(5)
        self._emit(SupervisorEvent("stopped", code, self.restarts))
        return code

    def _emit(self, event: SupervisorEvent) -> None:
        _log.info("supervisor: %s (exit %s, restarts %d)", event.kind, event.exit_code,
                  event.restarts)
        if self._on_event is not None:
            self._on_event(event)

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._command, env=self._env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _loop(self) -> None:
        consecutive = 0
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                proc = self._spawn()
            except OSError as exc:
                code: int | None = None
                message = f"cannot start the capture service ({exc.strerror})"
            else:
                with self._lock:
                    self._proc = proc
                self._emit(SupervisorEvent("started", None, self.restarts))
                code = proc.wait()
                message = f"the capture service exited with code {code}"
            if self._stop.is_set():
                return
            self._emit(SupervisorEvent("exited", code, self.restarts, message))
            if code == 0:
                return
            if code == EXIT_BUSY:
                self._emit(SupervisorEvent("busy", code, self.restarts,
                                           "another capture service is already running"))
                return
            if time.monotonic() - started >= self._stable:
                consecutive = 0
            consecutive += 1
            if consecutive > self._max:
                self.gave_up = True
                text = (f"Capture stopped: the capture service crashed {consecutive} times "
                        f"in a row ({message}). See the log in the data folder.")
                self._emit(SupervisorEvent("gave_up", code, self.restarts, text))
                if self._on_gave_up is not None:
                    self._on_gave_up(text)
                return
            delay = min(self._cap, self._backoff * (2 ** (consecutive - 1)))
            self.restarts += 1
            self._emit(SupervisorEvent("restarting", code, self.restarts,
                                       f"restarting in {delay:.0f} s"))
            if self._stop.wait(delay):
                return
