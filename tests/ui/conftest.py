"""Fixtures for GUI tests: a real vault with memories imported from rendered screenshots.

The vault is built once per session (OCR and embeddings are real) and copied for each test,
so tests that forget or change the passphrase do not affect the others.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import Qt

from core.config import Config, Paths, SecurityConfig
from core.memory import Memory
from core.vault import KdfParams
from tests.support import PASSPHRASE, render_text_png

SECRET_TITLE = "Quarterly plan ZEPHYRQUOKKA"
SECRET_WORD = "ZEPHYRQUOKKA"
MAGENTA = (255, 0, 255)

# name (local time in the file name), app, title, lines
SHOTS = [
    ("2024-05-13_09-05-10", "firefox", "Hotel Miramar booking",
     ["Hotel Miramar", "Check-in 14 June", "Sea view double room"]),
    ("2024-05-13_09-06-40", "firefox", "Hotel Miramar booking", ["Hotel Miramar payment",
                                                                 "Total 412 EUR"]),
    ("2024-05-13_09-30-00", "code", "budget.py", ["def monthly_budget():", "rent = 950"]),
    ("2024-05-13_11-15-00", "thunderbird", SECRET_TITLE, [SECRET_WORD + " launch notes",
                                                          "Ship the beta on Friday"]),
    ("2024-05-14_16-45-00", "gimp", "Magenta poster", ["Poster draft"]),
]


def cheap_kdf() -> KdfParams:
    return KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1)


def cheap_config(*, consolidate_in_app: bool = False) -> Config:
    """Test config: a cheap KDF; background captioning off unless a test is about it (it
    would load the caption model in every GUI test)."""
    base = Config()
    return replace(base, security=SecurityConfig(kdf_memory_mib=8, kdf_iterations=1,
                                                 kdf_min_seconds=0),
                   consolidation=replace(base.consolidation, in_app=consolidate_in_app))


def paths_for(home: Path) -> Paths:
    return Paths(config_file=home / "config.toml", data_dir=home)


@dataclass(frozen=True)
class VaultInfo:
    home: Path
    ids: tuple[str, ...]
    secret_texts: tuple[str, ...]

    @property
    def paths(self) -> Paths:
        return paths_for(self.home)


def _render(folder: Path) -> list[Path]:
    files = []
    for name, app, title, lines in SHOTS:
        path = render_text_png(folder / f"{name}.png", lines, size=(640, 360), font_size=26)
        if app == "gimp":  # a memory whose pixels are unmistakable (for the lock test)
            img = Image.open(path).convert("RGB")
            ImageDraw.Draw(img).rectangle((0, 200, 640, 360), fill=MAGENTA)
            img.save(path)
        (folder / f"{name}.json").write_text(json.dumps({"app": app, "title": title}))
        files.append(path)
    return files


@pytest.fixture(scope="session")
def template_vault(tmp_path_factory: pytest.TempPathFactory) -> VaultInfo:
    root = tmp_path_factory.mktemp("vault-template")
    shots = root / "shots"
    shots.mkdir()
    files = _render(shots)
    home = root / "home"
    memory = Memory.create(cheap_config(), paths_for(home), PASSPHRASE, kdf=cheap_kdf())
    try:
        report = memory.import_paths(files)
        assert len(report.imported) == len(SHOTS), report.failed
        ids = tuple(report.imported)
    finally:
        memory.close()
    shutil.rmtree(shots)
    return VaultInfo(home=home, ids=ids, secret_texts=(SECRET_TITLE, SECRET_WORD))


@pytest.fixture
def vault(template_vault: VaultInfo, tmp_path: Path) -> VaultInfo:
    home = tmp_path / "home"
    shutil.copytree(template_vault.home, home)
    return replace(template_vault, home=home)


@dataclass
class App:
    session: object
    window: object
    theme: object
    prefs: object
    memory: Memory


@pytest.fixture
def app_parts(qtbot, vault: VaultInfo) -> Iterator[App]:
    from PySide6.QtWidgets import QApplication

    from ui.background import Background
    from ui.gui_settings import GuiSettings
    from ui.main_window import MainWindow
    from ui.session import Session
    from ui.theme import Theme

    QApplication.instance().setStyle("Fusion")  # type: ignore[union-attr]
    memory = Memory.open(cheap_config(), vault.paths)
    prefs = GuiSettings(vault.home / "gui.ini")
    theme = Theme(prefs.theme)
    session = Session(cheap_config(), vault.paths, Background(), memory=memory,
                      display_available=False)
    window = MainWindow(session, theme, prefs, kdf=cheap_kdf())
    window.keep_running_on_close = False
    qtbot.addWidget(window)
    window.resize(1180, 780)
    window.show()
    from ui import gc_policy

    gc_policy.install()  # as app/gui.py does
    yield App(session, window, theme, prefs, memory)
    session.close()


def unlock(qtbot, app: App, passphrase: str = PASSPHRASE) -> None:
    window = app.window
    window.unlock_screen.passphrase.setText(passphrase)
    window.unlock_screen.submit()
    qtbot.waitUntil(lambda: app.session.is_unlocked, timeout=20000)


class ScriptedChat:
    """A ChatBackend for tests: streams a fixed answer citing real memories, slowly.

    The real chat component comes with the chat issue; this stands in for it so the panel's
    streaming, citations and stop button are exercised against real memory ids.
    """

    def __init__(self, ids: tuple[str, ...], delay: float = 0.01, repeat: int = 1) -> None:
        self.ids = ids
        self.delay = delay
        self.repeat = repeat
        self.tokens_sent = 0
        self.questions: list[str] = []
        self.continued: list[str | None] = []  # the saved conversation each question continued

    @property
    def feature(self):
        from ui.backends import Feature

        return Feature.yes()

    def ask_stream(self, question, cancel, conversation=None):
        import time

        from ui.backends import ChatToken, Citation

        self.questions.append(question)
        self.continued.append(conversation)
        yield Citation(1, self.ids[0], label="Hotel Miramar booking")
        yield Citation(2, self.ids[3], label="launch notes")
        words = ("You booked the Hotel Miramar [1] and planned the launch [2]. " * self.repeat)
        for word in words.split(" "):
            if cancel.cancelled:
                return
            time.sleep(self.delay)
            self.tokens_sent += 1
            yield ChatToken(word + " ")


_CONTROL = """
import sys, time
last = time.perf_counter()
while True:
    time.sleep(0.010)  # wakes up like the UI's 10 ms timer does
    now = time.perf_counter()
    if now - last > 0.020:
        print(f"{last!r} {now!r}", flush=True)
    last = now
