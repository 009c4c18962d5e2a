"""T7 no network: with every outgoing connection made to fail and every bind/listen
recorded, import (real OCR + embeddings), search, forget and lock all work, and no
connection or listening socket other than AF_UNIX is ever attempted. A second check reads
/proc for inet sockets held by this process (catching native code too)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from core.config import Config
from core.forget import ForgetRequest
from core.memory import Memory
from tests.support import render_text_png
from tests.vaultkit import PASS, cheap_kdf, paths_for


def _inet_socket_inodes() -> set[str]:
    inodes: set[str] = set()
    for name in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        inodes.update(line.split()[9] for line in lines if len(line.split()) > 9)
    return inodes


def _my_socket_inodes() -> set[str]:
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


@pytest.fixture
def no_network(monkeypatch):
    attempts: list[str] = []

    def refuse_connect(self, address, *a, **k):
        if self.family == socket.AF_UNIX:
            return real_connect(self, address, *a, **k)
        attempts.append(f"connect {self.family!r}")
        raise OSError("network disabled by the test")

    def refuse_connect_ex(self, address, *a, **k):
        if self.family == socket.AF_UNIX:
            return real_connect_ex(self, address, *a, **k)
        attempts.append(f"connect_ex {self.family!r}")
        return 111

    def refuse_create_connection(*a, **k):
        attempts.append("create_connection")
        raise OSError("network disabled by the test")

    def record_bind(self, address, *a, **k):
        if self.family != socket.AF_UNIX:
            # urllib3 (pulled in by lancedb) probes IPv6 support at import time by binding
            # ("::1", 0) and closing the socket: no listen, no connection, loopback only.
            import traceback

            probe = address == ("::1", 0) and any(
                "urllib3/util/connection.py" in f.filename for f in traceback.extract_stack())
            if not probe:
                attempts.append(f"bind {self.family!r} {address!r}")
        return real_bind(self, address, *a, **k)

    def record_listen(self, *a, **k):
        if self.family != socket.AF_UNIX:
            attempts.append(f"listen {self.family!r}")
        return real_listen(self, *a, **k)

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_bind, real_listen = socket.socket.bind, socket.socket.listen
    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect_ex)
    monkeypatch.setattr(socket, "create_connection", refuse_create_connection)
    monkeypatch.setattr(socket.socket, "bind", record_bind)
    monkeypatch.setattr(socket.socket, "listen", record_listen)
    return attempts


def test_everything_works_offline_and_nothing_touches_the_network(tmp_path: Path,
                                                                   no_network) -> None:
    from core.autolock import AutoLock
    from core.ipc import request

    shots = tmp_path / "shots"
    shots.mkdir()
    render_text_png(shots / "2024-03-03_10-00-00.png", ["invoice for garden chairs"],
                    size=(420, 100), font_size=26)
    render_text_png(shots / "2024-03-03_11-00-00.png", ["meeting notes on budgets"],
                    size=(420, 100), font_size=26)
    home = tmp_path / "home"
    paths = paths_for(home)
    mem = Memory.create(Config(), paths, PASS, kdf=cheap_kdf())
    report = mem.import_paths([shots])
    assert len(report.imported) == 2 and not report.failed
    hits = mem.search("garden furniture bill")
    assert hits and hits[0].source == "2024-03-03_10-00-00.png"
    forgot = mem.forget(mem.plan_forget(ForgetRequest(ids=(hits[0].id,))))
    assert forgot.memories == 1
    assert [h.source for h in mem.search("garden furniture bill")] == \
        ["2024-03-03_11-00-00.png"]
    auto = AutoLock(mem.lock, idle_minutes=10, run_dir=paths.run_dir, endpoint="gui",
                    use_dbus=False)
    auto.start()
    try:
        assert request(paths.run_dir, "gui", "lock")["locked"] is True  # AF_UNIX only
    finally:
        auto.stop()
    assert not mem.is_unlocked
    mem.close()
    assert no_network == []
    assert not (_my_socket_inodes() & _inet_socket_inodes())
