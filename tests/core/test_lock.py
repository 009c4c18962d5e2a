"""Locking (SECURITY.md R5, R8): `afterimage lock` over a real Unix socket between two
processes, the idle timer, D-Bus screen-lock/sleep signals on a private bus, and what a
locked Memory still holds."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.autolock import AutoLock, DesktopSignals, IdleTimer
from core.errors import IpcError, IpcUnavailable, VaultLocked
from core.ipc import IpcServer, endpoints, request
from core.records import MemoryRecord
from core.vault import DataKey
from tests.support import REPO, run_cli
from tests.vaultkit import PASS, new_memory, synthetic, utc

_SERVICE = """
import sys, time
from pathlib import Path
from core.autolock import AutoLock
from tests.vaultkit import open_memory, PASS
home = Path(sys.argv[1])
mem = open_memory(home)
mem.unlock(PASS)
assert mem.get(sys.argv[2]) is not None  # decrypted index built
auto = AutoLock(mem.lock, idle_minutes=10, run_dir=home / "run", endpoint="gui",
                status=lambda: {"unlocked": mem.is_unlocked}, use_dbus=False)
auto.start()
print("ready", flush=True)
deadline = time.monotonic() + 60
while mem.is_unlocked and time.monotonic() < deadline:
    time.sleep(0.05)
