"""One app per user and data folder: a second launch asks the first to show itself and exits.

A ``QLocalServer`` (a Unix socket or a named pipe, never a network port: SECURITY.md R8/A9)
named after a hash of the data folder. The only message is ``show``; nothing else is read.
"""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

MESSAGE = b"show\n"


def server_name(data_dir: Path) -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    digest = hashlib.sha256(f"{user}\0{data_dir.resolve()}".encode()).hexdigest()[:16]
    return f"afterimage-{digest}"


class SingleInstance(QObject):
    """``acquire()`` is True for the first instance; later ones notify it and get False."""

    show_requested = Signal()

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(data_dir)
        self._server: QLocalServer | None = None

    def acquire(self, timeout_ms: int = 500) -> bool:
        if self._notify_running(timeout_ms):
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # A stale socket from a crash: nobody answered above, so it is safe to remove.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                return True  # cannot guard; run anyway rather than refuse to start
        server.newConnection.connect(self._connection)
        self._server = server
        return True

    def _notify_running(self, timeout_ms: int) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(MESSAGE)
        socket.flush()
        socket.waitForBytesWritten(timeout_ms)
        socket.disconnectFromServer()
        return True

    def _connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)

    def _read(self, sock: QLocalSocket) -> None:
        data = bytes(sock.readAll().data())
        if data.startswith(MESSAGE.strip()):
            self.show_requested.emit()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
