"""The capture service's schedule, in process with a manual clock: interval, unchanged
frames, window switches, idle, screen lock, pause durations, privacy rules, bounded queue."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from core.privacy.pause import PauseControl, parse_pause_duration
from core.service import CaptureService, ServiceParts
from core.service_status import read_status
from core.types import OcrLine, OcrResult
from tests.capture_support import (
    ManualClock,
    ScreenStub,
    SignalsStub,
    WindowStub,
    make_memory,
    render_screen,
    window,
)

# core/store.py calls lancedb's deprecated table_names() (the store's owner will move it to
# list_tables()); under pytest that warning is an error for in-process store use.
pytestmark = pytest.mark.filterwarnings("ignore:table_names:DeprecationWarning")


class LineOcr:
    """Reads one line per frame: the OCR engine is not what these tests are about."""

    def __init__(self) -> None:
        self.calls = 0

    def recognize(self, image) -> OcrResult:
        self.calls += 1
        return OcrResult((OcrLine(f"frame text {self.calls}", 0.99, (0, 0, 10, 10)),))


class Rig:
    def __init__(self, tmp_path, toml: str = "", ocr=None, threaded: bool = False) -> None:
        self.memory, self.config, self.paths = make_memory(tmp_path, toml)
        self.clock = ManualClock()
        self.screen = ScreenStub(render_screen(["hello"]))
        self.windows = WindowStub(window())
        self.signals = SignalsStub()
        self.ocr = ocr or LineOcr()
        parts = ServiceParts(screen=self.screen, windows=self.windows, signals=self.signals,
                             battery=lambda: False, monotonic=self.clock.monotonic,
                             wall=self.clock.wall)
        self.service = CaptureService(self.memory, self.config, self.paths, parts,
                                      ocr=self.ocr, threaded=threaded)
        self.memory.acquire_writer("test")
        self.n = 0

    def change_screen(self) -> None:
        self.n += 1
        self.screen.images = [render_screen([f"screen number {self.n}"])]

    def step(self, advance: float = 0.0) -> None:
        self.clock.advance(advance)
        self.service.step()

    def stored(self) -> int:
        return self.memory.capture_counters().captured + self.service._pending.captured

    def skipped(self) -> dict[str, int]:
        return dict(self.service._run_counters.skipped)


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path, "[capture]\ninterval_s = 3\nidle_after_s = 60\nmin_gap_s = 1\nhold_s = 0\n"
                      "region_ocr = false\n")
    yield r
    r.memory.close()


def test_interval_unchanged_and_window_switch(rig):
    rig.step()
    assert rig.stored() == 1
    rig.step(1.0)  # not due yet
    assert rig.screen.grabs == 1
    rig.step(2.0)  # due, same screen
    assert rig.screen.grabs == 2 and rig.stored() == 1
    assert rig.skipped() == {"unchanged": 1}
    rig.change_screen()
    rig.windows.window = window(title="other.txt - gedit")
    rig.step(1.1)  # a window switch captures before the interval is up
    assert rig.screen.grabs == 3 and rig.stored() == 2
    rig.change_screen()
    rig.windows.window = window(title="third.txt - gedit")
    rig.step(0.5)  # ...but never closer than min_gap_s
    assert rig.screen.grabs == 3
    rig.step(0.6)
    assert rig.screen.grabs == 4 and rig.stored() == 3


def test_nothing_drawn_means_no_grab_and_a_drawing_means_one(rig):
    # the display's damage report (X DAMAGE) spares grabbing a screen nobody drew on
    rig.step()
    assert rig.screen.grabs == 1 and rig.stored() == 1
    rig.signals.drawn = False
    for _ in range(3):
        rig.step(3.0)
    assert rig.screen.grabs == 1 and rig.skipped() == {"unchanged": 3}
    rig.change_screen()
    rig.signals.drawn = True
    rig.step(3.0)
    assert rig.screen.grabs == 2 and rig.stored() == 2
    # a screen forgotten on lock is grabbed again, whatever the display says
    rig.signals.drawn = False
    rig.signals.locked = True
    rig.step(3.0)
    rig.signals.locked = False
    rig.step(3.0)
    assert rig.screen.grabs == 3


def test_a_damage_report_that_misses_a_change_is_not_trusted_again(rig):
    from core.service import DAMAGE_CHECK_EVERY

    rig.step()
    rig.signals.drawn = False  # a display whose report never sees anything
    for _ in range(DAMAGE_CHECK_EVERY - 1):
        rig.step(3.0)
    assert rig.screen.grabs == 1
    rig.change_screen()  # drawn, but not reported
    rig.step(3.0)  # the check grabs and finds the change
    assert rig.screen.grabs == 2 and rig.stored() == 2
    rig.step(3.0)
    rig.step(3.0)
    assert rig.screen.grabs == 4  # every scheduled capture grabs again


def test_idle_and_locked_screens_store_nothing(rig):
    rig.signals.idle = 61.0
    for _ in range(4):
        rig.change_screen()
        rig.step(3.0)
    assert rig.service.state == "idle" and rig.stored() == 0 and rig.screen.grabs == 0
    rig.signals.idle = 0.0
    rig.signals.locked = True
    for _ in range(4):
        rig.change_screen()
        rig.step(3.0)
    assert rig.service.state == "locked" and rig.stored() == 0 and rig.screen.grabs == 0
    assert rig.skipped() == {"idle": 4, "locked": 4}
    rig.signals.locked = False
    rig.step(3.0)
    assert rig.service.state == "running" and rig.stored() == 1


@pytest.mark.parametrize(("duration", "seconds"), [("15m", 900), ("1h", 3600),
                                                   ("until-resumed", None)])
def test_pause_with_each_duration(rig, duration, seconds):
    control = PauseControl(rig.paths.run_dir, clock=rig.clock.wall)
    control.pause(parse_pause_duration(duration))
    rig.change_screen()
    rig.step(3.0)
    assert rig.service.state == "paused" and rig.stored() == 0
    status = rig.service.write_status()
    if seconds is None:
        rig.step(6 * 3600)
        assert rig.service.state == "paused" and rig.stored() == 0
        PauseControl(rig.paths.run_dir).resume()
    else:
        assert status.state == "paused"
        rig.step(seconds - 3.0 - 1.0)
        assert rig.service.state == "paused" and rig.stored() == 0
        rig.step(1.0)
    rig.step(3.0)
    assert rig.service.state == "running" and rig.stored() == 1


def test_excluded_and_private_windows_are_filtered_before_ocr(rig):
    rig.windows.window = window(app="keepassxc", wm_class="KeePassXC", title="db - KeePassXC")
    rig.step()
    rig.windows.window = window(app="firefox", wm_class="firefox",
                                title="Bank — Mozilla Firefox Private Browsing")
    rig.change_screen()
    rig.step(3.0)
    assert rig.stored() == 0 and rig.ocr.calls == 0
    assert rig.skipped() == {"excluded_app": 1, "private_window": 1}
    assert rig.service.state == "filtered"
    status = rig.service.write_status()
    raw = (rig.paths.run_dir / "service-status.json").read_text()
    assert "KeePass" not in raw and "Firefox" not in raw and "Bank" not in raw
    assert json.loads(raw)["frames_skipped"] == status.frames_skipped


def test_user_lists_sealed_in_the_vault_wait_for_the_handoff(tmp_path):
    from core.privacy.policy import PrivacyPolicy

    r = Rig(tmp_path, "[capture]\nregion_ocr = false\nhold_s = 0\n")
    r.memory.unlock("correct horse battery staple")
    r.memory.set_privacy_policy(PrivacyPolicy(excluded_apps=("gedit",)))
    r.memory.lock()
    policy_file = r.paths.vault_dir / "state" / "privacy-policy.sealed"
    assert b"gedit" not in policy_file.read_bytes()
    # a service started now (locked) waits for the lists instead of capturing without them
    from core.service import ServiceParts as Parts

    parts = Parts(screen=r.screen, windows=r.windows, signals=r.signals,
                  battery=lambda: False, monotonic=r.clock.monotonic, wall=r.clock.wall)
    service = CaptureService(r.memory, r.config, r.paths, parts, ocr=r.ocr, threaded=False)
    service.step()
    assert service.state == "waiting_for_unlock" and r.screen.grabs == 0
    service.write_status()
    r.memory.unlock("correct horse battery staple")
    assert r.memory.hand_policy_to_service()
    r.memory.lock()
    assert b"gedit" not in (r.paths.run_dir / "policy-handoff.sealed").read_bytes()
    r.clock.advance(3.0)
    service.step()
    assert service.state == "filtered" and r.ocr.calls == 0  # gedit is now excluded
    r.windows.window = window(app="mousepad", wm_class="Mousepad", title="x")
    r.change_screen()
    r.clock.advance(3.0)
    service.step()
    assert service.state == "running" and r.ocr.calls == 1
    r.memory.close()


class BlockingOcr(LineOcr):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()

    def recognize(self, image) -> OcrResult:
        self.entered.set()
        self.release.wait(30)
        return super().recognize(image)


def test_bounded_queue_drops_and_counts_when_the_pipeline_lags(tmp_path):
    r = Rig(tmp_path, "[capture]\nregion_ocr = false\nhold_s = 0\nqueue_size = 2\n",
            ocr=BlockingOcr(), threaded=True)
    service = r.service
    worker = threading.Thread(target=service._work, daemon=True)
    worker.start()
    r.step()
    assert r.ocr.entered.wait(10)  # the worker is stuck on frame 1
    for _ in range(6):
        r.change_screen()
        r.step(3.0)
    assert service._queue.qsize() == 2
    assert r.skipped() == {"dropped_backlog": 4}
    r.ocr.release.set()
    service.request_stop()
    worker.join(10)
    r.memory.close()


def test_status_file_and_clean_stop(tmp_path):
    r = Rig(tmp_path, "[capture]\nregion_ocr = false\nhold_s = 0\n")
    r.step()
    code = r.service._shutdown()
    assert code == 0 and r.screen.closed
    status = read_status(r.paths.run_dir)
    assert status is not None and status.state == "stopped" and status.frames_captured == 1
    assert r.memory.capture_counters().captured == 1
    r.memory.close()


def test_battery_lowers_the_rate(tmp_path):
    r = Rig(tmp_path, "[capture]\ninterval_s = 3\nbattery_interval_s = 12\nregion_ocr = false\n"
                      "hold_s = 0\n")
    r.service._parts.battery = lambda: True
    r.step()
    for _ in range(3):
        r.change_screen()
        r.step(3.0)
    assert r.screen.grabs == 1
    r.step(3.0)
    assert r.screen.grabs == 2
    assert r.service.write_status().interval_s == 12
    assert timedelta(seconds=12)
    r.memory.close()


def test_service_applies_retention_with_settings_changed_while_it_runs(tmp_path):
    """The service checks retention / the storage budget after its writes, re-reading
    [storage] from config.toml (the app's settings page writes it while capture runs)."""
    from datetime import UTC, datetime

    import numpy as np

    from core.records import MemoryRecord
    from core.store import NewMemory

    r = Rig(tmp_path, "[capture]\nregion_ocr = false\nhold_s = 0\n")
    old = MemoryRecord(id="0" * 32, timestamp=datetime.now(UTC) - timedelta(days=400),
                       app="editor", title="an old note",
                       ocr=OcrResult((OcrLine("an old note", 0.9, (0, 0, 1, 1)),)))
    r.memory.store_encoded([NewMemory(record=old, vectors=np.zeros((1, 384), np.float32),
                                      thumbnail=None, frame=None)])
    r.paths.config_file.write_text("[storage]\nmax_age_days = 30\n")
    r.step()  # stores a frame, then maintenance runs with the new setting
    assert r.stored() == 1
    assert r.memory.config.storage.max_age_days == 30
    assert r.memory._store.count() == 1  # the 400-day-old memory is gone, the new one stays
    assert "0" * 32 not in r.memory._store.ids()
    r.memory.close()


def test_lock_and_pause_forget_recent_chunk_vectors(rig, monkeypatch):
    """What the service remembers of recent screens (pixels, line readings, chunk vectors)
    is dropped when the screen locks and when capture is paused."""
    embedder = rig.memory._get_embedder()
    calls: list[str] = []
    monkeypatch.setattr(embedder, "forget", lambda: calls.append("forget"), raising=False)
    rig.change_screen()
    rig.step(3.0)
    assert rig.stored() == 1 and calls == []
    rig.signals.locked = True
    rig.step(3.0)
    assert rig.service.state == "locked" and calls
    rig.signals.locked = False
    calls.clear()
    PauseControl(rig.paths.run_dir, clock=rig.clock.wall).pause(parse_pause_duration("15m"))
    rig.step(3.0)
    assert rig.service.state == "paused" and calls
