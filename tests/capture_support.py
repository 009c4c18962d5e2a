"""In-process capture helpers: a real vault and Memory, a screen that shows rendered images,
a settable active window, settable idle/lock signals and a manual clock."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from core.config import Config, Paths, parse_config
from core.memory import Factories, Memory, default_factories
from core.types import ActiveWindow, MonitorGeometry, ScreenFrame
from core.vault import KdfParams
from tests.support import PASSPHRASE

_MODELS: dict[str, object] = {}


def _shared(name: str, make):  # one embedder / OCR engine per test session (load time)
    if name not in _MODELS:
        _MODELS[name] = make()
    return _MODELS[name]


def make_memory(tmp_path: Path, toml: str = "") -> tuple[Memory, Config, Paths]:
    home = tmp_path / "home"
    paths = Paths(config_file=home / "config.toml", data_dir=home)
    config = parse_config(toml, environ={})
    kdf = KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1)
    base = default_factories(config)
    factories = Factories(ocr=lambda: _shared("ocr", base.ocr),
                          embedder=lambda: _shared("embedder", base.embedder),
                          screen=base.screen, windows=base.windows)
    memory = Memory.create(config, paths, PASSPHRASE, kdf=kdf, factories=factories)
    memory.lock()
    return memory, config, paths


def render_screen(lines: list[str], size: tuple[int, int] = (800, 200),
                  font_size: int = 24) -> Image.Image:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=font_size)
    for i, line in enumerate(lines):
        draw.text((20, 16 + i * int(font_size * 1.7)), line, fill="black", font=font)
    return img


class ScreenStub:
    """Shows whatever images the test sets, one per monitor (the grab itself is trivial)."""

    def __init__(self, *images: Image.Image, offsets: list[tuple[int, int]] | None = None):
        self.images = list(images)
        self.offsets = offsets or [(i * 10_000, 0) for i in range(len(images))]
        self.grabs = 0
        self.closed = False

    def grab_all(self) -> list[ScreenFrame]:
        self.grabs += 1
        now = datetime.now(UTC)
        return [ScreenFrame(MonitorGeometry(i + 1, x, y, img.width, img.height), img.copy(), now)
                for i, (img, (x, y)) in enumerate(zip(self.images, self.offsets, strict=True))]

    def close(self) -> None:
        self.closed = True


@dataclass
class WindowStub:
    window: ActiveWindow | None = None

    def active_window(self) -> ActiveWindow | None:
        return self.window


@dataclass
class SignalsStub:
    idle: float | None = 0.0
    locked: bool = False
    drawn: bool = True  # what the display says: something was drawn since the last look
    looks: int = 0

    def idle_seconds(self) -> float | None:
        return self.idle

    def screen_locked(self, window: ActiveWindow | None) -> bool:
        return self.locked

    def screen_changed(self) -> bool:
        self.looks += 1
        return self.drawn

    def close(self) -> None:
        return None


@dataclass
class ManualClock:
    t: float = 1000.0
    start: datetime = field(default_factory=lambda: datetime(2025, 3, 1, 9, 0, tzinfo=UTC))

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return self.start + timedelta(seconds=self.t - 1000.0)

    def advance(self, seconds: float) -> None:
        self.t += seconds


def window(app: str = "gedit", title: str = "notes.txt - gedit", wm_class: str = "Gedit",
           pid: int | None = 4321) -> ActiveWindow:
    return ActiveWindow(app=app, title=title, pid=pid, wm_class=wm_class)
