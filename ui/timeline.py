"""The timeline: days -> hours -> moments, scrubbed with the mouse (slider, strip, wheel)
and the keyboard (arrows, Page Up/Down for hours, Ctrl+Page Up/Down for days, Home/End).

Days and hours come from ``Memory.timeline_hours`` (plaintext hour buckets: nothing is
decrypted to list them); the moments of the chosen hour are decrypted on demand, metadata
only; thumbnails load lazily for the moments that are painted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSlider,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from core.gap_log import reason_for
from core.retrieval.episodes import Episode
from core.timeline import MomentSummary, TimelineGap, TimelineHour, find_gaps
from ui.backends import DaySummaries
from ui.session import DayOverview, Session
from ui.theme import Theme
from ui.thumbnails import ThumbnailCache
from ui.viewer import MemoryViewer

GAP_MIN_SECONDS = 120
MomentRole = Qt.ItemDataRole.UserRole + 1
GapRole = Qt.ItemDataRole.UserRole + 2
THUMB = QSize(176, 99)
CELL = QSize(188, 140)
GAP_CELL = QSize(72, 140)


@dataclass
class DayEntry:
    day: date
    hours: dict[int, list[TimelineHour]] = field(default_factory=dict)  # local hour -> buckets

    @property
    def count(self) -> int:
        return sum(h.count for hs in self.hours.values() for h in hs)


def group_days(hours: list[TimelineHour]) -> list[DayEntry]:
    """UTC hour buckets -> local days and hours (newest day first)."""
    days: dict[date, DayEntry] = {}
    for hour in hours:
        local = hour.start.astimezone()
        entry = days.setdefault(local.date(), DayEntry(local.date()))
        entry.hours.setdefault(local.hour, []).append(hour)
    return [days[d] for d in sorted(days, reverse=True)]


def day_label(day: date, today: date | None = None) -> str:
    today = today or datetime.now().astimezone().date()
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    if day.year == today.year:
        return day.strftime("%a %d %b")
    return day.strftime("%a %d %b %Y")


def gap_text(gap: TimelineGap) -> str:
    minutes = int(gap.seconds // 60)
    span = f"{minutes} min" if minutes < 90 else f"{minutes / 60:.1f} h"
    return span


GAP_REASONS = {"paused": "capture was paused", "locked": "the screen was locked",
               "filtered": "a privacy rule withheld the screen",
               "idle": "you were away (no keyboard or mouse input)",
               "waiting": "capture waited for you to unlock (your privacy lists are sealed)",
               "not running": "the capture service was not running"}
GAP_SHORT = {"paused": "paused", "locked": "locked", "filtered": "filtered", "idle": "away",
             "waiting": "waiting", "not running": "off"}


def gap_reason(gap: TimelineGap) -> str:
    if gap.reason in GAP_REASONS:
        return f"No captures for {gap_text(gap)}: {GAP_REASONS[gap.reason]}."
    return (f"No captures for {gap_text(gap)}. No reason was recorded: the screen may not "
            "have changed, or these memories were imported.")


def day_gaps_text(gaps: tuple[TimelineGap, ...] | list[TimelineGap], limit: int = 4) -> str:
    """The day's longest recorded gaps, in time order: "Not captured: 10:00–11:30 paused"."""
    longest = sorted(sorted(gaps, key=lambda g: -g.seconds)[:limit], key=lambda g: g.start)
    if not longest:
        return ""
    parts = [f"{g.start.astimezone():%H:%M}–{g.end.astimezone():%H:%M} "
             f"{GAP_SHORT.get(g.reason or '', g.reason or '')}" for g in longest]
    more = len(gaps) - len(longest)
    return "Not captured: " + " · ".join(parts) + (f" · {more} more" if more > 0 else "")


def episode_text(episode: Episode) -> str:
    start, end = episode.start.astimezone(), episode.end.astimezone()
    span = f"{start:%H:%M}" + (f"–{end:%H:%M}" if f"{end:%H:%M}" != f"{start:%H:%M}" else "")
    return f"{span}  {episode.app} · {episode.title}" if episode.title else f"{span}  {episode.app}"


