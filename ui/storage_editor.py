"""Storage and retention in Privacy & settings: what is kept, the budget, and its projection.

The budget and retention settings are edited here and saved to ``config.toml`` through the
session (``core.config.save_config_values`` on the write worker). The projection (how long
until the budget is full, then how many days and bytes each tier holds) is recomputed on the
UI thread as the user edits (``core.storage_projection``: arithmetic on counts, no I/O).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core.config import Config, StorageConfig
from core.memory import Stats
from core.storage_projection import BudgetProjection, project_budget
from ui.background import user_message
from ui.forget import human_bytes
from ui.session import Session

BUDGET_NOTE = ("When the budget is reached, the oldest memories first lose their full "
               "screenshot, then their thumbnail; their text stays searchable. Only when "
               "that is not enough are the oldest hours forgotten.")
TIER_WORDS = {"full": "full screenshots", "thumbnail": "thumbnails", "text": "text only"}


def _days(n: float) -> str:
    if n >= 3650:
        return "more than 10 years"
    if n >= 1 or n == 0:
        return f"{n:,.0f} day{'s' if round(n) != 1 else ''}"
    hours = n * 24
    return f"{hours:,.0f} hour{'s' if round(hours) != 1 else ''}"


def describe_tiers(projection: BudgetProjection) -> str:
    """One line per tier: how far back it reaches and its bytes, newest first."""
    if not projection.known:
        return "Shown after a day or two of capture (the growth per day is not known yet)."
    lines = []
    for tier in projection.tiers:
        if tier.days <= 0:
            continue
        lines.append(f"{TIER_WORDS[tier.tier].capitalize()}: {_days(tier.days)} "
                     f"({human_bytes(tier.bytes)})")
    end = ("then forgotten (age limit)" if projection.limited_by_age
           else "then the oldest hours are forgotten")
    total = _days(projection.history_days)
    total = total[0].upper() + total[1:] if total.startswith("more") else f"About {total}"
    return "\n".join(lines) + f"\n{total} in all, {end}."


class StorageEditor(QGroupBox):
    """Shows storage use; edits the budget and retention; saves them to the config file."""

    config_saved = Signal(object)  # the new Config

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__("Storage and retention", parent)
        self._session = session
        self._stats: Stats | None = None
        storage = session.config.storage
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.memories = QLabel("—", self)
        form.addRow("Memories:", self.memories)
        self.tiers = QLabel("—", self)
        form.addRow("Kept as:", self.tiers)
        self.disk = QLabel("—", self)
        form.addRow("On disk:", self.disk)
        self.by_tier = QLabel("—", self)
        self.by_tier.setAccessibleName("Bytes per tier")
        form.addRow("Space by tier:", self.by_tier)

        self.budget_gb = QDoubleSpinBox(self)
        self.budget_gb.setDecimals(1)
        self.budget_gb.setRange(0.1, 100_000.0)
        self.budget_gb.setSingleStep(1.0)
        self.budget_gb.setSuffix(" GB")
        self.budget_gb.setAccessibleName("Storage budget")
        self.budget = QLabel("—", self)
        row = QHBoxLayout()
        row.addWidget(self.budget_gb)
        row.addWidget(self.budget)
        row.addStretch(1)
        form.addRow("Storage budget:", row)

        self.max_age = QSpinBox(self)
        self.max_age.setRange(0, 36_500)
        self.max_age.setSuffix(" days")
        self.max_age.setSpecialValueText("until the budget needs the space")
        self.max_age.setAccessibleName("Keep memories")
        form.addRow("Keep memories:", self.max_age)
        self.keep_full = QSpinBox(self)
        self.keep_full.setRange(0, 3650)
        self.keep_full.setSuffix(" days")
        self.keep_full.setAccessibleName("Always keep full screenshots of the newest")
        form.addRow("Full screenshots, newest:", self.keep_full)
        self.keep_thumb = QSpinBox(self)
        self.keep_thumb.setRange(0, 3650)
        self.keep_thumb.setSuffix(" days")
        self.keep_thumb.setAccessibleName("Always keep thumbnails of the newest")
        form.addRow("Thumbnails, newest:", self.keep_thumb)

        self.projection = QLabel("—", self)
        self.projection.setWordWrap(True)
        # a wrapped label in a form row is sized for one narrow line unless given a width
        self.projection.setMinimumWidth(560)
        form.addRow("Budget reached:", self.projection)
        self.tier_projection = QLabel("—", self)
        self.tier_projection.setWordWrap(True)
        self.tier_projection.setMinimumWidth(560)
        self.tier_projection.setAccessibleName("Projected days and bytes per tier")
        form.addRow("Then it holds:", self.tier_projection)

        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save", self)
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton("Revert", self)
        self.revert_button.clicked.connect(self.revert)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.revert_button)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        buttons.addWidget(self.status, 1)
        form.addRow("", buttons)
        note = QLabel(BUDGET_NOTE, self)
        note.setWordWrap(True)
        note.setEnabled(False)
        form.addRow(note)
        self._show_config(storage)
        for spin in (self.max_age, self.keep_full, self.keep_thumb):
            spin.valueChanged.connect(self._edited)
        self.budget_gb.valueChanged.connect(self._edited)
        self._edited()

    # -------------------------------------------------------------- values
    def _show_config(self, storage: StorageConfig) -> None:
        for spin, value in ((self.budget_gb, storage.budget_mb / 1024),
                            (self.max_age, storage.max_age_days),
                            (self.keep_full, storage.keep_full_days),
                            (self.keep_thumb, storage.keep_thumbnail_days)):
            spin.blockSignals(True)
            spin.setValue(value)  # type: ignore[arg-type]  # float for the GiB spin box
            spin.blockSignals(False)
        for days in (self.max_age, self.keep_full, self.keep_thumb):
            days.setSuffix(" day" if days.value() == 1 else " days")

    def edited_values(self) -> dict[str, int]:
        return {"budget_mb": max(1, round(self.budget_gb.value() * 1024)),
                "max_age_days": self.max_age.value(),
                "keep_full_days": self.keep_full.value(),
                "keep_thumbnail_days": self.keep_thumb.value()}

    def edited_storage(self) -> StorageConfig:
        return replace(self._session.config.storage, **self.edited_values())

    @property
    def dirty(self) -> bool:
        saved = self._session.config.storage
        return any(getattr(saved, key) != value for key, value in self.edited_values().items())

    # ----------------------------------------------------------- behaviour
    def set_stats(self, stats: Stats | None) -> None:
        self._stats = stats
        if stats is None:
            for label in (self.memories, self.tiers, self.disk, self.by_tier):
                label.setText("—")
        else:
            self.memories.setText(f"{stats.memories:,}")
            self.tiers.setText(", ".join(f"{n:,} {name}" for name, n in stats.tiers.items()))
            self.disk.setText(f"{human_bytes(stats.bytes_on_disk)} (memories: "
                              f"{human_bytes(stats.bytes_store)})")
            self.by_tier.setText(", ".join(f"{name} {human_bytes(n)}"
                                           for name, n in stats.bytes_by_tier.items()) or "—")
        self._update_projection()

    def _edited(self) -> None:
        for spin in (self.max_age, self.keep_full, self.keep_thumb):
            spin.setSuffix(" day" if spin.value() == 1 else " days")
        self.save_button.setEnabled(self.dirty)
        self.revert_button.setEnabled(self.dirty)
        if self.dirty:
            self.status.setText("Not saved yet.")
        elif self.status.text() == "Not saved yet.":
            self.status.clear()
        self._update_projection()

    def projection_now(self) -> BudgetProjection | None:
        stats = self._stats
        if stats is None:
            return None
        return project_budget(self.edited_storage(), stats.bytes_store,
                              stats.daily_growth_bytes, stats.row_bytes)

    def _update_projection(self) -> None:
        stats = self._stats
        budget = self.edited_values()["budget_mb"] * 2**20
        if stats is None:
            self.budget.setText("—")
            self.projection.setText("—")
            self.tier_projection.setText("—")
            return
        share = 100 * stats.bytes_store / budget
        # the spin box beside it shows the budget (in GiB, as the config's MiB)
        self.budget.setText(f"{human_bytes(stats.bytes_store)} used ({share:.0f}%)")
        projection = self.projection_now()
        assert projection is not None
        self.projection.setText(describe_projection(stats, projection))
        self.tier_projection.setText(describe_tiers(projection))

    def save(self) -> None:
        values = self.edited_values()
        self.save_button.setEnabled(False)
        self.status.setText("Saving…")
        self._session.save_settings("storage", values, on_success=self._saved,
                                    on_failure=self._failed)

    def _saved(self, config: Config) -> None:
        self._show_config(config.storage)
        stats = self._stats
        over = stats is not None and stats.bytes_store > config.storage.budget_mb * 2**20
        self.status.setText(
            "Saved. The capture service applies it within 10 minutes of capturing (or run "
            "`afterimage maintain` now)."
            + (" The store is above the new budget: its oldest hours will be forgotten."
               if over else ""))
        self._edited()
        self.config_saved.emit(config)

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"Not saved: {user_message(exc)}")
        self.save_button.setEnabled(self.dirty)

    def revert(self) -> None:
        self._show_config(self._session.config.storage)
        self.status.clear()
        self._edited()


def describe_projection(stats: Stats, projection: BudgetProjection) -> str:
    growth = stats.daily_growth_bytes
    if not projection.known:
        return "Not enough history yet to project (a few days of capture are needed)."
    rate = f" at about {human_bytes(growth)} a day" if growth else ""
    days = projection.days_until_full
    if days is None:
        return f"Never{rate}: the age limit forgets memories first."
    if days <= 0:
        return (f"Reached{rate}: older memories are being thinned to stay within the "
                "budget.")
    if days >= 3650:
        return f"In more than 10 years{rate}."
    return f"In about {days:,.0f} day{'s' if round(days) != 1 else ''}{rate}."
