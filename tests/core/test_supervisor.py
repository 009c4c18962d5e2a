"""The supervisor restarts a crashing service a bounded number of times, then gives up and
says so; a clean exit and a busy vault are not retried."""

from __future__ import annotations

import sys
import threading

from core.supervisor import Supervisor


def _run(code: str, **kwargs):
    events = []
    gave_up = []
    done = threading.Event()

    def on_event(event):
        events.append(event)
        if event.kind in ("gave_up", "busy") or (event.kind == "exited" and
                                                 event.exit_code == 0):
            done.set()

    sup = Supervisor([sys.executable, "-c", code], on_event=on_event,
                     on_gave_up=gave_up.append, backoff_s=0.01, **kwargs)
    sup.start()
    assert done.wait(60)
    sup.stop()
    return sup, events, gave_up


def test_gives_up_after_bounded_restarts_with_a_message():
    sup, events, gave_up = _run("import sys; sys.exit(70)", max_restarts=3)
    kinds = [e.kind for e in events]
    assert kinds.count("started") == 4 and kinds.count("restarting") == 3
    assert sup.gave_up and len(gave_up) == 1 and "crashed 4 times" in gave_up[0]


def test_clean_exit_and_busy_are_not_restarted():
    _, events, gave_up = _run("pass", max_restarts=3)
    assert [e.kind for e in events].count("started") == 1 and not gave_up
    _, events, _ = _run("import sys; sys.exit(5)", max_restarts=3)
    assert [e.kind for e in events][-2:] == ["exited", "busy"] or "busy" in \
        [e.kind for e in events]
    assert [e.kind for e in events].count("started") == 1


def test_stop_terminates_a_running_service():
    events = []
    sup = Supervisor([sys.executable, "-c", "import time; time.sleep(60)"],
                     on_event=events.append)
    sup.start()
    started = threading.Event()
    for _ in range(100):
        if sup.running:
            started.set()
            break
        threading.Event().wait(0.05)
    assert started.is_set()
    code = sup.stop()
    assert code is not None and code != 0 and not sup.running
    assert events[-1].kind == "stopped"


def test_service_command_from_source_and_from_a_frozen_bundle(tmp_path, monkeypatch):
    import os

    from core.supervisor import service_command

    monkeypatch.delattr(sys, "frozen", raising=False)
    assert service_command() == [sys.executable, "-m", "app", "service"]
    # A bundle: sys.executable is the app's own binary, which takes the subcommand (no -m).
    # Stand in for it with a tiny executable that records its arguments.
    record = tmp_path / "argv.txt"
    bundle = tmp_path / "afterimage"
    bundle.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {record}\nexit 0\n")
    bundle.chmod(0o755)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(bundle))
    monkeypatch.delenv("APPIMAGE", raising=False)
    command = service_command()
    assert command == [str(bundle), "service"]
    # inside an AppImage the image file itself runs the service (the mount is temporary)
    image = tmp_path / "Afterimage-x86_64.AppImage"
    image.write_bytes(b"")
    assert service_command(environ={"APPIMAGE": str(image)}) == [str(image), "service"]
    assert service_command(environ={"APPIMAGE": str(tmp_path / "gone")}) == \
        [str(bundle), "service"]
    done = threading.Event()
    sup = Supervisor(on_event=lambda e: done.set() if e.kind == "exited" else None,
                     env=dict(os.environ))
    sup.start()
    assert done.wait(30)
    sup.stop()
    assert record.read_text().split() == ["service"]