class MomentModel(QAbstractListModel):
    """The moments of the selected hour(s), with gap markers between them."""

    def __init__(self, thumbs: ThumbnailCache, parent: Any = None) -> None:
        super().__init__(parent)
        self._thumbs = thumbs
        self._items: list[MomentSummary | TimelineGap] = []
        self._row_of: dict[str, int] = {}
        self._moments: list[MomentSummary] = []
        self._recorded: list[TimelineGap] = []
        thumbs.ready.connect(self._thumb_ready)

    def set_recorded_gaps(self, gaps: list[TimelineGap] | tuple[TimelineGap, ...]) -> None:
        """Why capture held (core/gap_log.py): gives the gap markers their reason."""
        self._recorded = list(gaps)
        # Update the gap markers in place: a model reset would lose the current moment.
        for row, item in enumerate(self._items):
            if isinstance(item, TimelineGap):
                reason = reason_for(item, self._recorded)
                if reason != item.reason:
                    self._items[row] = replace(item, reason=reason)
                    index = self.index(row)
                    self.dataChanged.emit(index, index)

    def set_moments(self, moments: list[MomentSummary]) -> None:
        self.beginResetModel()
        self._moments = list(moments)
        items: list[MomentSummary | TimelineGap] = []
        gaps = {g.start: replace(g, reason=reason_for(g, self._recorded))
                for g in find_gaps(moments, GAP_MIN_SECONDS)}
        for moment in moments:
            items.append(moment)
            gap = gaps.get(moment.timestamp)
            if gap is not None:
                items.append(gap)
        self._items = items
        self._row_of = {m.id: i for i, m in enumerate(items) if isinstance(m, MomentSummary)}
        self.endResetModel()

    def clear(self) -> None:
        self._recorded = []
        self.set_moments([])

    def moment_rows(self) -> list[int]:
        return [i for i, m in enumerate(self._items) if isinstance(m, MomentSummary)]

    def moment_at(self, row: int) -> MomentSummary | None:
        item = self._items[row] if 0 <= row < len(self._items) else None
        return item if isinstance(item, MomentSummary) else None

    def row_of(self, memory_id: str) -> int | None:
        return self._row_of.get(memory_id)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._items)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        item = self._items[index.row()]
        if isinstance(item, TimelineGap):
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if isinstance(item, TimelineGap):
            if role == Qt.ItemDataRole.DisplayRole:
                return gap_text(item)
            if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
                return gap_reason(item)
            if role == GapRole:
                return item
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return item.timestamp.astimezone().strftime("%H:%M:%S")
        if role == Qt.ItemDataRole.ToolTipRole:
            return " — ".join(p for p in (item.app, item.title or item.source or "") if p)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{item.timestamp.astimezone():%H:%M:%S} {item.app}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbs.get(item.id)
        if role == MomentRole:
            return item
        if role == Qt.ItemDataRole.SizeHintRole:
            return CELL
        return None

    def _thumb_ready(self, memory_id: str) -> None:
        row = self._row_of.get(memory_id)
        if row is not None:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])


