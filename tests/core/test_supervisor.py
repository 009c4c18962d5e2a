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
