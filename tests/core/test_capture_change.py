"""Frame fingerprints: exact duplicates, changed fraction and persistence (no display)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageDraw

from core.capture import FrameFingerprint, IdenticalFrameFilter, changed_fraction, is_same
from core.errors import CaptureError
from core.types import MonitorGeometry, ScreenFrame


def _screen(width: int = 1920, height: int = 1080) -> Image.Image:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for row in range(0, height, 40):
        draw.text((20, row), f"line {row} of some text on screen", fill="black")
    return image


def _frame(image: Image.Image, index: int = 1) -> ScreenFrame:
    geometry = MonitorGeometry(index=index, left=0, top=0, width=image.width, height=image.height)
    return ScreenFrame(monitor=geometry, image=image, captured_at=datetime.now(UTC))


def test_identical_frames_are_the_same() -> None:
    image = _screen()
    first, second = FrameFingerprint.of(image), FrameFingerprint.of(image.copy())
    assert is_same(first, second)
    assert changed_fraction(first, second) == 0.0


def test_one_changed_pixel_is_not_identical_but_barely_changed() -> None:
    image = _screen()
    changed = image.copy()
    changed.putpixel((1000, 500), (254, 255, 255))
    before, after = FrameFingerprint.of(image), FrameFingerprint.of(changed)
    assert not is_same(before, after)
    assert changed_fraction(before, after) == 0.0  # far below the per-cell threshold


def test_changed_region_has_a_proportional_changed_fraction() -> None:
    image = _screen()
    changed = image.copy()
    ImageDraw.Draw(changed).rectangle((0, 0, 959, 539), fill="navy")  # a quarter of the screen
    fraction = changed_fraction(FrameFingerprint.of(image), FrameFingerprint.of(changed))
    assert 0.2 < fraction < 0.3


def test_different_sizes_count_as_fully_changed() -> None:
    small, large = FrameFingerprint.of(_screen(1280, 720)), FrameFingerprint.of(_screen())
    assert not is_same(small, large)
    assert changed_fraction(small, large) == 1.0


def test_fingerprint_bytes_roundtrip() -> None:
    fingerprint = FrameFingerprint.of(_screen())
    data = fingerprint.to_bytes()
    restored = FrameFingerprint.from_bytes(data)
    assert restored == fingerprint
    assert len(data) < 2500  # small enough to persist every capture


@pytest.mark.parametrize("data", [b"", b"AIFP", b"XXXX" + bytes(60), b"AIFP\x09" + bytes(60)])
def test_malformed_fingerprint_bytes_raise_capture_error(data: bytes) -> None:
    with pytest.raises(CaptureError):
        FrameFingerprint.from_bytes(data)


def test_filter_flags_repeats_per_monitor() -> None:
    image, other = _screen(), _screen(1280, 720)
    frames = IdenticalFrameFilter()
    assert not frames.is_duplicate(_frame(image, 1))
    assert not frames.is_duplicate(_frame(other, 2))  # another monitor has its own history
    assert frames.is_duplicate(_frame(image.copy(), 1))
    assert frames.is_duplicate(_frame(other.copy(), 2))
    changed = image.copy()
    changed.putpixel((0, 0), (0, 0, 0))
    assert not frames.is_duplicate(_frame(changed, 1))
    assert frames.is_duplicate(_frame(changed.copy(), 1))


def test_filter_state_survives_a_restart_through_bytes() -> None:
    image = _screen()
    before = IdenticalFrameFilter()
    before.is_duplicate(_frame(image))
    saved = {index: fp.to_bytes() for index, fp in before.last_fingerprints().items()}

    after = IdenticalFrameFilter(
        {index: FrameFingerprint.from_bytes(data) for index, data in saved.items()}
    )
    assert after.is_duplicate(_frame(image.copy()))


def test_fingerprint_of_1080p_frame_is_fast() -> None:
    image = _screen()
    FrameFingerprint.of(image)
    runs = 5
    start = time.perf_counter()
    for _ in range(runs):
        FrameFingerprint.of(image)
    per_frame_ms = (time.perf_counter() - start) / runs * 1000
    assert per_frame_ms < 100  # ~8 ms on a 2-core VM; generous bound for busy CI runners
