"""Desktop-app benchmark with N synthetic memories (default 100k).

Measures, offscreen:
- launch to first paint (a fresh process: imports, QApplication, vault open, window);
  baseline in the same run: a fresh process that paints an empty QMainWindow;
- unlock to an interactive timeline (days listed, the newest hour's moments shown);
  baseline: the plain ``Memory.timeline_hours()`` + ``moments_in_hour()`` calls;
- timeline scroll: frame times while scrubbing through an hour's moments with thumbnails;
- search as you type: keystroke pause to results, after the index is warm; and the
  warm-up (model load + decrypting every memory into the in-memory index).

Synthetic memories: random 384-d vectors, a short text, a tiny thumbnail on every 10th
(thumbnails are what the timeline decodes); one memory every 3 s, like capture.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.bench_gui [--n 100000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PASSPHRASE = "correct horse battery staple"
WORDS = ("invoice hotel budget launch design review meeting travel notes report flight "
         "kitchen garden recipe contract payroll poster music lecture").split()

CHILD = r"""
import os, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {repo!r})
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
app.setStyle("Fusion")
class Paint(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint:
            print(f"{{time.perf_counter() - t0:.4f}}", flush=True)
            QTimer.singleShot(0, app.quit)
            obj.removeEventFilter(self)
        return False
if {baseline!r}:
    w = QMainWindow(); w.resize(1180, 780)
else:
    from dataclasses import replace
    from core.config import Config, Paths
    from core.memory import Memory
    from ui.background import Background
    from ui.gui_settings import GuiSettings
    from ui.main_window import MainWindow
    from ui.session import Session
    from ui.theme import Theme
    home = {home!r}
    from pathlib import Path
    paths = Paths(config_file=Path(home) / "c.toml", data_dir=Path(home))
    prefs = GuiSettings(Path(home) / "gui.ini")
    memory = Memory.open(Config(), paths)
    session = Session(Config(), paths, Background(), memory=memory, display_available=False)
    w = MainWindow(session, Theme(prefs.theme), prefs)
    w.keep_running_on_close = False
f = Paint(); w.installEventFilter(f); w.show()
app.exec()
"""


def build_vault(home: Path, n: int) -> float:
    import numpy as np
    from PIL import Image

    from core.config import Config, Paths, SecurityConfig
    from core.memory import Memory
    from core.records import MemoryRecord
    from core.store import NewMemory
    from core.types import OcrLine, OcrResult
    from core.vault import KdfParams

    config = replace(Config(), security=SecurityConfig(kdf_memory_mib=8, kdf_iterations=1,
                                                       kdf_min_seconds=0))
    paths = Paths(config_file=home / "c.toml", data_dir=home)
    memory = Memory.create(config, paths, PASSPHRASE,
                           kdf=KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1))
    rng = np.random.default_rng(7)
    buf = io.BytesIO()
    Image.new("RGB", (192, 108), (90, 120, 200)).save(buf, "JPEG", quality=60)
    thumb = buf.getvalue()
    start = datetime.now(UTC) - timedelta(seconds=3 * n)
    t0 = time.perf_counter()
    batch: list[NewMemory] = []
    for i in range(n):
        words = " ".join(rng.choice(WORDS, 8))
        rec = MemoryRecord(id=os.urandom(16).hex(), timestamp=start + timedelta(seconds=3 * i),
                           app=str(rng.choice(["firefox", "code", "slack", "terminal"])),
                           title=f"Window {i % 97}", ocr=OcrResult((OcrLine(words, 0.9,
                                                                            (10, 10, 300, 40)),)),
                           width=1920, height=1080, text_model="minilm")
        vec = rng.standard_normal((1, 384)).astype(np.float32)
        vec /= np.linalg.norm(vec)
        batch.append(NewMemory(record=rec, vectors=vec, thumbnail=thumb if i % 10 == 0 else None,
                               frame=None))
        if len(batch) == 5000:
            memory._store.add(batch)  # bulk synthetic rows: the store directly
            batch = []
    if batch:
        memory._store.add(batch)
    memory.close()
    return time.perf_counter() - t0


def first_paint(home: Path, baseline: bool, runs: int = 3) -> list[float]:
    repo = str(Path(__file__).resolve().parent.parent)
    out = []
    for _ in range(runs):
        code = CHILD.format(repo=repo, baseline=baseline, home=str(home))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=300, check=True)
        out.append(float(proc.stdout.strip().splitlines()[-1]))
    return out


def in_process(home: Path) -> dict[str, object]:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from core.config import Config, Paths
    from core.memory import Memory
    from ui.background import Background
    from ui.gui_settings import GuiSettings
    from ui.main_window import MainWindow
    from ui.session import Session
    from ui.theme import Theme

    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    paths = Paths(config_file=home / "c.toml", data_dir=home)

    def wait(cond, ms=600000):  # type: ignore[no-untyped-def]
        deadline = time.perf_counter() + ms / 1000
        while not cond() and time.perf_counter() < deadline:
            loop = QEventLoop()
            QTimer.singleShot(5, loop.quit)
            loop.exec()

    # Baseline: the facade calls the timeline makes, without any GUI.
    memory = Memory.open(Config(), paths)
    memory.unlock(PASSPHRASE)
    t0 = time.perf_counter()
    hours = memory.timeline_hours()
    moments = memory.moments_in_hour(hours[-1].bucket)
    facade_s = time.perf_counter() - t0
    memory.close()

    memory = Memory.open(Config(), paths)
    prefs = GuiSettings(home / "gui.ini")
    session = Session(Config(), paths, Background(), memory=memory, display_available=False)
    window = MainWindow(session, Theme(prefs.theme), prefs)
    window.keep_running_on_close = False
    window.resize(1180, 780)
    window.show()
    memory.unlock(PASSPHRASE)  # unlock itself is the KDF; measured elsewhere
    t0 = time.perf_counter()
    session._unlocked = True
    session.unlocked.emit()  # what a successful unlock does: builds the shell, lists days
    shell = window.shell
    assert shell is not None
    timeline = shell.timeline
    wait(lambda: timeline.model.rowCount() > 0 and timeline.current_moment() is not None)
    interactive_s = time.perf_counter() - t0
    days = timeline.days.count()
    hour_moments = len(timeline.model.moment_rows())

    # Scroll: scrub through the hour; time each repaint of the strip.
    frames: list[float] = []
    from PySide6.QtCore import QEvent, QObject

    class PaintTimer(QObject):
        start = 0.0

        def eventFilter(self, obj, ev):  # type: ignore[no-untyped-def]  # noqa: N802
            if ev.type() == QEvent.Type.Paint:
                self.start = time.perf_counter()
            return False

    pt = PaintTimer()
    viewport = timeline.strip.viewport()
    viewport.installEventFilter(pt)
    steps = min(300, hour_moments)
    for i in range(steps):
        t = time.perf_counter()
        timeline.scrub.setValue(i)
        viewport.repaint()
        frames.append((time.perf_counter() - t) * 1000)
        if i % 10 == 0:
            loop = QEventLoop()
            QTimer.singleShot(1, loop.quit)
            loop.exec()  # let thumbnails arrive
    wait(lambda: session.models_ready)  # warm-up: model + index of every memory

    t_warm = time.perf_counter()
    session.warm_up()
    wait(lambda: session.background.pending() == 0)
    warm_again_s = time.perf_counter() - t_warm

    panel = shell.search
    window.show_page("search")
    latencies = []
    for query in ("hotel invoice", "design review", "kitchen recipe", "flight report",
                  "music lecture"):
        done = []
        panel.searched.connect(lambda n, s, d=done: d.append(s))
        panel.box.setText(query)
        t = time.perf_counter()
        wait(lambda d=done: bool(d))
        latencies.append((time.perf_counter() - t) * 1000)
        panel.searched.disconnect()
    session.close()
    return {
        "facade_timeline_s": facade_s,
        "facade_moments_last_hour": len(moments),
        "unlock_to_interactive_timeline_s": interactive_s,
        "days": days,
        "hour_moments": hour_moments,
        "scroll_frame_ms": {"median": statistics.median(frames),
                            "p95": sorted(frames)[int(0.95 * len(frames)) - 1],
                            "max": max(frames), "frames": len(frames)},
        "index_refresh_after_warm_s": warm_again_s,
        "search_debounce_plus_query_ms": {"median": statistics.median(latencies),
                                          "max": max(latencies),
                                          "debounce_ms": 150},
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--out", default="bench/results/gui.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build_s = build_vault(home, args.n)
        print(f"built {args.n} memories in {build_s:.1f} s", flush=True)
        base = first_paint(home, baseline=True)
        app = first_paint(home, baseline=False)
        print(f"first paint: app {app}, empty window {base}", flush=True)
        inproc = in_process(home)
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, {platform.python_version()}",
        "memories": args.n,
        "build_s": build_s,
        "first_paint_s": {"app_median": statistics.median(app), "runs": app,
                          "empty_window_median": statistics.median(base), "baseline_runs": base,
                          "ratio_vs_empty_window": statistics.median(app)
                          / statistics.median(base)},
        **inproc,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
