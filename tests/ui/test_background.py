"""The background-work helper: results on the main thread, cancel, latest wins, one writer."""

from __future__ import annotations

import threading
import time

from core.errors import Cancelled, InvalidInput
from ui.background import Background


def test_read_runs_off_the_ui_thread_and_delivers_on_it(qtbot):
    bg = Background()
    main = threading.get_ident()
    seen = {}

    def work(job):
        seen["worker"] = threading.get_ident()
        job.set_progress(1, 2)
        return 42

    progress = []
    bg.read(work, on_success=lambda r: seen.update(result=r, deliver=threading.get_ident()),
            on_progress=lambda d, t: progress.append((d, t)))
    qtbot.waitUntil(lambda: "result" in seen, timeout=5000)
    assert seen["worker"] != main
    assert seen["deliver"] == main
    assert seen["result"] == 42
    assert progress == [(1, 2)]
    bg.shutdown()


def test_failures_reach_on_failure_and_cancelled_is_silent(qtbot):
    bg = Background()
    errors = []
    messages = []
    bg.failed.connect(messages.append)
    bg.read(lambda job: (_ for _ in ()).throw(InvalidInput("bad range")),
            on_failure=errors.append)
    bg.read(lambda job: (_ for _ in ()).throw(Cancelled("x")))
    bg.read(lambda job: (_ for _ in ()).throw(RuntimeError("secret text")))
    qtbot.waitUntil(lambda: bool(errors and messages), timeout=5000)
    qtbot.wait(100)
    assert isinstance(errors[0], InvalidInput)
    assert len(messages) == 1  # Cancelled said nothing
    assert "secret text" not in messages[0] and "RuntimeError" in messages[0]
    bg.shutdown()


def test_same_key_latest_wins(qtbot):
    bg = Background()
    got = []

    def slow(value):
        def work(job):
            time.sleep(0.15)
            return value
        return work

    bg.read(slow("first"), on_success=got.append, key="search")
    bg.read(slow("second"), on_success=got.append, key="search")
    qtbot.waitUntil(lambda: bg.pending() == 0, timeout=5000)
    assert got == ["second"]
    bg.shutdown()


def test_writes_are_serial(qtbot):
    bg = Background(read_threads=4)
    active = []
    overlaps = []
    order = []

    def write(i):
        def work(job):
            active.append(i)
            if len(active) > 1:
                overlaps.append(i)
            time.sleep(0.03)
            active.remove(i)
            order.append(i)
        return work

    for i in range(5):
        bg.write(write(i))
    qtbot.waitUntil(lambda: len(order) == 5, timeout=5000)
    assert overlaps == []
    assert order == [0, 1, 2, 3, 4]
    bg.shutdown()


def test_cancel_all_drops_results_and_tells_the_worker(qtbot):
    bg = Background()
    got = []
    saw_cancel = threading.Event()

    def work(job):
        for _ in range(100):
            if job.cancelled:
                saw_cancel.set()
                return "late"
            time.sleep(0.01)
        return "late"

    bg.read(work, on_success=got.append)
    qtbot.wait(50)
    bg.cancel_all()
    qtbot.waitUntil(lambda: bg.pending() == 0, timeout=5000)
    assert got == []
    assert saw_cancel.is_set()
    bg.shutdown()
