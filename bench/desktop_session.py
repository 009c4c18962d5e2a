"""A scripted desktop session for the service benchmark (run under Xvfb with QT_QPA_PLATFORM=xcb).

Two editor windows full of text; on a loop: type a word a second for 60 s, read (nothing
changes) for 60 s, scroll a few lines every 3 s for 30 s, then switch to the other window.
"""

from __future__ import annotations

import random
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QPlainTextEdit

WORDS = ("meeting budget review travel design river survey garden chapter figure table "
         "method schedule results data team report draft archive recipe").split()


def make_editor(title: str, seed: int, x: int) -> QPlainTextEdit:
    rng = random.Random(seed)
    edit = QPlainTextEdit()
    edit.setWindowTitle(title)
    edit.setFont(QFont("DejaVu Sans", 13))
    edit.setPlainText("\n".join(" ".join(rng.choice(WORDS) for _ in range(12)).capitalize()
                                for _ in range(200)))
    edit.setGeometry(x, 40, 1200, 1000)
    edit.show()
    return edit


def main() -> int:
    app = QApplication(sys.argv)
    editors = [make_editor("Notes A — Editor", 1, 40), make_editor("Notes B — Editor", 2, 680)]
    rng = random.Random(3)
    state = {"t": 0, "active": 0}

    def tick() -> None:
        t = state["t"] % 150
        edit = editors[state["active"]]
        if t < 60:  # typing
            edit.moveCursor(edit.textCursor().MoveOperation.End)
            edit.insertPlainText(" " + rng.choice(WORDS))
        elif 120 <= t < 150 and t % 3 == 0:  # scrolling
            bar = edit.verticalScrollBar()
            bar.setValue((bar.value() + 4) % max(1, bar.maximum()))
        if t == 149:  # switch windows
            state["active"] = 1 - state["active"]
            other = editors[state["active"]]
            other.raise_()
            other.activateWindow()
        state["t"] += 1

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(1000)
    print("ready", flush=True)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
