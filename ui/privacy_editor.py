"""Editing the user's privacy policy: excluded apps, window titles, sites, and what each
sensitive-text detector does.

The policy is sealed in the vault (``core.privacy.sealed``): it is read and saved through the
session (so on the background helper, never on the UI thread), and only while the vault is
unlocked. The lists are user content (SECURITY.md R1): on lock every widget here is emptied.
Each change is validated on the UI thread (``PrivacyPolicy`` checks entries and regular
expressions) and saved at once; a running capture service receives it straight away.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import InvalidInput
from core.privacy.detectors import DETECTOR_KINDS
from core.privacy.policy import DROP, REDACT, REDACT_LINE, REDACT_SPAN, PrivacyPolicy
from ui.background import user_message
from ui.session import Session

# (policy field, label, placeholder, help)
LISTS = (
    ("excluded_apps", "Apps", "e.g. signal-desktop",
     "The program's name or window class (as in the app filter of search)."),
    ("title_patterns", "Window titles containing", "e.g. Payroll  or  *bank*  or  re:^Invoice",
     "Text in the window title: plain text, a pattern with *, or re: and a regular "
     "expression."),
    ("url_patterns", "Sites (URLs)", "e.g. mybank.example  or  *://mail.*",
     "Part of the address shown by the browser, or a pattern with *."),
)

DETECTOR_LABELS: dict[str, str] = {
    "payment_card": "Payment card numbers",
    "iban": "IBAN bank accounts",
    "aws_access_key": "AWS access key ids",
    "aws_secret_key": "AWS secret keys",
    "github_token": "GitHub tokens",
    "gitlab_token": "GitLab tokens",
    "slack_token": "Slack tokens",
    "slack_webhook": "Slack webhooks",
    "stripe_key": "Stripe keys",
    "openai_key": "OpenAI keys",
    "google_api_key": "Google API keys",
    "jwt": "Web tokens (JWT)",
    "private_key": "Private-key blocks",
}
ACTION_CHOICES = ((REDACT, "Redact (black it out, keep the rest)"),
                  (DROP, "Drop the whole screenshot"))
MODE_CHOICES = ((REDACT_LINE, "The whole line that holds it"),
                (REDACT_SPAN, "Only the secret itself"))
LOCKED_NOTE = "Unlock to see and change your own exclusions (they are kept encrypted)."


def detector_label(kind: str) -> str:
    return DETECTOR_LABELS.get(kind, kind.replace("_", " ").capitalize())


class ExclusionList(QWidget):
    """One editable list (apps, titles or sites): entries, a text box, Add and Remove."""

    add_requested = Signal(str, str)  # field, value
    remove_requested = Signal(str, str)

    def __init__(self, field: str, placeholder: str, help_text: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.entries = QListWidget(self)
        self.entries.setAccessibleName(field)
        self.entries.setToolTip(help_text)
        self.entries.setMaximumHeight(self.entries.fontMetrics().lineSpacing() * 4 + 12)
        self.entries.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        lay.addWidget(self.entries, 0, 0, 1, 3)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setToolTip(help_text)
        self.edit.setMaxLength(300)
        self.edit.returnPressed.connect(self._add)
        lay.addWidget(self.edit, 1, 0)
        self.add_button = QPushButton("Add", self)
        self.add_button.clicked.connect(self._add)
        lay.addWidget(self.add_button, 1, 1)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self._remove)
        lay.addWidget(self.remove_button, 1, 2)
        lay.setColumnStretch(0, 1)
        self.edit.textChanged.connect(self._update_buttons)
        self.entries.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def values(self) -> list[str]:
        return [self.entries.item(i).text() for i in range(self.entries.count())]

    def set_values(self, values: tuple[str, ...]) -> None:
        self.entries.clear()
        self.entries.addItems(list(values))
        self._update_buttons()

    def _add(self) -> None:
        value = self.edit.text().strip()
        if value:
            self.add_requested.emit(self.field, value)

    def _remove(self) -> None:
        for item in self.entries.selectedItems():
            self.remove_requested.emit(self.field, item.text())

    def _update_buttons(self) -> None:
        on = self.isEnabled()
        self.add_button.setEnabled(on and bool(self.edit.text().strip()))
        self.remove_button.setEnabled(on and bool(self.entries.selectedItems()))

    def changeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)  # type: ignore[arg-type]
        if hasattr(self, "remove_button"):
            self._update_buttons()


class PrivacyEditor(QWidget):
    """The "Never captured" and "Sensitive text" sections of Privacy & settings."""

    saved = Signal()

    def __init__(self, session: Session, defaults: tuple[str, ...],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._policy: PrivacyPolicy | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(12)
        lay.addWidget(self._exclusions_box(defaults))
        lay.addWidget(self._redaction_box())
        session.locked.connect(self.clear)
        session.unlocked.connect(self.load)
        self.clear()
        if session.is_unlocked:
            self.load()

    # ------------------------------------------------------------------ layout
    def _exclusions_box(self, defaults: tuple[str, ...]) -> QGroupBox:
        box = QGroupBox("Never captured", self)
        lay = QVBoxLayout(box)
        always = QListWidget(box)
        always.addItems(list(defaults))
        always.setFixedHeight(always.sizeHintForRow(0) * always.count() + 8)
        always.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        lay.addWidget(QLabel("Always skipped:", box))
        lay.addWidget(always)
        self.own_lists_label = QLabel("Also skip (your own lists, kept encrypted in the vault):",
                                      box)
        lay.addWidget(self.own_lists_label)
        form = QFormLayout()
        self.lists: dict[str, ExclusionList] = {}
        for field, label, placeholder, help_text in LISTS:
            editor = ExclusionList(field, placeholder, help_text, box)
            editor.add_requested.connect(self._add)
            editor.remove_requested.connect(self._remove)
            form.addRow(label + ":", editor)
            self.lists[field] = editor
        lay.addLayout(form)
        self.status = QLabel("", box)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Privacy settings status")
        lay.addWidget(self.status)
        return box

    def _redaction_box(self) -> QGroupBox:
        box = QGroupBox("Sensitive text", self)
        lay = QVBoxLayout(box)
        intro = QLabel("Found in the text on screen before anything is stored. Redacted "
                       "text is replaced and blacked out in the screenshot too.", box)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        grid = QGridLayout()  # two detectors a row: label, choice, label, choice
        grid.setHorizontalSpacing(10)
        self.detector_actions: dict[str, QComboBox] = {}
        for i, kind in enumerate(DETECTOR_KINDS):
            combo = QComboBox(box)
            for value, text in ACTION_CHOICES:
                combo.addItem(text, value)
            combo.setAccessibleName(detector_label(kind))
            combo.currentIndexChanged.connect(lambda _i, k=kind: self._action_changed(k))
            label = QLabel(detector_label(kind) + ":", box)
            label.setBuddy(combo)
            grid.addWidget(label, i // 2, (i % 2) * 2)
            grid.addWidget(combo, i // 2, (i % 2) * 2 + 1)
            self.detector_actions[kind] = combo
        grid.setColumnMinimumWidth(2, 140)
        grid.setColumnStretch(4, 1)
        lay.addLayout(grid)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.mode = QComboBox(box)
        for value, text in MODE_CHOICES:
            self.mode.addItem(text, value)
        self.mode.setAccessibleName("When redacting, black out")
        self.mode.currentIndexChanged.connect(self._mode_changed)
        form.addRow("When redacting, black out:", self.mode)
        lay.addLayout(form)
        return box

    # ---------------------------------------------------------------- state
    @property
    def policy(self) -> PrivacyPolicy | None:
        return self._policy

    def _set_editable(self, on: bool) -> None:
        for editor in self.lists.values():
            editor.setEnabled(on)
        for combo in (*self.detector_actions.values(), self.mode):
            combo.setEnabled(on)

    def clear(self) -> None:
        """Locked: forget every entry shown (they are user content)."""
        self._policy = None
        for editor in self.lists.values():
            editor.set_values(())
            editor.edit.clear()
        self._show_actions(PrivacyPolicy())
        self._set_editable(False)
        self.status.setText(LOCKED_NOTE)

    def load(self) -> None:
        if not self._session.is_unlocked:
            return
        self.status.setText("Opening your privacy lists…")
        self._session.privacy_policy(self._loaded, on_failure=self._load_failed)

    def _loaded(self, policy: PrivacyPolicy) -> None:
        if not self._session.is_unlocked:
            return
        self._show(policy)
        self._set_editable(True)
        self.status.setText(self._summary(policy))

    def _show(self, policy: PrivacyPolicy) -> None:
        self._policy = policy
        for field, editor in self.lists.items():
            editor.set_values(getattr(policy, field))
        self._show_actions(policy)

    def _show_actions(self, policy: PrivacyPolicy) -> None:
        for kind, combo in self.detector_actions.items():
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(policy.action(kind))))
            combo.blockSignals(False)
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(max(0, self.mode.findData(policy.redact_mode)))
        self.mode.blockSignals(False)

    @staticmethod
    def _summary(policy: PrivacyPolicy) -> str:
        n = len(policy.excluded_apps) + len(policy.title_patterns) + len(policy.url_patterns)
        if not n:
            return "No exclusions of your own yet: add an app, a window title or a site above."
        return f"{n} exclusion{'s' if n != 1 else ''} of your own, kept encrypted in the vault."

    # ---------------------------------------------------------------- edits
    def _add(self, field: str, value: str) -> None:
        if self._policy is None:
            return
        values = list(getattr(self._policy, field))
        if value in values:
            self.status.setText(f"“{value}” is already in the list.")
            return
        if self._apply(**{field: (*values, value)}):
            self.lists[field].edit.clear()

    def _remove(self, field: str, value: str) -> None:
        if self._policy is None:
            return
        self._apply(**{field: tuple(v for v in getattr(self._policy, field) if v != value)})

    def _action_changed(self, kind: str) -> None:
        if self._policy is None:
            return
        self._apply(actions={**self._policy.actions,
                             kind: str(self.detector_actions[kind].currentData())})

    def _mode_changed(self, _index: int) -> None:
        if self._policy is None:
            return
        self._apply(redact_mode=str(self.mode.currentData()))

    def _apply(self, **changes: object) -> bool:
        """Validate, show and save the changed policy; False with a clear message when the
        change is not valid (nothing is saved then)."""
        if self._policy is None or not self._session.is_unlocked:
            self.status.setText(LOCKED_NOTE)
            return False
        try:
            policy = replace(self._policy, **changes)  # type: ignore[arg-type]
        except InvalidInput as exc:
            self.status.setText(f"Not added: {user_message(exc)}")
            self._show_actions(self._policy)
            return False
        self._show(policy)
        self.status.setText("Saving…")
        self._session.save_privacy_policy(policy, self._saved, on_failure=self._failed)
        return True

    def _saved(self, handed: bool) -> None:
        if self._policy is None:
            return
        text = "Saved, encrypted in your vault."
        if handed:
            text += " The capture service uses it from now on."
        self.status.setText(text)
        self.saved.emit()

    def _failed(self, exc: BaseException) -> None:
        message = f"Not saved: {user_message(exc)}"
        if self._session.is_unlocked:  # show what is really stored, keep the message
            def reloaded(policy: PrivacyPolicy) -> None:
                self._loaded(policy)
                self.status.setText(message)

            self._session.privacy_policy(reloaded, on_failure=self._load_failed)
        self.status.setText(message)

    def _load_failed(self, exc: BaseException) -> None:
        self.status.setText(f"Your privacy lists could not be opened: {user_message(exc)}")