class MomentDelegate(QStyledItemDelegate):
    def __init__(self, theme: Theme, parent: Any = None) -> None:
        super().__init__(parent)
        self._theme = theme

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802 - Qt API
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return GAP_CELL if index.data(GapRole) is not None else CELL

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        rect: QRect = option.rect
        pal: QPalette = option.palette
        state = option.state
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        muted = self._theme.muted()
        if index.data(GapRole) is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            stripe = QColor(muted)
            stripe.setAlpha(60)
            painter.setBrush(stripe)
            band = QRect(rect.center().x() - 2, rect.top() + 10, 4, THUMB.height())
            painter.drawRoundedRect(band, 2, 2)
            painter.setPen(muted)
            painter.drawText(QRect(rect.left(), rect.top() + THUMB.height() + 12, rect.width(),
                                   18), Qt.AlignmentFlag.AlignCenter, str(index.data()))
            gap = index.data(GapRole)
            if gap.reason:
                painter.drawText(QRect(rect.left(), rect.top() + THUMB.height() + 29,
                                       rect.width(), 18), Qt.AlignmentFlag.AlignCenter,
                                 GAP_SHORT.get(gap.reason, gap.reason))
            painter.restore()
            return
        selected = bool(state & QStyle.StateFlag.State_Selected)
        focus = bool(state & QStyle.StateFlag.State_HasFocus)
        if selected:
            bg = QColor(pal.color(QPalette.ColorRole.Highlight))
            bg.setAlpha(60)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(bg)
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 8, 8)
        thumb_rect = QRect(rect.left() + (rect.width() - THUMB.width()) // 2, rect.top() + 8,
                           THUMB.width(), THUMB.height())
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.size().scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(thumb_rect.center())
            painter.drawPixmap(target, pixmap)
        else:
            placeholder = QColor(muted)
            placeholder.setAlpha(40)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(placeholder)
            painter.drawRoundedRect(thumb_rect, 6, 6)
        if selected or focus:
            pen_color = pal.color(QPalette.ColorRole.Highlight)
            painter.setPen(pen_color)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(thumb_rect.adjusted(-1, -1, 1, 1), 6, 6)
        moment = index.data(MomentRole)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        text_rect = QRect(rect.left() + 6, thumb_rect.bottom() + 4, rect.width() - 12, 18)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         str(index.data()))
        app = moment.app if moment is not None else ""
        if app:
            painter.setPen(muted)
            elided = option.fontMetrics.elidedText(
                app, Qt.TextElideMode.ElideRight, text_rect.width())
            painter.drawText(text_rect.translated(0, 17),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
        painter.restore()


class HourStrip(QWidget):
    """24 cells for one day: bar height = memories in that hour; empty hours are gaps."""

    hour_selected = Signal(int)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._counts: dict[int, int] = {}
        self._selected: int | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumHeight(64)
        self.setAccessibleName("Hours of the day")
        self.setToolTip("Hours of the day. Click or use the arrow keys to pick an hour.")

    @property
    def selected(self) -> int | None:
        return self._selected

    def set_counts(self, counts: dict[int, int]) -> None:
        self._counts = dict(counts)
        self.update()

    def select(self, hour: int | None, *, emit: bool = True) -> None:
        if hour is not None and hour not in self._counts:
            return
        self._selected = hour
        self.update()
        if emit and hour is not None:
            self.hour_selected.emit(hour)

    def _step(self, direction: int) -> None:
        hours = sorted(self._counts)
        if not hours:
            return
        if self._selected is None:
            self.select(hours[-1])
            return
        later = [h for h in hours if (h - self._selected) * direction > 0]
        if later:
            self.select(min(later, key=lambda h: abs(h - self._selected)))  # type: ignore[operator]

    def next_hour(self) -> bool:
        before = self._selected
        self._step(+1)
        return self._selected != before

    def previous_hour(self) -> bool:
        before = self._selected
        self._step(-1)
        return self._selected != before

    def _cell(self, hour: int) -> QRect:
        w = (self.width() - 8) / 24
        return QRect(int(4 + hour * w), 4, max(2, int(w) - 2), self.height() - 22)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        accent = self._theme.accent()
        muted = self._theme.muted()
        peak = max(self._counts.values(), default=1)
        first = min(self._counts, default=0)
        last = max(self._counts, default=-1)
        for hour in range(24):
            cell = self._cell(hour)
            count = self._counts.get(hour, 0)
            if count:
                h = max(4, int(cell.height() * (0.25 + 0.75 * count / peak)))
                bar = QRect(cell.left(), cell.bottom() - h, cell.width(), h)
                color = QColor(accent)
                if hour != self._selected:
                    color.setAlpha(120)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(color)
                painter.drawRoundedRect(bar, 3, 3)
            elif first <= hour <= last:
                gap = QColor(muted)
                gap.setAlpha(50)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(gap)
                painter.drawRect(QRect(cell.left(), cell.bottom() - 2, cell.width(), 2))
            if hour == self._selected:
                painter.setPen(pal.color(QPalette.ColorRole.Highlight))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(cell.adjusted(-1, -1, 1, 1), 4, 4)
            if hour % 3 == 0:
                painter.setPen(muted)
                painter.drawText(QRect(cell.left() - 8, cell.bottom() + 2, cell.width() + 16, 16),
                                 Qt.AlignmentFlag.AlignCenter, f"{hour:02d}")
        if self.hasFocus():
            painter.setPen(pal.color(QPalette.ColorRole.Highlight))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self.rect().adjusted(0, 0, -1, -1))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        x = event.position().x()
        hour = int((x - 4) / max(1.0, (self.width() - 8) / 24))
        if 0 <= hour < 24:
            if hour not in self._counts and self._counts:
                hour = min(self._counts, key=lambda h: abs(h - hour))
            self.select(hour)

    mouseMoveEvent = mousePressEvent  # drag to scrub across hours

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        if event.angleDelta().y() < 0:
            self.next_hour()
        else:
            self.previous_hour()

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        if event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self.next_hour()
        elif event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.previous_hour()
        else:
            super().keyPressEvent(event)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(480, 72)