"""


class LatencyProbe:
    """Measures how late a 10 ms QTimer fires: the UI thread's longest stall.

    The machine this runs on may be shared and overloaded (the OS then starves every
    process, which is not the app's doing). A control process that shares nothing with us
    (no GIL, no Qt) records when *it* was starved; UI ticks that overlap such a moment are
    set aside (``starved``) and the rest are the app's own stalls (``worst_ms``).
    """

    def __init__(self, interval_ms: int = 10) -> None:
        import time

        from PySide6.QtCore import QTimer

        self._time = time.perf_counter
        self.interval = interval_ms / 1000
        self.ticks: list[tuple[float, float]] = []  # (previous tick, this tick)
        self._last = self._time()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self._control = None
        self.starved_windows: list[tuple[float, float]] = []

    def start(self) -> None:
        import subprocess
        import sys

        self._control = subprocess.Popen([sys.executable, "-c", _CONTROL],
                                         stdout=subprocess.PIPE, text=True)
        self._last = self._time()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if self._control is not None:
            self._control.terminate()
            out, _ = self._control.communicate(timeout=10)
            for line in out.splitlines():
                a, b = line.split()
                self.starved_windows.append((float(a), float(b)))
            self._control = None

    def _tick(self) -> None:
        now = self._time()
        self.ticks.append((self._last, now))
        self._last = now

    @property
    def lateness(self) -> list[float]:
        return [max(0.0, b - a - self.interval) for a, b in self.ticks]

    def _starved(self, a: float, b: float) -> bool:
        return any(sa < b and sb > a for sa, sb in self.starved_windows)

    @property
    def starved(self) -> int:
        return sum(1 for a, b in self.ticks if b - a - self.interval > 0.02
                   and self._starved(a, b))

    @property
    def worst_ms(self) -> float:
        own = [max(0.0, b - a - self.interval) for a, b in self.ticks
               if not self._starved(a, b)]
        return 1000 * max(own, default=0.0)

    @property
    def worst_raw_ms(self) -> float:
        return 1000 * max(self.lateness, default=0.0)
