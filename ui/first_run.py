"""First run: create the passphrase, say what is captured and what never is, exclusions,
model choice, start capture. The vault is created on the serial worker at the end."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from core.vault import KdfParams
from ui.background import user_message
from ui.session import Session
from ui.theme import app_icon

COMMON = {"password", "passphrase", "123456", "qwerty", "letmein", "welcome", "iloveyou",
          "admin", "monkey", "dragon", "afterimage", "secret"}

# What the capture service drops by default (SECURITY.md R10). Shown here so the user
# knows before the first capture; their own lists are edited in Privacy & settings.
DEFAULT_EXCLUSIONS = (
    "Afterimage's own windows",
    "Private and incognito browser windows",
    "Password managers (KeePassXC, 1Password, Bitwarden, GNOME Keyring, KWallet)",
    "Authenticator apps",
    "Remote-desktop clients",
    "Payment card numbers, IBANs, API keys and private keys (redacted in text and pixels)",
)


def passphrase_strength(text: str) -> tuple[int, str]:
    """A rough 0-4 score and a hint. Length matters most; a passphrase of words is good."""
    if not text:
        return 0, "Use at least 8 characters; four or more random words work well."
    classes = sum(bool(re.search(p, text)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^\w\s]"))
    words = len([w for w in re.split(r"[\s\-_.]+", text) if len(w) >= 3])
    lowered = text.lower()
    if len(text) < 8:
        return 0, "Too short: at least 8 characters."
    if lowered in COMMON or any(lowered == c + d for c in COMMON for d in ("1", "123", "!")):
        return 0, "This is one of the most common passwords."
    if len(set(text)) <= 3:
        return 1, "Too repetitive."
    score = 1
    if len(text) >= 12 or (classes >= 3 and len(text) >= 10):
        score = 2
    if len(text) >= 16 or (words >= 3 and len(text) >= 14):
        score = 3
    if len(text) >= 22 or (words >= 4 and len(text) >= 20):
        score = 4
    hints = {1: "Weak: add more words or characters.",
             2: "Fair: a few more words would make it strong.",
             3: "Strong.", 4: "Very strong."}
    return score, hints[score]


class PassphrasePage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Create your passphrase")
        self.setSubTitle("Everything Afterimage keeps is encrypted with a key that only this "
                         "passphrase unlocks.")
        lay = QVBoxLayout(self)
        self.first = QLineEdit(self)
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.first.setPlaceholderText("Passphrase")
        self.first.setAccessibleName("Passphrase")
        self.second = QLineEdit(self)
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.second.setPlaceholderText("Type it again")
        self.second.setAccessibleName("Confirm passphrase")
        self.meter = QProgressBar(self)
        self.meter.setRange(0, 4)
        self.meter.setTextVisible(False)
        self.meter.setMaximumHeight(8)
        self.hint = QLabel("", self)
        self.hint.setWordWrap(True)
        self.match = QLabel("", self)
        warn = QLabel("<b>There is no recovery.</b> Without this passphrase nobody, including "
                      "you, can read your memories. Write it down somewhere safe.", self)
        warn.setWordWrap(True)
        for w in (self.first, self.meter, self.hint, self.second, self.match):
            lay.addWidget(w)
        lay.addSpacing(12)
        lay.addWidget(warn)
        lay.addStretch(1)
        self.first.textChanged.connect(self._changed)
        self.second.textChanged.connect(self._changed)
        self._changed()

    def _changed(self) -> None:
        score, hint = passphrase_strength(self.first.text())
        self.meter.setValue(score)
        self.hint.setText(hint)
        if self.second.text() and self.second.text() != self.first.text():
            self.match.setText("The two passphrases do not match.")
        else:
            self.match.setText("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        text = self.first.text()
        return len(text) >= 8 and text == self.second.text() and \
            passphrase_strength(text)[0] >= 1

    def passphrase(self) -> str:
        return self.first.text()


class CapturedPage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("What Afterimage keeps")
        self.setSubTitle("All of it stays on this computer, encrypted. Nothing is sent anywhere.")
        lay = QVBoxLayout(self)
        text = QLabel(
            "<p><b>Kept</b>, every few seconds while the screen changes:</p><ul>"
            "<li>a screenshot of each monitor and a small thumbnail</li>"
            "<li>the text on screen, read on this computer</li>"
            "<li>the active app, window title and web address</li></ul>"
            "<p><b>Never kept</b>:</p><ul>"
            "<li>anything while capture is paused or the screen is unchanged</li>"
            "<li>the windows and sensitive text listed on the next page</li>"
            "<li>sound, keystrokes, or the contents of your clipboard</li></ul>"
            "<p>You can forget any of it at any time, for ever.</p>", self)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(text)
        lay.addStretch(1)


class ExclusionsPage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Never captured")
        self.setSubTitle("These are skipped before anything is stored.")
        lay = QVBoxLayout(self)
        self.items = QListWidget(self)
        self.items.addItems(list(DEFAULT_EXCLUSIONS))
        self.items.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        lay.addWidget(self.items)
        note = QLabel("After setup you can add your own apps, window titles and sites, and "
                      "choose what happens to each kind of sensitive text, in Privacy & "
                      "settings.", self)
        note.setWordWrap(True)
        note.setEnabled(False)
        lay.addWidget(note)


class ModelsPage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Models")
        self.setSubTitle("Everything runs on this computer.")
        lay = QVBoxLayout(self)
        self.embedded = QRadioButton("Built-in (recommended): reads text on screen and "
                                     "searches it by meaning. Small and fast; nothing to "
                                     "download.", self)
        self.embedded.setChecked(True)
        lay.addWidget(self.embedded)
        self.larger = QRadioButton("Larger models: image search and better answers. "
                                   "Downloaded through the model manager.", self)
        self.larger.setEnabled(False)
        lay.addWidget(self.larger)
        note = QLabel("Larger models are downloaded later, when you choose, from Privacy & "
                      "settings → Models (the only time Afterimage uses the network).", self)
        note.setWordWrap(True)
        note.setEnabled(False)
        lay.addWidget(note)
        lay.addStretch(1)


class StartPage(QWizardPage):
    def __init__(self, capture_note: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Ready")
        self.setSubTitle("Afterimage will create your encrypted vault.")
        lay = QVBoxLayout(self)
        self.start_capture = QCheckBox("Start capturing now", self)
        self.start_capture.setChecked(False)
        self.start_capture.setEnabled(False)
        lay.addWidget(self.start_capture)
        note = QLabel(capture_note, self)
        note.setWordWrap(True)
        note.setEnabled(False)
        lay.addWidget(note)
        tip = QLabel("Meanwhile you can import screenshots you already have: "
                     "<code>afterimage import ~/Pictures/Screenshots</code>", self)
        tip.setWordWrap(True)
        tip.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(tip)
        lay.addStretch(1)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setVisible(False)
        lay.addWidget(self.busy)


class FirstRunWizard(QWizard):
    """Creates the vault; emits ``created`` when it is ready (unlocked)."""

    created = Signal()

    def __init__(self, session: Session, *, kdf: KdfParams | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._kdf = kdf
        self._done = False
        self.setWindowTitle("Welcome to Afterimage")
        self.setWindowIcon(app_icon())
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButton, False)
        self.setMinimumSize(620, 480)
        self.passphrase_page = PassphrasePage(self)
        self.captured_page = CapturedPage(self)
        self.exclusions_page = ExclusionsPage(self)
        self.models_page = ModelsPage(self)
        note = ("Continuous capture comes with the capture service, which is not in this "
                "build yet.")
        self.start_page = StartPage(note, self)
        for page in (self.passphrase_page, self.captured_page, self.exclusions_page,
                     self.models_page, self.start_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Create vault")

    def accept(self) -> None:
        if self._done:
            super().accept()
            return
        page = self.start_page
        page.status.setText("Creating your encrypted vault (this takes a moment)…")
        page.busy.setVisible(True)
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)
        self.button(QWizard.WizardButton.BackButton).setEnabled(False)
        self._session.create_vault(self.passphrase_page.passphrase(), kdf=self._kdf,
                                   on_success=self._created, on_failure=self._failed)

    def _created(self, _: object) -> None:
        self._done = True
        self.passphrase_page.first.clear()
        self.passphrase_page.second.clear()
        self.start_page.busy.setVisible(False)
        self.created.emit()
        super().accept()

    def _failed(self, exc: BaseException) -> None:
        page = self.start_page
        page.busy.setVisible(False)
        page.status.setText(f"Could not create the vault: {user_message(exc)}")
        self.button(QWizard.WizardButton.FinishButton).setEnabled(True)
        self.button(QWizard.WizardButton.BackButton).setEnabled(True)
