"""Excluded windows that are visible but not focused are blacked out before OCR
(core/privacy/covered.py, wired in core/service.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PIL import Image

from core.privacy.covered import black_out, excluded_visible, subtract
from core.privacy.filter import PrivacyFilter
from core.service import CaptureService, ServiceParts
from core.types import ActiveWindow, MonitorGeometry, OcrLine, OcrResult, ScreenFrame
from tests.capture_support import (
    ManualClock,
    ScreenStub,
    SignalsStub,
    WindowStub,
    make_memory,
    window,
)

pytestmark = pytest.mark.filterwarnings("ignore:table_names:DeprecationWarning")


def placed(win: ActiveWindow, left: int, top: int, width: int, height: int) -> ActiveWindow:
    return replace(win, left=left, top=top, width=width, height=height)


EDITOR = placed(window(), 0, 0, 500, 400)
KEEPASS = placed(window(app="keepassxc", wm_class="KeePassXC", title="db - KeePassXC",
                        pid=77), 300, 100, 400, 300)


def test_subtract_leaves_the_uncovered_parts():
    assert subtract((0, 0, 10, 10), (20, 20, 30, 30)) == [(0, 0, 10, 10)]
    assert subtract((0, 0, 10, 10), (0, 0, 10, 10)) == []
    parts = subtract((0, 0, 10, 10), (3, 3, 6, 6))
    assert sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in parts) == 100 - 9


def test_visible_part_of_an_excluded_window_below_the_focused_one():
    privacy = PrivacyFilter()
    # KeePassXC at the bottom, the editor above it and focused
    covered = excluded_visible([KEEPASS, EDITOR], privacy.window_reason, focused=EDITOR)
    assert covered.reasons == ("excluded_app",)
    area = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in covered.boxes)
    assert area == 400 * 300 - 200 * 300  # the editor covers x 300-500 of it
    assert all(b[0] >= 500 or b[1] >= 400 for b in covered.boxes)
    # fully covered: nothing to hide
    big = placed(window(title="big"), 0, 0, 1000, 1000)
    assert not excluded_visible([KEEPASS, big], privacy.window_reason, focused=big)
    # focused excluded window: left to the window rules (they skip the monitor)
    assert not excluded_visible([EDITOR, KEEPASS], privacy.window_reason, focused=KEEPASS)
    # an excluded window with unknown geometry cannot be hidden: flagged
    lost = replace(KEEPASS, left=None, top=None, width=None, height=None)
    assert excluded_visible([lost], privacy.window_reason, focused=EDITOR).unknown_geometry


def test_black_out_paints_only_this_monitors_part():
    mon = MonitorGeometry(2, 1000, 0, 200, 100)
    frame = ScreenFrame(mon, Image.new("RGB", (200, 100), "white"), datetime.now(UTC))
    assert black_out(frame, [(0, 0, 900, 900)]) is None
    out = black_out(frame, [(1150, 50, 1400, 400)])
    assert out is not None
    assert out.image.getpixel((149, 49)) == (255, 255, 255)
    assert out.image.getpixel((150, 50)) == (0, 0, 0)
    assert out.image.getpixel((199, 99)) == (0, 0, 0)
    assert frame.image.getpixel((150, 50)) == (255, 255, 255)  # the original is untouched


class StackStub(WindowStub):
    def __init__(self, focused: ActiveWindow, stack: list[ActiveWindow]) -> None:
        self.window = focused
        self.stack = stack

    def visible_windows(self) -> list[ActiveWindow]:
        return list(self.stack)


class RecordingOcr:
    def __init__(self) -> None:
        self.images: list[Image.Image] = []

    def recognize(self, image) -> OcrResult:
        self.images.append(image.copy())
        return OcrResult((OcrLine("notes", 0.99, (0, 0, 10, 10)),))


def test_service_blacks_out_an_unfocused_excluded_window_before_ocr(tmp_path):
    memory, config, paths = make_memory(tmp_path, "[capture]\nregion_ocr = false\nhold_s = 0\n")
    clock = ManualClock()
    ocr = RecordingOcr()
    screen = ScreenStub(Image.new("RGB", (800, 600), "white"), offsets=[(0, 0)])
    parts = ServiceParts(screen=screen, windows=StackStub(EDITOR, [KEEPASS, EDITOR]),
                         signals=SignalsStub(), battery=lambda: False,
                         monotonic=clock.monotonic, wall=clock.wall)
    service = CaptureService(memory, config, paths, parts, ocr=ocr, threaded=False)
    memory.acquire_writer("test")
    try:
        service.step()
        assert len(ocr.images) == 1
        seen = ocr.images[0]
        assert seen.getpixel((600, 200)) == (0, 0, 0)  # visible part of KeePassXC
        assert seen.getpixel((400, 200)) == (255, 255, 255)  # under the editor: kept
        assert seen.getpixel((750, 200)) == (255, 255, 255)  # outside both
        assert service._run_counters.redacted == 1
    finally:
        memory.close()
