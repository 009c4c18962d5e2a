"""Lock hides every decrypted pixel and text: after lock no widget or model holds memory
content (walks every widget, model and image the app holds)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from tests.ui.conftest import ScriptedChat, unlock

SECRETS = ("zephyrquokka", "miramar", "monthly_budget", "quarterly plan", "poster draft",
           "magenta poster", "thunderbird", "412 eur")
ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
         Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.UserRole + 1)


def _is_magenta_image(image: QImage) -> bool:
    if image.isNull():
        return False
    small = image.scaled(48, 48).convertToFormat(QImage.Format.Format_RGB32)
    hits = 0
    for y in range(small.height()):
        for x in range(small.width()):
            c = small.pixelColor(x, y)
            if c.red() > 200 and c.green() < 80 and c.blue() > 200:
                hits += 1
    return hits > 20


def _images_in(obj: object) -> list[QImage]:
    found = []
    for value in list(vars(obj).values()) if hasattr(obj, "__dict__") else []:
        if isinstance(value, QPixmap) and not value.isNull():
            found.append(value.toImage())
        elif isinstance(value, QImage):
            found.append(value)
    return found


def _model_values(view: QAbstractItemView) -> tuple[list[str], list[QImage]]:
    model = view.model()
    texts: list[str] = []
    images: list[QImage] = []
    if model is None:
        return texts, images
    for row in range(model.rowCount(QModelIndex())):
        try:
            columns = model.columnCount(QModelIndex())
        except TypeError:  # list models keep columnCount private
            columns = 1
        for col in range(max(1, columns)):
            index = model.index(row, col)
            for role in ROLES:
                value = model.data(index, role)
                if value is not None:
                    texts.append(str(value))
            deco = model.data(index, Qt.ItemDataRole.DecorationRole)
            if isinstance(deco, QPixmap):
                images.append(deco.toImage())
    return texts, images


def collect_everything() -> tuple[str, list[QImage]]:
    texts: list[str] = []
    images: list[QImage] = []
    for w in QApplication.allWidgets():
        texts += [w.windowTitle(), w.toolTip(), w.accessibleName(), w.statusTip()]
        if isinstance(w, QLabel):
            texts.append(w.text())
            pm = w.pixmap()
            if pm is not None and not pm.isNull():
                images.append(pm.toImage())
        if isinstance(w, QLineEdit):
            texts.append(w.text())
        if isinstance(w, QPlainTextEdit):
            texts.append(w.toPlainText())
        if isinstance(w, QTextEdit):
            texts.append(w.toHtml())
        if isinstance(w, QComboBox):
            texts += [w.itemText(i) for i in range(w.count())]
        if isinstance(w, QAbstractItemView):
            t, i = _model_values(w)
            texts += t
            images += i
        images += _images_in(w)
        for child in w.findChildren(QWidget):
            images += _images_in(child)
    return "\n".join(texts).lower(), images


def test_lock_leaves_no_memory_content_anywhere(qtbot, app_parts, vault):
    from ui.app_controller import AppController

    app_parts.session._chat_override = ScriptedChat(vault.ids, delay=0.001)
    app_parts.session._build_backends()
    app_parts.session.opened.emit()
    controller = AppController(app_parts.session, app_parts.window, app_parts.theme,
                               app_parts.prefs)
    unlock(qtbot, app_parts)
    shell = app_parts.window.shell
    timeline = shell.timeline
    # Fill every screen with decrypted content.
    qtbot.waitUntil(lambda: timeline.viewer.image.has_image, timeout=20000)  # magenta poster
    panel = shell.search
    panel.box.setText("ZEPHYRQUOKKA launch notes")
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0, timeout=30000)
    shell.open_memory(vault.ids[4], panel)
    qtbot.waitUntil(lambda: shell.viewer.image.has_image, timeout=10000)
    chat = shell.chat
    chat.input.setText("What is ZEPHYRQUOKKA about?")
    chat.send()
    qtbot.waitUntil(lambda: not chat.stream.running, timeout=10000)
    controller.quick_chat.prepare()
    controller.quick_chat.input.setText("ZEPHYRQUOKKA?")
    controller.quick_chat.send()
    qtbot.waitUntil(lambda: not controller.quick_chat.stream.running, timeout=10000)
    qtbot.waitUntil(lambda: len(shell.thumbs) >= 1, timeout=10000)
    text, images = collect_everything()
    # The walk does see the content while unlocked (the test can fail).
    assert "zephyrquokka" in text and "miramar" in text
    assert any(_is_magenta_image(i) for i in images)

    controller.tray.lock_action.trigger()
    assert not app_parts.session.is_unlocked
    qtbot.wait(100)  # let any late worker results arrive (they must be dropped)
    text, images = collect_everything()
    leaked = [s for s in SECRETS if s in text]
    assert leaked == []
    assert not any(_is_magenta_image(i) for i in images)
    assert len(shell.thumbs) == 0
    assert not shell.viewer.image.has_image and not timeline.viewer.image.has_image
    assert shell.chat.conversation_count == 0
    controller.dispose()


def test_afterimage_lock_over_ipc_locks_the_window(qtbot, app_parts, vault):
    """`afterimage lock` (core.ipc broadcast) reaches the GUI's `gui` endpoint and locks it."""
    from core import ipc
    from ui.app_controller import AppController

    controller = AppController(app_parts.session, app_parts.window, app_parts.theme,
                               app_parts.prefs)
    desktop = controller.start_desktop_lock(use_dbus=False)
    try:
        assert desktop.serving
        run_dir = app_parts.session.paths.run_dir
        assert "gui" in ipc.endpoints(run_dir)
        unlock(qtbot, app_parts)
        shell = app_parts.window.shell
        qtbot.waitUntil(lambda: shell.timeline.viewer.image.has_image, timeout=20000)
        assert ipc.request(run_dir, "gui", "status")["locked"] is False
        replies = ipc.broadcast(run_dir, "lock")
        assert isinstance(replies.get("gui"), dict) and replies["gui"]["locked"] is True
        qtbot.waitUntil(lambda: not app_parts.session.is_unlocked, timeout=5000)
        window = app_parts.window
        assert window.unlock_screen.isVisible()
        qtbot.wait(100)
        text, images = collect_everything()
        assert [s for s in SECRETS if s in text] == []
        assert not any(_is_magenta_image(i) for i in images)
        assert len(shell.thumbs) == 0
        assert ipc.request(run_dir, "gui", "status")["locked"] is True
    finally:
        controller.dispose()
    assert "gui" not in ipc.endpoints(app_parts.session.paths.run_dir)
