"""Process-to-process commands over an OS-local channel (SECURITY.md R8).

A running Afterimage process (the GUI, the capture service) serves a few commands
(``lock``, ``status``, ...) on a Unix domain socket in the run folder. There is no TCP and
no HTTP. Each server writes a random per-session token to a file only the user can read;
a client must send it. On Linux the server also checks the peer's user id.

Files in ``run_dir`` (0700) per endpoint NAME (``gui``, ``service``)::

    NAME.sock    the socket (0600)
    NAME.token   the session token (0600); removed when the server stops

Protocol: one request per connection, one line of JSON each way::

    -> {"token": "...", "command": "lock", "args": {}}
    <- {"ok": true, ...}  or  {"ok": false, "error": "message"}

Windows has no Unix sockets in every supported version; a named-pipe transport is future
work there (``IpcError`` says so).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import secrets
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from core.errors import AfterimageError, IpcError, IpcUnavailable
from core.vault._fs import atomic_write_private, ensure_private_dir

_log = logging.getLogger(__name__)

MAX_MESSAGE = 64 * 1024
DEFAULT_TIMEOUT_S = 3.0
ENDPOINT_NAMES = ("gui", "service")

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def _paths(run_dir: Path, name: str) -> tuple[Path, Path]:
    if not name.isalnum():
        raise IpcError("an endpoint name is letters and digits only")
    return run_dir / f"{name}.sock", run_dir / f"{name}.token"


def _require_unix() -> None:
    if not hasattr(socket, "AF_UNIX"):
        raise IpcError("talking to a running Afterimage needs Unix sockets, which this "
                       "system lacks (named pipes are not implemented yet)")


def _read_line(conn: socket.socket) -> bytes:
    buf = bytearray()
    while b"\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk:
            break
        buf += chunk
        if len(buf) > MAX_MESSAGE:
            raise IpcError("message too long")
    return bytes(buf.split(b"\n", 1)[0])


def _peer_uid(conn: socket.socket) -> int | None:
    if not sys.platform.startswith("linux"):
        return None
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


class IpcServer:
    """Serve ``handlers`` on ``run_dir/NAME.sock`` from a background thread."""

    def __init__(self, run_dir: Path, name: str, handlers: Mapping[str, Handler]) -> None:
        _require_unix()
        self._run_dir = run_dir
        self._name = name
        self._sock_path, self._token_path = _paths(run_dir, name)
        self._handlers = dict(handlers)
        self._token = ""
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def socket_path(self) -> Path:
        return self._sock_path

    def start(self) -> None:
        ensure_private_dir(self._run_dir)
        if self._sock_path.exists():
            if _is_live(self._sock_path):
                raise IpcError(f"another Afterimage {self._name} is already running")
            self._sock_path.unlink()  # left by a process that died
        self._token = secrets.token_urlsafe(32)
        atomic_write_private(self._token_path, self._token.encode("ascii"))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            sock.bind(str(self._sock_path))
        except OSError as exc:
            sock.close()
            raise IpcError(f"cannot listen on {self._sock_path.name}: {exc.strerror}") from exc
        finally:
            os.umask(old_umask)
        os.chmod(self._sock_path, 0o600)
        sock.listen(8)
        sock.settimeout(0.2)
        self._sock = sock
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name=f"ipc-{self._name}",
                                        daemon=True)
        self._thread.start()
        _log.info("ipc: serving %s", self._name)

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by stop()
            with conn:
                conn.settimeout(DEFAULT_TIMEOUT_S)
                try:
                    reply = self._handle(conn)
                    conn.sendall(json.dumps(reply).encode("utf-8") + b"\n")
                except (OSError, IpcError) as exc:
                    _log.warning("ipc: dropped a request (%s)", type(exc).__name__)

    def _handle(self, conn: socket.socket) -> dict[str, Any]:
        uid = _peer_uid(conn)
        if uid is not None and uid != os.getuid():
            return {"ok": False, "error": "refused: another user"}
        try:
            request = json.loads(_read_line(conn))
        except (ValueError, UnicodeDecodeError):
            return {"ok": False, "error": "malformed request"}
        if not isinstance(request, dict):
            return {"ok": False, "error": "malformed request"}
        token = request.get("token")
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(),
                                                                 self._token.encode()):
            return {"ok": False, "error": "refused: wrong session token"}
        command = request.get("command")
        handler = self._handlers.get(command) if isinstance(command, str) else None
        if handler is None:
            return {"ok": False, "error": "unknown command"}
        args = request.get("args") or {}
        try:
            result = handler(args if isinstance(args, dict) else {})
        except AfterimageError as exc:
            return {"ok": False, "error": str(exc)}
        _log.info("ipc: %s done", command)
        return {"ok": True, **result}

    def stop(self) -> None:
        self._stopping.set()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        for path in (self._sock_path, self._token_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def __enter__(self) -> IpcServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _is_live(sock_path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(str(sock_path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def endpoints(run_dir: Path) -> list[str]:
    """Names of the endpoints that have a socket and a token in ``run_dir``."""
    found = []
    for name in ENDPOINT_NAMES:
        sock_path, token_path = _paths(run_dir, name)
        if sock_path.exists() and token_path.exists():
            found.append(name)
    return found


def request(run_dir: Path, name: str, command: str, args: Mapping[str, Any] | None = None,
            *, timeout: float = DEFAULT_TIMEOUT_S) -> dict[str, Any]:
    """Send one command to endpoint ``name``; returns its reply (``ok`` is True)."""
    _require_unix()
    sock_path, token_path = _paths(run_dir, name)
    try:
        token = token_path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise IpcUnavailable(f"no running Afterimage {name}") from exc
    message = json.dumps({"token": token, "command": command, "args": dict(args or {})})
    with _connect(sock_path, name, timeout) as conn:
        conn.sendall(message.encode("utf-8") + b"\n")
        raw = _read_line(conn)
    try:
        reply = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IpcError(f"the Afterimage {name} sent a malformed reply") from exc
    if not isinstance(reply, dict) or not reply.get("ok"):
        error = reply.get("error") if isinstance(reply, dict) else None
        raise IpcError(f"the Afterimage {name} refused: {error or 'no reason given'}")
    return reply


@contextlib.contextmanager
def _connect(sock_path: Path, name: str, timeout: float) -> Iterator[socket.socket]:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(timeout)
    try:
        try:
            conn.connect(str(sock_path))
        except OSError as exc:
            raise IpcUnavailable(f"no running Afterimage {name}") from exc
        yield conn
    finally:
        conn.close()


def broadcast(run_dir: Path, command: str, args: Mapping[str, Any] | None = None
              ) -> dict[str, dict[str, Any] | IpcError]:
    """Send ``command`` to every endpoint; maps name -> reply, or the error it gave."""
    out: dict[str, dict[str, Any] | IpcError] = {}
    for name in endpoints(run_dir):
        try:
            out[name] = request(run_dir, name, command, args)
        except IpcUnavailable:
            continue  # a stale file from a process that died
        except IpcError as exc:
            out[name] = exc
    return out
