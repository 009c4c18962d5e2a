"""Copy text without leaving it in clipboard history (SECURITY.md R12).

KDE's Klipper and several other clipboard managers skip entries marked with the
``x-kde-passwordManagerHint`` MIME type set to ``secret``; Windows' clipboard history
honours ``ExcludeClipboardContentFromMonitorProcessing`` (Qt exposes other formats as
MIME types named ``application/x-qt-windows-mime;value="..."``).
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

PASSWORD_HINT = "x-kde-passwordManagerHint"
WINDOWS_EXCLUDE = ('application/x-qt-windows-mime;'
                   'value="ExcludeClipboardContentFromMonitorProcessing"')


def private_mime(text: str) -> QMimeData:
    mime = QMimeData()
    mime.setText(text)
    mime.setData(PASSWORD_HINT, b"secret")
    mime.setData(WINDOWS_EXCLUDE, b"\x00\x00\x00\x00")
    return mime


def copy_private(text: str) -> None:
    QGuiApplication.clipboard().setMimeData(private_mime(text))
