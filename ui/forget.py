"""Forgetting from the GUI: preview exactly what will go, confirm, then forget on the
serial write worker. Used by the viewer's actions and Privacy & settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import QDateTime, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.backends import ForgetKind, ForgetOutcome, ForgetPreview, ForgetScope
from ui.background import user_message
from ui.session import Session

CONFIRM_WORD = "forget"


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} bytes"


def describe_scope(scope: ForgetScope) -> str:
    if scope.kind is ForgetKind.EVERYTHING:
        return "everything Afterimage remembers"
    if scope.kind is ForgetKind.MEMORY:
        return "this moment"
    if scope.kind is ForgetKind.APP:
        return f"every moment of {scope.app}"
    if scope.kind is ForgetKind.LAST_MINUTES:
        return f"the last {scope.minutes} minutes"
    since = scope.since.astimezone().strftime("%a %d %b %H:%M") if scope.since else "the start"
    until = scope.until.astimezone().strftime("%a %d %b %H:%M") if scope.until else "now"
    return f"everything from {since} to {until}"


def describe_preview(scope: ForgetScope, preview: ForgetPreview) -> str:
    n = preview.memories
    lines = [f"This will forget {describe_scope(scope)}, for ever:"]
    span = ""
    if preview.oldest and preview.newest:
        exact = scope.kind is not ForgetKind.EVERYTHING  # everything is known by the hour
        fmt = "%a %d %b %Y %H:%M" if exact else "%a %d %b %Y %H:00"
        end = "%a %d %b %Y %H:%M" if exact else "%a %d %b %Y %H:59"
        if exact and preview.oldest == preview.newest:
            span = f" (at {preview.oldest.astimezone():{fmt}})"
        else:
            span = (f" (from {preview.oldest.astimezone():{fmt}} to "
                    f"{preview.newest.astimezone():{end}})")
    lines.append(f"• {n:,} memor{'y' if n == 1 else 'ies'}{span}: their screenshots, "
                 "thumbnails, text and search data")
    if preview.apps:
        apps = ", ".join(f"{app} ({count:,})" for app, count in preview.apps)
        lines.append(f"• from {apps}")
    lines.append(f"• {preview.data_keys:,} encryption key{'s' if preview.data_keys != 1 else ''}"
                 " (destroyed, so old copies cannot be read)")
    lines.append(f"• about {human_bytes(preview.bytes_on_disk)} on disk")
    lines.append("")
    lines.append("This cannot be undone.")
    return "\n".join(lines)


class ForgetConfirmDialog(QDialog):
    def __init__(self, scope: ForgetScope, preview: ForgetPreview,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Forget for ever?")
        self.setModal(True)
        lay = QVBoxLayout(self)
        self.summary = QLabel(describe_preview(scope, preview), self)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.summary)
        lay.addWidget(QLabel(f"Type “{CONFIRM_WORD}” to confirm:", self))
        self.word = QLineEdit(self)
        self.word.setAccessibleName("Confirmation word")
        lay.addWidget(self.word)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.ok = self.buttons.addButton("Forget for ever",
                                         QDialogButtonBox.ButtonRole.DestructiveRole)
        self.ok.setEnabled(False)
        self.ok.clicked.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.word.textChanged.connect(
            lambda t: self.ok.setEnabled(t.strip().lower() == CONFIRM_WORD))
        self.setMinimumWidth(440)


class ForgetFlow(QObject):
    """preview -> confirm -> forget. ``confirm`` is swappable for tests and the tour."""

    message = Signal(str)
    finished = Signal(object)  # ForgetOutcome

    def __init__(self, session: Session, parent_widget: QWidget,
                 confirm: Callable[[ForgetScope, ForgetPreview], bool] | None = None) -> None:
        super().__init__(parent_widget)
        self._session = session
        self._parent = parent_widget
        self._confirm = confirm or self._dialog
        self.running = False

    def _dialog(self, scope: ForgetScope, preview: ForgetPreview) -> bool:
        dialog = ForgetConfirmDialog(scope, preview, self._parent)
        return dialog.exec() == QDialog.DialogCode.Accepted

    def start(self, scope: ForgetScope) -> None:
        backend = self._session.forget_backend
        if backend is None or self.running:
            return
        feature = backend.supports(scope.kind)
        if not feature.available:
            self.message.emit(feature.note)
            return
        self.running = True
        self._session.background.read(lambda job: backend.preview(scope),
                                      on_success=lambda p: self._previewed(scope, p),
                                      on_failure=self._failed, key="forget-preview",
                                      name="forget-preview")

    def _previewed(self, scope: ForgetScope, preview: ForgetPreview) -> None:
        if preview.memories == 0 and scope.kind is not ForgetKind.EVERYTHING:
            self.running = False
            self.message.emit("Nothing to forget there.")
            return
        if not self._confirm(scope, preview):
            self.running = False
            self.message.emit("Nothing was forgotten.")
            return
        backend = self._session.forget_backend
        assert backend is not None
        self.message.emit("Forgetting…")
        self._session.run_write(lambda job: backend.forget(scope, job), self._done,
                                on_failure=self._failed, name="forget")

    def _done(self, outcome: ForgetOutcome) -> None:
        self.running = False
        self.message.emit(
            f"Forgot {outcome.memories:,} memor{'y' if outcome.memories == 1 else 'ies'}; "
            f"destroyed {outcome.data_keys} key(s); freed {human_bytes(outcome.bytes_freed)}.")
        self.finished.emit(outcome)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.message.emit(f"Nothing was forgotten: {user_message(exc)}")


class RangeDialog(QDialog):
    """Pick a time range to forget (local time; the preview then says exactly what goes)."""

    def __init__(self, parent: QWidget | None = None, now: datetime | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Forget a time range")
        now = (now or datetime.now()).astimezone().replace(second=0, microsecond=0)
        form = QFormLayout(self)
        self.since = QDateTimeEdit(QDateTime(now - timedelta(hours=1)), self)
        self.until = QDateTimeEdit(QDateTime(now), self)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("ddd dd MMM yyyy HH:mm")
        form.addRow("From:", self.since)
        form.addRow("To:", self.until)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def scope(self) -> ForgetScope:
        since = self.since.dateTime().toPython()
        until = self.until.dateTime().toPython()
        assert isinstance(since, datetime) and isinstance(until, datetime)
        return ForgetScope(ForgetKind.RANGE, since=since.astimezone(), until=until.astimezone())


def ask_range(parent: QWidget) -> ForgetScope | None:
    dialog = RangeDialog(parent)
    return dialog.scope() if dialog.exec() == QDialog.DialogCode.Accepted else None


def ask_app(parent: QWidget) -> ForgetScope | None:
    from PySide6.QtWidgets import QInputDialog

    app, ok = QInputDialog.getText(parent, "Forget an app",
                                   "Forget every moment of this app (its name as shown in "
                                   "the timeline):")
    app = app.strip()
    return ForgetScope(ForgetKind.APP, app=app) if ok and app else None