print("locked", mem.is_unlocked, mem._index is None, auto.locks, flush=True)
auto.stop()
mem.close()
"""


def test_afterimage_lock_locks_another_process_over_its_socket(tmp_path: Path) -> None:
    home = tmp_path / "home"
    mem = new_memory(home)
    [rid] = mem.store_encoded([synthetic(utc(2024, 1, 2, 3), "hello")])
    mem.close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", _SERVICE, str(home), rid], cwd=REPO,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr.read()  # type: ignore[union-attr]
        run_dir = home / "run"
        assert endpoints(run_dir) == ["gui"]
        assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
        for name in ("gui.sock", "gui.token"):
            assert stat.S_IMODE((run_dir / name).stat().st_mode) == 0o600
        assert request(run_dir, "gui", "status") == {"ok": True, "unlocked": True}
        # a client without the session token is refused
        (run_dir / "gui.token").rename(run_dir / "gui.token.real")
        (run_dir / "gui.token").write_text("guess")
        with pytest.raises(IpcError, match="token"):
            request(run_dir, "gui", "lock")
        (run_dir / "gui.token.real").replace(run_dir / "gui.token")

        res = run_cli(home, "lock", "--json", passphrase=None)
        assert res.code == 0, res.err
        assert res.json() == {"locked": ["gui"], "failed": {}, "running": 1}
        out, err = child.communicate(timeout=30)
        assert out.strip() == "locked False True ['request']", err
    finally:
        if child.poll() is None:
            child.kill()
    assert endpoints(home / "run") == []  # socket and token removed on stop
    res = run_cli(home, "lock", passphrase=None)
    assert res.code == 0 and "No running Afterimage" in res.out


def test_a_stale_socket_is_replaced_and_a_live_one_is_refused(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with IpcServer(run_dir, "service", {"ping": lambda a: {"pong": 1}}):
        assert request(run_dir, "service", "ping") == {"ok": True, "pong": 1}
        with pytest.raises(IpcError, match="already running"):
            IpcServer(run_dir, "service", {}).start()
        with pytest.raises(IpcError, match="unknown command"):
            request(run_dir, "service", "format-disk")
    with pytest.raises(IpcUnavailable):
        request(run_dir, "service", "ping")
    import socket

    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(run_dir / "service.sock"))
    dead.close()  # a socket file nobody listens on, as after kill -9
    with IpcServer(run_dir, "service", {"ping": lambda a: {"pong": 2}}):
        assert request(run_dir, "service", "ping")["pong"] == 2


def _reachable(root: object, limit: int = 200_000) -> list[object]:
    """Objects reachable from ``root``, not walking into modules (their globals are not state
    held by ``root``; bound methods in hook lists would otherwise pull in every module)."""
    import sys
    import types

    module_dicts = {id(m.__dict__) for m in list(sys.modules.values()) if m is not None}
    seen: set[int] = set()
    stack = [root]
    out = []
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | types.ModuleType) \
                or id(obj) in module_dicts:
            continue
        seen.add(id(obj))
        out.append(obj)
        stack.extend(gc.get_referents(obj))
    return out


def test_lock_leaves_no_decrypted_record_key_or_vector_referenced(tmp_path: Path) -> None:
    home = tmp_path / "home"
    mem = new_memory(home)
    mem.store_encoded([synthetic(utc(2024, 1, 2, 3, m), f"private note {m}") for m in range(5)])
    mem.close()
    from tests.vaultkit import open_memory

    mem = open_memory(home)
    mem.unlock(PASS)
    ids = [r.id for r in mem._store.row_meta("memories")]
    assert mem.get(ids[0]) is not None and mem.frame(ids[0]) is not None
    before = _reachable(mem)
    assert sum(isinstance(o, MemoryRecord) for o in before) == 5
    assert any(isinstance(o, DataKey) for o in before)
    mem.lock()
    after = _reachable(mem)
    assert not [o for o in after if isinstance(o, MemoryRecord)]
    assert not [o for o in after if isinstance(o, DataKey)]  # no write keys in this process
    assert not [o for o in after if isinstance(o, np.ndarray) and o.dtype == np.float32
                and o.size >= 384]
    assert mem._vault._master_key is None and mem._vault._capture_private_key is None
    with pytest.raises(VaultLocked):
        mem.get(ids[0])
    mem.close()


def test_idle_timer_fires_once_after_the_timeout_and_rearms_on_touch() -> None:
    now = [0.0]
    fired: list[float] = []
    timer = IdleTimer(600, lambda: fired.append(now[0]), clock=lambda: now[0])
    now[0] = 599
    assert not timer.check()
    timer.touch()
    now[0] = 1198
    assert not timer.check()
    now[0] = 1199
    assert timer.check() and not timer.check()
    timer.touch()
    now[0] = 1799
    assert timer.check()
    assert fired == [1199, 1799]
    assert not IdleTimer(0, lambda: fired.append(-1)).check()  # 0 = off


def test_auto_lock_on_idle_in_real_time() -> None:
    reasons: list[str] = []
    auto = AutoLock(lambda: reasons.append("x"), idle_minutes=0.002, use_dbus=False)
    auto.start(idle_poll_s=0.02)
    try:
        deadline = time.monotonic() + 5
        while not auto.locks and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        auto.stop()
    assert auto.locks == ["idle"] and reasons == ["x"]


@pytest.fixture
def private_bus():
    if shutil.which("dbus-daemon") is None:
        pytest.fail("dbus-daemon is needed (scripts/apt-packages.txt: dbus)")
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    yield address
    proc.terminate()
    proc.wait(10)


def test_screen_lock_and_sleep_signals_lock(private_bus: str) -> None:
    from jeepney import DBusAddress, new_signal
    from jeepney.io.blocking import open_dbus_connection

    reasons: list[str] = []
    signals = DesktopSignals(reasons.append,
                             buses={"logind": private_bus, "screensaver": private_bus})
    assert signals.start() and signals.listening == ["logind", "screensaver"]
    try:
        with open_dbus_connection(bus=private_bus) as conn:
            saver = DBusAddress("/org/freedesktop/ScreenSaver",
                                interface="org.freedesktop.ScreenSaver")
            manager = DBusAddress("/org/freedesktop/login1",
                                  interface="org.freedesktop.login1.Manager")
            session = DBusAddress("/org/freedesktop/login1/session/c1",
                                  interface="org.freedesktop.login1.Session")
            conn.send(new_signal(saver, "ActiveChanged", "b", (False,)))  # unlocking: ignored
            conn.send(new_signal(saver, "ActiveChanged", "b", (True,)))
            conn.send(new_signal(manager, "PrepareForSleep", "b", (False,)))  # waking: ignored
            conn.send(new_signal(manager, "PrepareForSleep", "b", (True,)))
            conn.send(new_signal(session, "Lock"))
            deadline = time.monotonic() + 5
            while len(reasons) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        signals.stop()
    assert sorted(reasons) == ["screen-lock", "screensaver", "sleep"]


def test_no_bus_fails_soft(caplog) -> None:
    caplog.set_level(logging.INFO, logger="core.autolock")
    signals = DesktopSignals(lambda r: None,
                             buses={"logind": "unix:path=/nonexistent/bus",
                                    "screensaver": "unix:path=/nonexistent/bus"})
    assert signals.start() is False
    assert "unavailable" in caplog.text
