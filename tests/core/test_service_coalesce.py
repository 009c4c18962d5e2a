"""Coalescing in the capture service: while the screen keeps changing, the latest frame is held
and stored when the screen settles, the window changes, after ``hold_s``, at lock and at
stop; a pause discards it. Manual clock, in process."""

from __future__ import annotations

import hashlib

import pytest

from core.privacy.pause import PauseControl, parse_pause_duration
from core.types import OcrLine, OcrResult
from tests.capture_support import render_screen, window
from tests.core.test_service_schedule import Rig

pytestmark = pytest.mark.filterwarnings("ignore:table_names:DeprecationWarning")


def digest(image) -> str:
    return hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()


class RecordingOcr:
    """Remembers which frames were read (by pixel hash)."""

    def __init__(self) -> None:
        self.read: list[str] = []

    def recognize(self, image) -> OcrResult:
        self.read.append(digest(image))
        return OcrResult((OcrLine(f"text {len(self.read)}", 0.99, (0, 0, 10, 10)),))


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path, "[capture]\ninterval_s = 3\nmin_gap_s = 1\nhold_s = 20\n"
                      "region_ocr = false\n", ocr=RecordingOcr())
    yield r
    r.memory.close()


def show(rig: Rig, text: str) -> str:
    image = render_screen([text])
    rig.screen.images = [image]
    return digest(image)


def test_typing_is_stored_once_per_hold_and_when_it_settles(rig):
    shown = [show(rig, "typing 0")]
    rig.step()
    assert rig.stored() == 0  # held: the screen may change again
    for i in range(1, 7):  # a change at every grab: 3, 6, ... 18 s
        shown.append(show(rig, f"typing {i}"))
        rig.step(3.0)
    assert rig.stored() == 0 and rig.ocr.read == []
    shown.append(show(rig, "typing 7"))
    rig.step(3.0)  # 21 s after the first held change: the newest frame is stored
    assert rig.stored() == 1 and rig.ocr.read == [shown[7]]
    assert rig.skipped()["coalesced"] == 7
    shown.append(show(rig, "typing 8"))
    rig.step(3.0)
    assert rig.stored() == 1
    rig.step(3.0)  # unchanged: settled, the last state is stored
    assert rig.stored() == 2 and rig.ocr.read == [shown[7], shown[8]]
    rig.step(3.0)
    assert rig.stored() == 2  # nothing held, nothing new


def test_a_window_switch_stores_the_previous_window_first(rig):
    before = show(rig, "draft in the editor")
    rig.step()
    assert rig.stored() == 0
    rig.windows.window = window(app="firefox", wm_class="firefox", title="News - Firefox")
    after = show(rig, "the news page")
    rig.step(1.1)  # the switch is captured before the interval is up
    assert rig.stored() == 1 and rig.ocr.read == [before]
    rig.step(3.0)  # the new window settled
    assert rig.stored() == 2 and rig.ocr.read == [before, after]
    items = rig.memory.capture_counters()
    assert items.captured + rig.service._pending.captured == 2


def test_lock_stores_and_pause_discards_what_is_held(rig):
    seen = show(rig, "seen before the lock")
    rig.step()
    rig.signals.locked = True
    rig.step(3.0)
    assert rig.service.state == "locked" and rig.ocr.read == [seen]
    rig.signals.locked = False
    show(rig, "seen before the pause")
    rig.step(3.0)
    assert rig.stored() == 1
    PauseControl(rig.paths.run_dir, clock=rig.clock.wall).pause(parse_pause_duration("15m"))
    rig.step(3.0)
    assert rig.service.state == "paused"
    PauseControl(rig.paths.run_dir).resume()
    rig.step(3.0)  # running again, same screen: nothing from before the pause is stored
    assert rig.stored() == 1 and rig.ocr.read == [seen]
    assert rig.skipped()["paused"] >= 1


def test_stop_stores_the_held_frame(rig):
    last = show(rig, "the last thing on screen")
    rig.step()
    assert rig.stored() == 0
    rig.service.request_stop()
    assert rig.service._shutdown() == 0
    assert rig.ocr.read == [last] and rig.memory.capture_counters().captured == 1


def test_hold_zero_stores_every_changed_frame(tmp_path):
    r = Rig(tmp_path, "[capture]\ninterval_s = 3\nhold_s = 0\nregion_ocr = false\n",
            ocr=RecordingOcr())
    try:
        for i in range(3):
            show(r, f"frame {i}")
            r.step(3.0)
        assert r.stored() == 3 and "coalesced" not in r.skipped()
    finally:
        r.memory.close()
