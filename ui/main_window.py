"""The main window: first run or unlock screen, then Timeline, Search, Chat and
Privacy & settings, with a memory viewer opened from search results and chat citations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from core.vault import KdfParams
from ui.first_run import FirstRunWizard
from ui.gui_settings import GuiSettings
from ui.session import Session
from ui.theme import Theme, app_icon
from ui.unlock import UnlockScreen

PAGES = (("timeline", "Timeline", "timeline", "Ctrl+1"),
         ("search", "Search", "search", "Ctrl+2"),
         ("chat", "Chat", "chat", "Ctrl+3"),
         ("settings", "Privacy & settings", "privacy", "Ctrl+4"))


class Shell(QWidget):
    """The unlocked app: navigation on the left, pages on the right."""

    def __init__(self, session: Session, theme: Theme, prefs: GuiSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Imported here: the pages are only needed once unlocked (fast first paint).
        from ui.chat import ChatPanel
        from ui.forget import ForgetFlow
        from ui.search import SearchPanel
        from ui.settings import SettingsPanel
        from ui.thumbnails import ThumbnailCache
        from ui.timeline import TimelineView
        from ui.viewer import MemoryViewer

        self._session = session
        self._theme = theme
        self.thumbs = ThumbnailCache(session, parent=self)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        side = QVBoxLayout()
        self.nav = QListWidget(self)
        self.nav.setAccessibleName("Sections")
        self.nav.setMaximumWidth(200)
        self.nav.setMinimumWidth(170)
        for key, label, icon, keys in PAGES:
            item = QListWidgetItem(theme.icon(icon), label)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setToolTip(f"{label} ({QKeySequence(keys).toString()})")
            self.nav.addItem(item)
        side.addWidget(self.nav, 1)
        self.lock_button = QPushButton(theme.icon("lock"), "Lock", self)
        self.lock_button.setToolTip("Lock now: hides everything and drops the keys (Ctrl+L)")
        side.addWidget(self.lock_button)
        lay.addLayout(side)
        self.pages = QStackedWidget(self)
        self.forget_flow = ForgetFlow(session, self)
        self.timeline = TimelineView(session, theme, self.thumbs, parent=self.pages)
        self.search = SearchPanel(session, theme, self.thumbs, parent=self.pages)
        self.chat = ChatPanel(session, theme, parent=self.pages)
        self.settings = SettingsPanel(session, theme, prefs, self.forget_flow,
                                      parent=self.pages)
        self.viewer = MemoryViewer(session, theme, show_back=True, key_prefix="viewer",
                                   parent=self.pages)
        for page in (self.timeline, self.search, self.chat, self.settings, self.viewer):
            self.pages.addWidget(page)
        lay.addWidget(self.pages, 1)
        self._back_to: QWidget = self.search
        self.nav.currentRowChanged.connect(self._nav_changed)
        self.search.open_memory.connect(lambda mid: self.open_memory(mid, self.search))
        self.chat.open_memory.connect(lambda mid: self.open_memory(mid, self.chat))
        self.viewer.back_requested.connect(self._back)
        for viewer in (self.viewer, self.timeline.viewer):
            viewer.forget_requested.connect(self.forget_flow.start)
        theme.changed.connect(self._retheme)
        self.nav.setCurrentRow(0)

    def show_page(self, key: str) -> None:
        for row in range(self.nav.count()):
            if self.nav.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self.nav.setCurrentRow(row)
                self._nav_changed(row)
                return

    @property
    def current_key(self) -> str:
        page = self.pages.currentWidget()
        if page is None:
            return ""
        return {self.timeline: "timeline", self.search: "search", self.chat: "chat",
                self.settings: "settings", self.viewer: "viewer"}.get(page, "")

    def open_memory(self, memory_id: str, back_to: QWidget) -> None:
        self._back_to = back_to
        self.viewer.show_memory(memory_id)
        self.pages.setCurrentWidget(self.viewer)
        self.nav.clearSelection()
        self.viewer.back.setFocus()

    def _back(self) -> None:
        key = "chat" if self._back_to is self.chat else "search"
        self.show_page(key)

    def _nav_changed(self, row: int) -> None:
        if row < 0:
            return
        page = (self.timeline, self.search, self.chat, self.settings)[row]
        self.pages.setCurrentWidget(page)
        if page is self.settings:
            self.settings.refresh()

    def _retheme(self) -> None:
        for row, (_key, _label, icon, _keys) in enumerate(PAGES):
            self.nav.item(row).setIcon(self._theme.icon(icon))
        self.lock_button.setIcon(self._theme.icon("lock"))


class MainWindow(QMainWindow):
    quit_requested = Signal()
    lock_requested = Signal()
    shell_built = Signal()

    def __init__(self, session: Session, theme: Theme, prefs: GuiSettings, *,
                 kdf: KdfParams | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._theme = theme
        self._prefs = prefs
        self._kdf = kdf
        self.keep_running_on_close = True
        self.setWindowTitle("Afterimage")
        self.setWindowIcon(app_icon())
        self.resize(1180, 780)
        self.setMinimumSize(820, 560)
        geometry = prefs.geometry
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.stack = QStackedWidget(self)
        self.setCentralWidget(self.stack)
        self.unlock_screen = UnlockScreen(session, self.stack)
        self.stack.addWidget(self.unlock_screen)
        self.wizard: FirstRunWizard | None = None
        self.shell: Shell | None = None
        if not session.has_vault:
            self._build_wizard()
        elif session.is_unlocked:
            self._build_shell()
        # else: the shell is built on first unlock (a locked start paints sooner)
        self.message = QLabel("", self)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setMaximumHeight(12)
        self.busy.setVisible(False)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.setInterval(8000)
        self._message_timer.timeout.connect(self.message.clear)
        self.statusBar().addWidget(self.message, 1)
        self.statusBar().addPermanentWidget(self.busy)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(250)  # only show the spinner for slow operations
        self._busy_timer.timeout.connect(lambda: self.busy.setVisible(
            session.background.busy))
        session.background.busy_changed.connect(self._busy_changed)
        session.background.failed.connect(self.show_message)
        session.locked.connect(self._on_locked)
        session.unlocked.connect(self._on_unlocked)
        for keys, fn in (("Ctrl+F", self.focus_search), ("Ctrl+L", self.lock_requested.emit),
                         ("Ctrl+Q", self.quit_requested.emit), ("Ctrl+W", self.close)):
            QShortcut(QKeySequence(keys), self).activated.connect(fn)
        for _key, _label, _icon, keys in PAGES:
            QShortcut(QKeySequence(keys), self).activated.connect(
                lambda k=_key: self.show_page(k))
        self._show_current()
        if session.has_vault:
            # Load the search model while the unlock screen waits for the passphrase.
            QTimer.singleShot(300, session.warm_up)

    # --------------------------------------------------------------- building
    def _build_wizard(self) -> None:
        wizard = FirstRunWizard(self._session, kdf=self._kdf, parent=self.stack)
        wizard.setWindowFlags(Qt.WindowType.Widget)
        wizard.created.connect(self._vault_created)
        wizard.rejected.connect(self.quit_requested.emit)
        self.wizard = wizard
        self.stack.addWidget(wizard)

    def _build_shell(self) -> None:
        if self.shell is not None:
            return
        self.shell = Shell(self._session, self._theme, self._prefs, self.stack)
        self.stack.addWidget(self.shell)
        self.shell.lock_button.clicked.connect(self.lock_requested.emit)
        self.shell.settings.lock_requested.connect(self.lock_requested.emit)
        self.shell.forget_flow.message.connect(self.show_message)
        self.shell_built.emit()

    def _vault_created(self) -> None:
        self._build_shell()
        if self.wizard is not None:
            self.stack.removeWidget(self.wizard)
            self.wizard.deleteLater()
            self.wizard = None
        if self._session.is_unlocked:
            self._on_unlocked()
        else:
            self._show_current()

    def _show_current(self) -> None:
        if not self._session.has_vault and self.wizard is not None:
            self.stack.setCurrentWidget(self.wizard)
        elif self._session.is_unlocked and self.shell is not None:
            self.stack.setCurrentWidget(self.shell)
        else:
            self.stack.setCurrentWidget(self.unlock_screen)
            self.unlock_screen.reset()

    # ---------------------------------------------------------------- actions
    def show_page(self, key: str) -> None:
        if self.shell is not None and self._session.is_unlocked:
            self.shell.show_page(key)

    def focus_search(self) -> None:
        if self.shell is not None and self._session.is_unlocked:
            self.shell.show_page("search")
            self.shell.search.focus_box()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self._message_timer.start()  # a child timer: it dies with the window

    def bring_to_front(self) -> None:
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()

    # ---------------------------------------------------------------- state
    def _on_locked(self) -> None:
        self.message.clear()
        self._show_current()
        # Drop anything Qt itself may have cached from decrypted images.
        from PySide6.QtGui import QPixmapCache

        QPixmapCache.clear()

    def _on_unlocked(self) -> None:
        self._build_shell()
        self._show_current()
        if self.shell is not None:
            self.shell.timeline.refresh()
            self.shell.settings.refresh()
            self.shell.timeline.hours.setFocus()

    def _busy_changed(self, busy: bool) -> None:
        if busy:
            self._busy_timer.start()
        else:
            self._busy_timer.stop()
            self.busy.setVisible(False)

    # ----------------------------------------------------------------- events
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self._prefs.geometry = QByteArray(self.saveGeometry())
        if self.keep_running_on_close and QApplication.instance() is not None:
            event.ignore()
            self.hide()
            return
        super().closeEvent(event)

