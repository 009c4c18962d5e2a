"""Show text in a large white window (a stand-in for "something the user saw").

Run by ``xenv.open_text_window`` as a subprocess with QT_QPA_PLATFORM=xcb::

    python show_text_window.py --title "Unique Title 123" --text "some unique phrase"
"""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import Qt, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QFont, QPaintEvent
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

APT_HINT = "sudo apt-get install -y $(grep -v '^#' scripts/apt-packages.txt)"


def _message_handler(kind: QtMsgType, _context: object, message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    if kind == QtMsgType.QtFatalMsg and "platform plugin" in message:
        print(
            "ERROR: Qt's xcb platform plugin could not load; the Debian libraries it needs "
            f"are missing. Install them with: {APT_HINT}",
            file=sys.stderr,
            flush=True,
        )


class TextLabel(QLabel):
    """A label that prints ``painted`` on stdout once its text has reached the screen."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._announced = False

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._announced and self.isVisible():
            self._announced = True
            # After this event the backing store is flushed to the X server.
            QTimer.singleShot(50, lambda: print("painted", flush=True))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--title", required=True)
    parser.add_argument("--text", required=True)
    parser.add_argument("--point-size", type=int, default=32)
    parser.add_argument("--geometry", default="",
                        help="LEFT,TOP,WIDTH,HEIGHT instead of maximised")
    args = parser.parse_args()

    qInstallMessageHandler(_message_handler)
    app = QApplication([sys.argv[0]])

    window = QWidget()
    window.setWindowTitle(args.title)
    window.setStyleSheet("background: white;")
    label = TextLabel(args.text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    font = QFont("DejaVu Sans")
    font.setPointSize(args.point_size)
    label.setFont(font)
    label.setStyleSheet("color: black; background: white;")
    layout = QVBoxLayout(window)
    layout.setContentsMargins(40, 40, 40, 40)
    layout.addWidget(label)

    if args.geometry:
        left, top, width, height = (int(v) for v in args.geometry.split(","))
        window.setGeometry(left, top, width, height)
        window.show()
    else:
        window.resize(1600, 900)
        window.showMaximized()
    window.raise_()
    window.activateWindow()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
