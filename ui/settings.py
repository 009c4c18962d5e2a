"""Privacy & settings: capture, exclusions, redaction, storage, forget, models, passphrase,
auto-lock, theme. What works in this build is wired; the rest is shown disabled with a note
that says what it comes with (never faked)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.memory import Stats
from core.ocr import ocr_scripts
from ui.backends import ForgetKind, ForgetScope, ServiceRunner, ServiceState, ServiceStatus
from ui.background import user_message
from ui.first_run import DEFAULT_EXCLUSIONS, passphrase_strength
from ui.forget import ForgetFlow, ask_app, ask_range
from ui.gui_settings import GuiSettings
from ui.privacy_editor import PrivacyEditor
from ui.session import Session
from ui.storage_editor import StorageEditor
from ui.theme import Theme, ThemeChoice

CAPTURE_SWITCH = "Capture continuously while Afterimage runs"
SCRIPT_NAMES = {"latin": "Latin, Greek, digits and symbols",
                "all": "all scripts, with Chinese and Japanese"}


def _form(box: QWidget) -> QFormLayout:
    form = QFormLayout(box)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
    return form


def _note(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setEnabled(False)
    return label


class SettingsPanel(QScrollArea):
    lock_requested = Signal()
    autolock_changed = Signal(int)
    capture_now_requested = Signal()
    capture_enabled_changed = Signal(bool)

    def __init__(self, session: Session, theme: Theme, prefs: GuiSettings,
                 forget_flow: ForgetFlow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._theme = theme
        self._prefs = prefs
        self._flow = forget_flow
        self.setWidgetResizable(True)
        body = QWidget(self)
        self.setWidget(body)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(4, 4, 12, 12)
        lay.setSpacing(12)
        lay.addWidget(self._capture_box(body))
        self.privacy = PrivacyEditor(session, DEFAULT_EXCLUSIONS, body)
        lay.addWidget(self.privacy)
        self.storage = StorageEditor(session, body)
        lay.addWidget(self.storage)
        # the storage labels, by the names other parts and tests know
        self.memories, self.tiers, self.disk = (self.storage.memories, self.storage.tiers,
                                                self.storage.disk)
        self.by_tier, self.budget, self.projection = (self.storage.by_tier,
                                                      self.storage.budget,
                                                      self.storage.projection)
        lay.addWidget(self._forget_box(body))
        lay.addWidget(self._models_box(body))
        lay.addWidget(self._security_box(body))
        lay.addWidget(self._appearance_box(body))
        lay.addStretch(1)
        forget_flow.message.connect(self.forget_status.setText)
        session.locked.connect(self.clear)
        session.changed.connect(self.refresh)

    # --------------------------------------------------------------- sections
    def _capture_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox("Capture", parent)
        form = _form(box)
        self.service_state = QLabel("", box)
        self.service_state.setWordWrap(True)
        # A wrapped label in a form row is given one narrow line; give it a width and two.
        self.service_state.setMinimumWidth(560)
        self.service_state.setMinimumHeight(self.service_state.fontMetrics().lineSpacing() * 2
                                            + 4)
        form.addRow("Status:", self.service_state)
        self.interval = QSpinBox(box)
        self.interval.setRange(1, 600)
        self.interval.setSuffix(" s")
        self.interval.setValue(int(self._session.config.capture.interval_s))
        self.interval.setEnabled(False)
        form.addRow("Capture every:", self.interval)
        self.capture_enabled = QCheckBox(CAPTURE_SWITCH, box)
        self.capture_enabled.setToolTip(
            "Runs the capture service in the background: a frame every few seconds while "
            "the screen changes, nothing while idle, locked or paused.")
        runner = self._session.service
        if isinstance(runner, ServiceRunner):
            self.capture_enabled.setChecked(runner.enabled)
        else:
            self.capture_enabled.setEnabled(False)
        self.capture_enabled.toggled.connect(self._capture_toggled)
        form.addRow(self.capture_enabled)
        row = QHBoxLayout()
        self.pause_buttons: list[QPushButton] = []
        for label, minutes in (("Pause 15 min", 15), ("Pause 1 hour", 60),
                               ("Pause until resumed", None)):
            button = QPushButton(label, box)
            button.clicked.connect(lambda _=False, m=minutes: self._pause(m))
            row.addWidget(button)
            self.pause_buttons.append(button)
        self.resume_button = QPushButton("Resume", box)
        self.resume_button.clicked.connect(self._resume)
        row.addWidget(self.resume_button)
        row.addStretch(1)
        form.addRow(row)
        self.capture_now = QPushButton("Capture now", box)
        self.capture_now.setToolTip("Capture every monitor once (Afterimage hides its own "
                                    "windows first).")
        self.capture_now.clicked.connect(self.capture_now_requested.emit)
        now_row = QHBoxLayout()
        now_row.addWidget(self.capture_now)
        now_row.addStretch(1)
        form.addRow(now_row)
        self._service_poll = QTimer(self)
        self._service_poll.setInterval(2000)
        self._service_poll.timeout.connect(self.refresh_service)
        self._service_poll.start()
        return box

    def _capture_toggled(self, on: bool) -> None:
        runner = self._session.service
        if isinstance(runner, ServiceRunner):
            runner.set_enabled(on)
            self._prefs.capture_enabled = on
            self._prefs.sync()
        self.capture_enabled_changed.emit(on)
        self.refresh_service()

    def _pause(self, minutes: int | None) -> None:
        service = self._session.service
        if service is not None:
            self._session.run_write(lambda job: service.pause(minutes),
                                    lambda _: self.refresh_service(),
                                    on_failure=self._service_failed, notify_changed=False,
                                    name="pause")

    def _resume(self) -> None:
        service = self._session.service
        if service is not None:
            self._session.run_write(lambda job: service.resume(),
                                    lambda _: self.refresh_service(),
                                    on_failure=self._service_failed, notify_changed=False,
                                    name="resume")

    def _service_failed(self, exc: BaseException) -> None:
        self.service_state.setText(user_message(exc))

    def refresh_service(self) -> None:
        service = self._session.service
        if service is None:
            self.service_state.setText("Create your vault to start capturing.")
            for button in (*self.pause_buttons, self.resume_button):
                button.setEnabled(False)
            return
        status = service.status()
        self.service_state.setText(self.status_text(status))
        pause_ok = service.pause_feature.available
        paused = status.state is ServiceState.PAUSED
        for button in self.pause_buttons:
            button.setEnabled(pause_ok and not paused)
        self.resume_button.setEnabled(pause_ok and paused)
        runner = service
        if isinstance(runner, ServiceRunner) and self.capture_enabled.isChecked() \
                != runner.enabled:
            self.capture_enabled.blockSignals(True)
            self.capture_enabled.setChecked(runner.enabled)
            self.capture_enabled.blockSignals(False)
        feature = service.capture_now_feature
        self.capture_now.setEnabled(feature.available and self._session.is_unlocked)
        self.capture_now.setToolTip(feature.note or "Capture every monitor once (Afterimage "
                                    "hides its own windows first).")

    def status_text(self, status: ServiceStatus) -> str:
        """The service's state, with what to do about it *here* (this page has the switch)."""
        text = status.detail or status.state.value
        if status.state is not ServiceState.STOPPED:
            return text
        runner = self._session.service
        if isinstance(runner, ServiceRunner):
            if runner.enabled:
                return f"{text} The capture service is starting…"
            return f"{text} Tick “{CAPTURE_SWITCH}” below to start."
        return text

    def _forget_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox("Forget", parent)
        lay = QVBoxLayout(box)
        row = QHBoxLayout()
        self.forget_buttons: dict[str, QPushButton] = {}
        backend = self._session.forget_backend
        later_note = ""
        for minutes in (5, 15, 60):
            button = QPushButton(f"Last {minutes} min", box)
            button.clicked.connect(lambda _=False, m=minutes: self._flow.start(
                ForgetScope(ForgetKind.LAST_MINUTES, minutes=m)))
            row.addWidget(button)
            self.forget_buttons[f"last{minutes}"] = button
        # Swappable for tests: return the scope the user picked, or None.
        self.pick_range: Callable[[QWidget], ForgetScope | None] = ask_range
        self.pick_app: Callable[[QWidget], ForgetScope | None] = ask_app
        for key, label in (("range", "A time range…"), ("app", "An app…")):
            button = QPushButton(label, box)
            button.clicked.connect(lambda _=False, k=key: self._pick_and_forget(k))
            row.addWidget(button)
            self.forget_buttons[key] = button
        row.addStretch(1)
        self.forget_all = QPushButton(self._theme.icon("forget"), "Everything…", box)
        self.forget_all.clicked.connect(
            lambda: self._flow.start(ForgetScope(ForgetKind.EVERYTHING)))
        row.addWidget(self.forget_all)
        self.forget_buttons["all"] = self.forget_all
        lay.addLayout(row)
        kinds = {"last5": ForgetKind.LAST_MINUTES, "last15": ForgetKind.LAST_MINUTES,
                 "last60": ForgetKind.LAST_MINUTES, "range": ForgetKind.RANGE,
                 "app": ForgetKind.APP, "all": ForgetKind.EVERYTHING}
        for key, button in self.forget_buttons.items():
            feature = backend.supports(kinds[key]) if backend else None
            ok = bool(feature and feature.available)
            button.setEnabled(ok)
            if feature and not feature.available:
                button.setToolTip(feature.note)
                later_note = feature.note
        lay.addWidget(QLabel("You see exactly what will go before anything is forgotten.",
                             box))
        if later_note:
            lay.addWidget(_note(later_note, box))
        self.forget_status = QLabel("", box)
        self.forget_status.setWordWrap(True)
        lay.addWidget(self.forget_status)
        return box

    def _pick_and_forget(self, key: str) -> None:
        scope = (self.pick_range if key == "range" else self.pick_app)(self)
        if scope is not None:
            self._flow.start(scope)

    def _models_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox("Models (all run on this computer)", parent)
        form = _form(box)
        form.addRow("Reading text:", QLabel("PP-OCR (RapidOCR), built in", box))
        self.scripts = QComboBox(box)
        auto = ocr_scripts("auto")
        for label, value in ((f"Automatic, from the system language: {SCRIPT_NAMES[auto]}",
                              "auto"),
                             (SCRIPT_NAMES["latin"], "latin"),
                             ("Also Chinese and Japanese", "all")):
            self.scripts.addItem(label, value)
        self.scripts.setCurrentIndex(max(0, self.scripts.findData(
            self._session.config.ocr.scripts)))
        self.scripts.setToolTip("Reading without Chinese and Japanese characters costs about "
                                "17% less CPU. Applies when capture next starts.")
        self.scripts.currentIndexChanged.connect(self._scripts_changed)
        self.scripts_note = QLabel("", box)
        self.scripts_note.setVisible(False)  # until a choice is saved
        field = QVBoxLayout()
        field.setContentsMargins(0, 0, 0, 0)
        field.addWidget(self.scripts, 0, Qt.AlignmentFlag.AlignLeft)
        field.addWidget(self.scripts_note)
        form.addRow("Text to read:", field)
        form.addRow("Search by meaning:", QLabel(
            f"MiniLM-L6 ({self._session.config.embed.text_model}), built in", box))
        chat = self._session.chat.feature
        form.addRow("Chat:", QLabel("ready" if chat.available else "not installed", box))
        from ui.models_panel import ModelsPanel

        self.models = ModelsPanel(self._session, box)
        form.addRow(self.models)
        return box

    def _scripts_changed(self, _index: int) -> None:
        value = self.scripts.currentData()
        self.scripts_note.setVisible(True)
        self.scripts_note.setText("Saving…")
        self._session.save_settings(
            "ocr", {"scripts": value},
            on_success=lambda _c: self.scripts_note.setText(
                "Saved: capture reads this way from its next start (turn capture off and "
                "on to apply it now)."),
            on_failure=lambda exc: self.scripts_note.setText(
                f"Not saved: {user_message(exc)}"))

    def _security_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox("Passphrase and locking", parent)
        form = _form(box)
        self.old_pass = QLineEdit(box)
        self.new_pass = QLineEdit(box)
        self.new_pass2 = QLineEdit(box)
        for edit, name in ((self.old_pass, "Current passphrase"),
                           (self.new_pass, "New passphrase"),
                           (self.new_pass2, "Confirm new passphrase")):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setMinimumWidth(280)
            edit.setAccessibleName(name)
            form.addRow(name + ":", edit)
        self.pass_hint = QLabel("", box)
        self.pass_hint.setWordWrap(True)
        form.addRow("", self.pass_hint)
        self.change_pass = QPushButton("Change passphrase", box)
        self.change_pass.setEnabled(False)
        self.change_pass.clicked.connect(self._change_passphrase)
        form.addRow("", self.change_pass)
        for edit in (self.old_pass, self.new_pass, self.new_pass2):
            edit.textChanged.connect(self._pass_changed)
        self.autolock = QSpinBox(box)
        self.autolock.setRange(0, 24 * 60)
        self.autolock.setSuffix(" min")
        self.autolock.setSpecialValueText("never")
        self.autolock.setValue(self._prefs.autolock_minutes)
        self.autolock.setToolTip("Lock after this long without using Afterimage.")
        self.autolock.valueChanged.connect(self._autolock_changed)
        form.addRow("Lock when idle after:", self.autolock)
        lock = QPushButton(self._theme.icon("lock"), "Lock now", box)
        lock.clicked.connect(self.lock_requested.emit)
        form.addRow("", lock)
        return box

    def _appearance_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox("Appearance", parent)
        form = _form(box)
        self.theme_choice = QComboBox(box)
        for choice, label in ((ThemeChoice.SYSTEM, "Follow the system"),
                              (ThemeChoice.LIGHT, "Light"), (ThemeChoice.DARK, "Dark")):
            self.theme_choice.addItem(label, choice.value)
        self.theme_choice.setCurrentIndex(
            max(0, self.theme_choice.findData(self._prefs.theme.value)))
        self.theme_choice.currentIndexChanged.connect(self._theme_changed)
        form.addRow("Theme:", self.theme_choice)
        return box

    # ---------------------------------------------------------------- behaviour
    def refresh(self) -> None:
        self.refresh_service()
        if self._session.is_unlocked:
            self._session.stats(self._got_stats, on_failure=lambda e: self.disk.setText(
                user_message(e)), key="settings-stats")

    def _got_stats(self, stats: Stats) -> None:
        self.storage.set_stats(stats)

    def clear(self) -> None:
        self.storage.set_stats(None)
        for edit in (self.old_pass, self.new_pass, self.new_pass2):
            edit.clear()
        self.forget_status.clear()
        self.pass_hint.clear()

    def _pass_changed(self) -> None:
        new, again = self.new_pass.text(), self.new_pass2.text()
        hint = passphrase_strength(new)[1] if new else ""
        if again and new != again:
            hint = "The new passphrases do not match."
        self.pass_hint.setText(hint)
        self.change_pass.setEnabled(bool(self.old_pass.text()) and len(new) >= 8
                                    and new == again)

    def _change_passphrase(self) -> None:
        self.change_pass.setEnabled(False)
        self.pass_hint.setText("Changing the passphrase…")
        self._session.change_passphrase(self.old_pass.text(), self.new_pass.text(),
                                        on_success=self._pass_done,
                                        on_failure=self._pass_failed)

    def _pass_done(self, _: object) -> None:
        for edit in (self.old_pass, self.new_pass, self.new_pass2):
            edit.clear()
        self.pass_hint.setText("Passphrase changed. Use the new one from now on.")

    def _pass_failed(self, exc: BaseException) -> None:
        self.pass_hint.setText(f"Not changed: {user_message(exc)}")
        self._pass_changed()

    def _autolock_changed(self, minutes: int) -> None:
        self._prefs.autolock_minutes = minutes
        self.autolock_changed.emit(minutes)

    def _theme_changed(self, _index: int) -> None:
        choice = ThemeChoice(self.theme_choice.currentData())
        self._prefs.theme = choice
        self._theme.apply(choice)