class TimelineView(QWidget):
    """The timeline page."""

    moment_changed = Signal(str)

    def __init__(self, session: Session, theme: Theme, thumbs: ThumbnailCache,
                 summaries: DaySummaries | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._theme = theme
        self._summaries = summaries
        self._days: list[DayEntry] = []
        self._day: DayEntry | None = None
        self._pending_select: str | None = None  # "last" | "first" | memory id
        self._loading = False

        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.days = QListWidget(self)
        self.days.setAccessibleName("Days")
        self.days.setMaximumWidth(190)
        self.days.setMinimumWidth(150)
        self.days.setSpacing(3)
        self.days.currentRowChanged.connect(self._day_changed)
        lay.addWidget(self.days)

        right = QWidget(self)
        col = QVBoxLayout(right)
        col.setContentsMargins(8, 0, 0, 0)
        head = QHBoxLayout()
        self.day_title = QLabel("", right)
        font = self.day_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.day_title.setFont(font)
        head.addWidget(self.day_title)
        head.addStretch(1)
        self.position = QLabel("", right)
        head.addWidget(self.position)
        col.addLayout(head)
        self.summary = QLabel("", right)
        self.summary.setWordWrap(True)
        self.summary.setVisible(False)
        self.summary.setAccessibleName("Day summary")
        col.addWidget(self.summary)
        self.episodes = QListWidget(right)
        self.episodes.setAccessibleName("Episodes of this day")
        self.episodes.setToolTip("Episodes: stretches of work in one window. Click one to go "
                                 "to its first moment.")
        self.episodes.setFlow(QListView.Flow.LeftToRight)
        self.episodes.setWrapping(True)  # chips that wrap; two rows show, the rest scroll
        self.episodes.setResizeMode(QListView.ResizeMode.Adjust)
        self.episodes.setSpacing(3)
        self.episodes.setFrameShape(QFrame.Shape.NoFrame)
        self.episodes.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.episodes.setStyleSheet(
            "QListWidget { background: transparent; }"
            "QListWidget::item { border: 1px solid palette(mid); border-radius: 9px;"
            " padding: 1px 8px; }"
            "QListWidget::item:selected { background: palette(highlight);"
            " color: palette(highlighted-text); }")
        self.episodes.setFixedHeight(2 * (self.episodes.fontMetrics().lineSpacing() + 12) + 4)
        self.episodes.itemActivated.connect(self._episode_activated)
        self.episodes.itemClicked.connect(self._episode_activated)
        self.episodes.setVisible(False)
        col.addWidget(self.episodes)
        self.gaps = QLabel("", right)
        self.gaps.setWordWrap(True)
        self.gaps.setAccessibleName("Gaps in capture this day")
        self.gaps.setVisible(False)
        col.addWidget(self.gaps)
        self._overview: DayOverview | None = None
        self.hours = HourStrip(theme, right)
        self.hours.hour_selected.connect(self._hour_changed)
        col.addWidget(self.hours)

        self.model = MomentModel(thumbs, self)
        self.strip = QListView(right)
        self.strip.setAccessibleName("Moments")
        self.strip.setModel(self.model)
        self.strip.setItemDelegate(MomentDelegate(theme, self.strip))
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setMovement(QListView.Movement.Static)
        self.strip.setResizeMode(QListView.ResizeMode.Adjust)
        self.strip.setUniformItemSizes(False)
        self.strip.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.strip.setFixedHeight(CELL.height() + 22)
        self.strip.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.strip.selectionModel().currentChanged.connect(self._current_changed)
        col.addWidget(self.strip)
        self.scrub = QSlider(Qt.Orientation.Horizontal, right)
        self.scrub.setAccessibleName("Scrub through the moments of this hour")
        self.scrub.setToolTip("Drag to scrub through the moments of this hour")
        self.scrub.valueChanged.connect(self._scrubbed)
        col.addWidget(self.scrub)

        split = QSplitter(Qt.Orientation.Vertical, right)
        self.viewer = MemoryViewer(session, theme, key_prefix="timeline", parent=split)
        split.addWidget(self.viewer)
        col.addWidget(split, 1)
        self.empty = QLabel("", right)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setVisible(False)
        col.addWidget(self.empty)
        lay.addWidget(right, 1)

        self._open_timer = QTimer(self)
        self._open_timer.setSingleShot(True)
        self._open_timer.setInterval(60)  # while scrubbing fast, open only where it stops
        self._open_timer.timeout.connect(self._open_current)

        for keys, fn in (("PgDown", self.next_hour), ("PgUp", self.previous_hour),
                         ("Ctrl+PgDown", self.next_day), ("Ctrl+PgUp", self.previous_day),
                         ("Home", lambda: self.select_moment_row(0)),
                         ("End", lambda: self.select_moment_row(-1))):
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(fn)
        self.setTabOrder(self.days, self.hours)
        self.setTabOrder(self.hours, self.strip)
        self.setTabOrder(self.strip, self.scrub)
        session.locked.connect(self.clear)
        session.changed.connect(self.refresh)
        session.ready.connect(self._index_ready)

    # -------------------------------------------------------------- api
    def set_summaries(self, provider: DaySummaries | None) -> None:
        """Episodes/day summaries (the hook for the retrieval work)."""
        self._summaries = provider
        self._show_summary()

    def refresh(self) -> None:
        if not self._session.is_unlocked or self._loading:
            return
        self._loading = True
        self._session.timeline_hours(self._got_hours, on_failure=self._failed)

    def clear(self) -> None:
        self._days = []
        self._day = None
        self._loading = False
        self.days.clear()
        self.hours.set_counts({})
        self.hours.select(None, emit=False)
        self.model.clear()
        self.scrub.setRange(0, 0)
        self.day_title.clear()
        self.position.clear()
        self.summary.clear()
        self.summary.setVisible(False)
        self._overview = None
        self.episodes.clear()
        self.episodes.setVisible(False)
        self.gaps.clear()
        self.gaps.setVisible(False)
        self.viewer.clear()
        self.empty.setVisible(False)

    def current_moment(self) -> MomentSummary | None:
        return self.model.moment_at(self.strip.currentIndex().row())

    def select_moment_row(self, position: int) -> None:
        rows = self.model.moment_rows()
        if rows:
            self._set_current_row(rows[position] if position >= 0 else rows[position])

    def next_hour(self) -> None:
        if not self.hours.next_hour():
            self.next_day(select="first")

    def previous_hour(self) -> None:
        if not self.hours.previous_hour():
            self.previous_day(select="last")

    def next_day(self, select: str = "last") -> None:  # newer
        row = self.days.currentRow()
        if row > 0:
            self._day_select = select
            self.days.setCurrentRow(row - 1)

    def previous_day(self, select: str = "last") -> None:  # older
        row = self.days.currentRow()
        if 0 <= row < self.days.count() - 1:
            self._day_select = select
            self.days.setCurrentRow(row + 1)

    _day_select = "last"

    # ------------------------------------------------------------ loading
    def _failed(self, exc: BaseException) -> None:
        from ui.background import user_message

        self._loading = False
        self.position.setText(user_message(exc))

    def _got_hours(self, hours: list[TimelineHour]) -> None:
        self._loading = False
        keep = self._day.day if self._day else None
        self._days = group_days(hours)
        self.days.blockSignals(True)
        self.days.clear()
        for entry in self._days:
            n = entry.count
            item = QListWidgetItem(f"{day_label(entry.day)}\n{n:,} moment{'s' if n != 1 else ''}")
            item.setToolTip(entry.day.isoformat())
            self.days.addItem(item)
        self.days.blockSignals(False)
        if not self._days:
            self._show_empty(True)
            return
        self._show_empty(False)
        row = next((i for i, d in enumerate(self._days) if d.day == keep), 0)
        self.days.setCurrentRow(row)
        if self.days.currentRow() == row:
            self._day_changed(row)

    def _show_empty(self, empty: bool) -> None:
        self.empty.setText("No memories yet.\n\nWhen capture runs, your screen's moments "
                           "appear here by day and hour. You can also import screenshots "
                           "you already have:\n afterimage import ~/Pictures/Screenshots")
        self.empty.setVisible(empty)
        for w in (self.hours, self.strip, self.scrub, self.viewer):
            w.setVisible(not empty)

    def _day_changed(self, row: int) -> None:
        if not (0 <= row < len(self._days)):
            return
        self._day = self._days[row]
        self.day_title.setText(self._day.day.strftime("%A %d %B %Y"))
        counts = {h: sum(b.count for b in bs) for h, bs in self._day.hours.items()}
        self.hours.set_counts(counts)
        self._show_summary()
        self._load_overview(self._day.day)
        select = self._day_select
        self._day_select = "last"
        hour = max(counts) if select == "last" else min(counts)
        self._pending_select = select
        self.hours.select(hour)

    def _show_summary(self) -> None:
        text = None
        if self._summaries is not None and self._day is not None:
            start = datetime.combine(self._day.day, datetime.min.time()).astimezone()
            text = self._summaries.summary(start, start + timedelta(days=1))
        overview = self._overview
        if text is None and overview is not None and self._day is not None \
                and overview.day == self._day.day and overview.summary is not None:
            text = overview.summary.summary
        self.summary.setText(text or "")
        self.summary.setVisible(bool(text))

    def _load_overview(self, day: date) -> None:
        if self._overview is not None and self._overview.day != day:
            self._overview = None
            self.episodes.clear()
            self.episodes.setVisible(False)
            self.gaps.setVisible(False)
            self.model.set_recorded_gaps([])
        self._session.day_overview(day, self._got_overview, on_failure=lambda exc: None)

    def _index_ready(self) -> None:
        if self._day is not None and (self._overview is None or not self._overview.complete):
            self._load_overview(self._day.day)

    def _got_overview(self, overview: DayOverview) -> None:
        if self._day is None or overview.day != self._day.day:
            return
        self._overview = overview
        self._show_summary()
        self.episodes.clear()
        for episode in overview.episodes:
            item = QListWidgetItem(episode_text(episode))
            item.setData(Qt.ItemDataRole.UserRole, episode.memory_ids[0]
                         if episode.memory_ids else "")
            item.setData(Qt.ItemDataRole.UserRole + 1, episode.start)
            item.setToolTip(episode.summary or episode_text(episode))
            self.episodes.addItem(item)
        self.episodes.setVisible(bool(overview.episodes))
        text = day_gaps_text(overview.gaps)
        self.gaps.setText(text)
        self.gaps.setToolTip("\n".join(gap_reason(g) for g in overview.gaps[:20]))
        self.gaps.setVisible(bool(text))
        self.model.set_recorded_gaps(overview.gaps)

    def _episode_activated(self, item: QListWidgetItem) -> None:
        memory_id = str(item.data(Qt.ItemDataRole.UserRole) or "")
        start = item.data(Qt.ItemDataRole.UserRole + 1)
        if not memory_id or not isinstance(start, datetime):
            return
        row = self.model.row_of(memory_id)
        if row is not None:
            self._set_current_row(row)
            return
        self._pending_select = memory_id
        self.hours.select(start.astimezone().hour)

    def _hour_changed(self, hour: int) -> None:
        if self._day is None:
            return
        buckets = tuple(b.bucket for b in self._day.hours.get(hour, []))
        if not buckets:
            return
        select = self._pending_select or "first"
        self._pending_select = None
        self.position.setText("Loading…")
        self._session.moments(buckets, partial(self._got_moments, select=select),
                              on_failure=self._failed)

    def _got_moments(self, moments: list[MomentSummary], select: str) -> None:
        self.model.set_moments(moments)
        rows = self.model.moment_rows()
        self.scrub.blockSignals(True)
        self.scrub.setRange(0, max(0, len(rows) - 1))
        self.scrub.blockSignals(False)
        self.position.setText(f"{len(rows)} moment{'s' if len(rows) != 1 else ''} this hour"
                              if rows else "")
        if rows:
            wanted = self.model.row_of(select) if select not in ("first", "last") else None
            if wanted is not None:
                self._set_current_row(wanted)
            else:
                self._set_current_row(rows[-1] if select == "last" else rows[0])

    # ------------------------------------------------------------- selection
    def _set_current_row(self, row: int) -> None:
        index = self.model.index(row)
        self.strip.setCurrentIndex(index)
        self.strip.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        moment = self.model.moment_at(current.row())
        if moment is None:
            return
        rows = self.model.moment_rows()
        position = rows.index(current.row())
        self.scrub.blockSignals(True)
        self.scrub.setValue(position)
        self.scrub.blockSignals(False)
        self.position.setText(f"{position + 1} of {len(rows)} this hour")
        self._open_timer.start()

    def _open_current(self) -> None:
        moment = self.current_moment()
        if moment is not None and moment.id != self.viewer.memory_id:
            self.viewer.show_memory(moment.id)
            self.moment_changed.emit(moment.id)

    def _scrubbed(self, value: int) -> None:
        rows = self.model.moment_rows()
        if 0 <= value < len(rows):
            self._set_current_row(rows[value])
