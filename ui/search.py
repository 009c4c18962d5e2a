"""Search: one box, results as you type (debounced, latest wins), time and app filters,
natural time words in the query ("yesterday", "last 3 days"), thumbnails, keyboard
navigation (Down from the box into the results, Enter opens, Esc goes back)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from core.memory import SearchHit
from ui.background import user_message
from ui.session import SearchRequest, Session
from ui.theme import Theme
from ui.thumbnails import ThumbnailCache

DEBOUNCE_MS = 150
HitRole = Qt.ItemDataRole.UserRole + 1
ROW = QSize(560, 88)
THUMB = QSize(128, 72)

TIME_CHOICES = ("Any time", "Last hour", "Today", "Yesterday", "Last 7 days", "Last 30 days")

_WORDS = re.compile(
    r"\b(?:(?P<day>today|yesterday)|(?:in\s+the\s+)?(?:last|past)\s+(?P<n>\d+)?\s*"
    r"(?P<unit>hour|hours|day|days|week|weeks|month|months)|this\s+(?P<this>week|month))\b",
    re.IGNORECASE)


def time_window(choice: str, now: datetime | None = None
                ) -> tuple[datetime | None, datetime | None]:
    local = (now or datetime.now()).astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if choice == "Last hour":
        return local - timedelta(hours=1), None
    if choice == "Today":
        return midnight, None
    if choice == "Yesterday":
        return midnight - timedelta(days=1), midnight
    if choice == "Last 7 days":
        return local - timedelta(days=7), None
    if choice == "Last 30 days":
        return local - timedelta(days=30), None
    return None, None


def split_time_words(query: str, now: datetime | None = None
                     ) -> tuple[str, datetime | None, datetime | None]:
    """Take time words out of a query: "invoice yesterday" -> ("invoice", since, until)."""
    match = _WORDS.search(query)
    if not match:
        return query, None, None
    local = (now or datetime.now()).astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    since: datetime | None
    until: datetime | None = None
    if match.group("day"):
        if match.group("day").lower() == "today":
            since = midnight
        else:
            since, until = midnight - timedelta(days=1), midnight
    elif match.group("this"):
        if match.group("this").lower() == "week":
            since = midnight - timedelta(days=midnight.weekday())
        else:
            since = midnight.replace(day=1)
    else:
        n = int(match.group("n") or 1)
        unit = match.group("unit").lower().rstrip("s")
        span = {"hour": timedelta(hours=n), "day": timedelta(days=n),
                "week": timedelta(weeks=n), "month": timedelta(days=30 * n)}[unit]
        since = local - span
    rest = (query[:match.start()] + " " + query[match.end():]).strip()
    rest = re.sub(r"\s+(from|on|in|during)$", "", " ".join(rest.split()), flags=re.IGNORECASE)
    return rest, since, until


class SearchResultModel(QAbstractListModel):
    def __init__(self, thumbs: ThumbnailCache, parent: Any = None) -> None:
        super().__init__(parent)
        self._thumbs = thumbs
        self._hits: list[SearchHit] = []
        self._row_of: dict[str, int] = {}
        thumbs.ready.connect(self._thumb_ready)

    def set_hits(self, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self._row_of = {h.id: i for i, h in enumerate(self._hits)}
        self.endResetModel()

    def hit(self, row: int) -> SearchHit | None:
        return self._hits[row] if 0 <= row < len(self._hits) else None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return hit.title or hit.source or "Untitled window"
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{hit.title} — {hit.app} — {hit.timestamp.astimezone():%c}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbs.get(hit.id)
        if role == HitRole:
            return hit
        if role == Qt.ItemDataRole.SizeHintRole:
            return ROW
        return None

    def _thumb_ready(self, memory_id: str) -> None:
        row = self._row_of.get(memory_id)
        if row is not None:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])


class SearchResultDelegate(QStyledItemDelegate):
    def __init__(self, theme: Theme, parent: Any = None) -> None:
        super().__init__(parent)
        self._theme = theme

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802 - Qt API
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return ROW

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        rect: QRect = option.rect
        pal: QPalette = option.palette
        fm = option.fontMetrics
        state = option.state
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, pal.color(QPalette.ColorRole.Highlight))
        text_color = pal.color(QPalette.ColorRole.HighlightedText if selected
                               else QPalette.ColorRole.Text)
        muted = text_color if selected else self._theme.muted()
        thumb = QRect(rect.left() + 8, rect.top() + (rect.height() - THUMB.height()) // 2,
                      THUMB.width(), THUMB.height())
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.size().scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(thumb.center())
            painter.drawPixmap(target, pixmap)
        else:
            fill = self._theme.muted()
            fill.setAlpha(40)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(thumb, 6, 6)
        hit: SearchHit = index.data(HitRole)
        x = thumb.right() + 12
        width = rect.right() - x - 8
        bold = painter.font()
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_color)
        line = fm.height() + 3
        y = rect.top() + 8
        painter.drawText(QRect(x, y, width, line), Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(str(index.data()), Qt.TextElideMode.ElideRight, width))
        bold.setBold(False)
        painter.setFont(bold)
        painter.setPen(muted)
        when = hit.timestamp.astimezone().strftime("%a %d %b %Y, %H:%M")
        meta = "  ·  ".join(p for p in (hit.app, when) if p)
        painter.drawText(QRect(x, y + line, width, line), Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(meta, Qt.TextElideMode.ElideRight, width))
        painter.setPen(text_color)
        painter.drawText(QRect(x, y + 2 * line, width, line), Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(hit.snippet, Qt.TextElideMode.ElideRight, width))
        painter.restore()


class SearchPanel(QWidget):
    open_memory = Signal(str)
    searched = Signal(int, float)  # results, seconds (for the benchmark and tests)

    def __init__(self, session: Session, theme: Theme, thumbs: ThumbnailCache,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._started = 0.0
        self._last_request: SearchRequest | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.box = QLineEdit(self)
        self.box.setPlaceholderText("Search what you saw — e.g. “hotel booking last week”")
        self.box.setClearButtonEnabled(True)
        self.box.setAccessibleName("Search")
        self.box.setMinimumHeight(36)
        self.box.textChanged.connect(self._schedule)
        self.box.installEventFilter(self)
        lay.addWidget(self.box)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("When:", self))
        self.when = QComboBox(self)
        self.when.addItems(list(TIME_CHOICES))
        self.when.setAccessibleName("Time filter")
        self.when.currentIndexChanged.connect(self._schedule)
        filters.addWidget(self.when)
        filters.addSpacing(12)
        filters.addWidget(QLabel("App:", self))
        self.app = QLineEdit(self)
        self.app.setPlaceholderText("any app")
        self.app.setAccessibleName("App filter")
        self.app.setMaximumWidth(200)
        self.app.textChanged.connect(self._schedule)
        filters.addWidget(self.app)
        filters.addStretch(1)
        self.status = QLabel("", self)
        filters.addWidget(self.status)
        lay.addLayout(filters)
        self.model = SearchResultModel(thumbs, self)
        self.results = QListView(self)
        self.results.setAccessibleName("Search results")
        self.results.setModel(self.model)
        self.results.setItemDelegate(SearchResultDelegate(theme, self.results))
        self.results.setUniformItemSizes(True)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.activated.connect(self._activated)
        self.results.installEventFilter(self)
        lay.addWidget(self.results, 1)
        self.empty = QLabel("Type to search your memories. Search understands meaning, not only "
                            "exact words; add “yesterday” or “last week” to narrow the time.",
                            self)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.empty)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.run_search)
        self.setTabOrder(self.box, self.when)
        self.setTabOrder(self.when, self.app)
        self.setTabOrder(self.app, self.results)
        session.locked.connect(self.clear)
        session.changed.connect(self._rerun)
        self._show_results(False)

    def focus_box(self) -> None:
        self.box.setFocus()
        self.box.selectAll()

    def clear(self) -> None:
        self._timer.stop()
        self.box.blockSignals(True)
        self.box.clear()
        self.box.blockSignals(False)
        self.app.blockSignals(True)
        self.app.clear()
        self.app.blockSignals(False)
        self.model.set_hits([])
        self.status.clear()
        self._last_request = None
        self._show_results(False)

    def request(self) -> SearchRequest | None:
        text = self.box.text().strip()
        if not text:
            return None
        query, since, until = split_time_words(text)
        if since is None and until is None:
            since, until = time_window(self.when.currentText())
        app = self.app.text().strip() or None
        return SearchRequest(query=query, since=since, until=until, app=app)

    def _schedule(self) -> None:
        self._timer.start()

    def _rerun(self) -> None:
        if self._last_request is not None:
            self.run_search()

    def run_search(self) -> None:
        self._timer.stop()
        if not self._session.is_unlocked:
            return
        request = self.request()
        if request is None:
            self._session.background.cancel("search")
            self.model.set_hits([])
            self.status.clear()
            self._show_results(False)
            return
        self._last_request = request
        self._started = time.perf_counter()
        self.status.setText("Searching…")
        self._session.search(request, self._got_hits, on_failure=self._failed)

    def _got_hits(self, hits: list[SearchHit]) -> None:
        elapsed = time.perf_counter() - self._started
        self.model.set_hits(hits)
        self._show_results(True)
        n = len(hits)
        self.status.setText(f"{n} result{'s' if n != 1 else ''}" if n else "Nothing found")
        if n:
            self.results.setCurrentIndex(self.model.index(0))
        self.searched.emit(n, elapsed)

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(user_message(exc))

    def _show_results(self, show: bool) -> None:
        self.results.setVisible(show)
        self.empty.setVisible(not show)

    def _activated(self, index: QModelIndex) -> None:
        hit = self.model.hit(index.row())
        if hit is not None:
            self.open_memory.emit(hit.id)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if obj is self.box and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Return,
                                                   Qt.Key.Key_Enter):
                if self.model.rowCount():
                    self.results.setFocus()
                    if not self.results.currentIndex().isValid():
                        self.results.setCurrentIndex(self.model.index(0))
                    if event.key() != Qt.Key.Key_Down:
                        self._activated(self.results.currentIndex())
                    return True
            if obj is self.results:
                if event.key() == Qt.Key.Key_Escape or (
                        event.key() == Qt.Key.Key_Up and self.results.currentIndex().row() == 0):
                    self.box.setFocus()
                    return True
                if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                    self._activated(self.results.currentIndex())
                    return True
        return super().eventFilter(obj, event)
