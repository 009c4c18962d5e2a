"""The memory viewer: the screenshot (or best tier kept) with OCR boxes, selectable text,
app, title, URL, time and caption, and the actions copy / forget this / app / hour."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.records import MemoryRecord
from ui.backends import ForgetKind, ForgetScope
from ui.clipboard import copy_private
from ui.session import MemoryImage, Session
from ui.theme import Theme


def local_time(ts: datetime, fmt: str = "%a %d %b %Y, %H:%M:%S") -> str:
    return ts.astimezone().strftime(fmt)


class ImageWithBoxes(QWidget):
    """Paints a memory's image scaled to fit, with its OCR boxes; highlights some."""

    box_clicked = Signal(int)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._pixmap: QPixmap | None = None
        self._source = QSize(0, 0)
        self._boxes: list[tuple[int, int, int, int]] = []
        self._highlight: set[int] = set()
        self._empty_text = ""
        self.setMinimumSize(240, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    @property
    def has_image(self) -> bool:
        return self._pixmap is not None

    @property
    def highlighted(self) -> set[int]:
        return set(self._highlight)

    def set_content(self, pixmap: QPixmap | None, source: QSize,
                    boxes: list[tuple[int, int, int, int]]) -> None:
        self._pixmap = pixmap
        self._source = source
        self._boxes = boxes
        self._highlight = set()
        self.update()

    def set_empty_text(self, text: str) -> None:
        self._empty_text = text
        self.update()

    def set_highlight(self, indices: set[int]) -> None:
        self._highlight = indices
        self.update()

    def clear(self) -> None:
        self._pixmap = None
        self._boxes = []
        self._highlight = set()
        self._source = QSize(0, 0)
        self._empty_text = ""
        self.update()

    def _target(self) -> QRectF:
        assert self._pixmap is not None
        size = self._pixmap.deviceIndependentSize()
        avail = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        scale = min(avail.width() / max(1.0, size.width()),
                    avail.height() / max(1.0, size.height()))
        w, h = size.width() * scale, size.height() * scale
        return QRectF(avail.x() + (avail.width() - w) / 2, avail.y() + (avail.height() - h) / 2,
                      w, h)

    def _box_rect(self, box: tuple[int, int, int, int], target: QRectF) -> QRectF:
        sw = self._source.width() or (self._pixmap.width() if self._pixmap else 1)
        sh = self._source.height() or (self._pixmap.height() if self._pixmap else 1)
        sx, sy = target.width() / max(1, sw), target.height() / max(1, sh)
        x0, y0, x1, y1 = box
        return QRectF(target.x() + x0 * sx, target.y() + y0 * sy, (x1 - x0) * sx,
                      (y1 - y0) * sy)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if self._pixmap is None:
            painter.setPen(self._theme.muted())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter |
                             Qt.TextFlag.TextWordWrap, self._empty_text)
            return
        target = self._target()
        painter.drawPixmap(target, self._pixmap, QRectF(self._pixmap.rect()))
        accent = self._theme.accent()
        faint = QColor(accent)
        faint.setAlpha(90)
        fill = QColor(accent)
        fill.setAlpha(70)
        for i, box in enumerate(self._boxes):
            rect = self._box_rect(box, target)
            if i in self._highlight:
                painter.setPen(QPen(accent, 2))
                painter.fillRect(rect, fill)
                painter.drawRect(rect)
            else:
                painter.setPen(QPen(faint, 1))
                painter.drawRect(rect)

    def box_at(self, point: QPointF) -> int | None:
        if self._pixmap is None:
            return None
        target = self._target()
        for i, box in enumerate(self._boxes):
            if self._box_rect(box, target).adjusted(-2, -2, 2, 2).contains(point):
                return i
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        index = self.box_at(event.position())
        if index is not None:
            self.box_clicked.emit(index)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        over = self.box_at(event.position()) is not None
        self.setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)


class MemoryViewer(QWidget):
    """Shows one memory. ``show_memory(id)`` loads it off the UI thread."""

    forget_requested = Signal(object)  # ForgetScope
    back_requested = Signal()

    def __init__(self, session: Session, theme: Theme, *, show_back: bool = False,
                 key_prefix: str = "viewer", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._theme = theme
        self._key = key_prefix
        self._record: MemoryRecord | None = None
        self._memory_id: str | None = None

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.back = QPushButton(theme.icon("back"), "Back", self)
        self.back.setVisible(show_back)
        self.back.clicked.connect(self.back_requested.emit)
        head.addWidget(self.back)
        titles = QVBoxLayout()
        self.title = QLabel("", self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setWordWrap(True)
        self.meta = QLabel("", self)
        self.meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meta.setWordWrap(True)
        self.url = QLabel("", self)
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption = QLabel("", self)
        self.caption.setWordWrap(True)
        for w in (self.title, self.meta, self.url, self.caption):
            titles.addWidget(w)
        head.addLayout(titles, 1)
        lay.addLayout(head)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        self.image = ImageWithBoxes(theme, split)
        self.image.box_clicked.connect(self._select_line)
        self.text = QPlainTextEdit(split)
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Text on screen")
        self.text.setPlaceholderText("No text was read on this screen.")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse |
                                          Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.text.cursorPositionChanged.connect(self._sync_highlight)
        self.text.selectionChanged.connect(self._sync_highlight)
        split.addWidget(self.image)
        split.addWidget(self.text)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay.addWidget(split, 1)

        actions = QFrame(self)
        row = QHBoxLayout(actions)
        row.setContentsMargins(0, 4, 0, 0)
        self.copy_button = QPushButton(theme.icon("copy"), "Copy text", actions)
        self.copy_button.setToolTip("Copy the selected text (or all of it). It is marked to "
                                    "stay out of clipboard history.")
        self.copy_button.clicked.connect(self.copy_text)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        self.forget_this = QPushButton(theme.icon("forget"), "Forget this", actions)
        self.forget_app = QPushButton("Forget this app", actions)
        self.forget_hour = QPushButton("Forget this hour", actions)
        for button, kind in ((self.forget_this, ForgetKind.MEMORY),
                             (self.forget_app, ForgetKind.APP),
                             (self.forget_hour, ForgetKind.RANGE)):
            button.clicked.connect(lambda _=False, k=kind: self._forget(k))
            row.addWidget(button)
        self.note = QLabel("", actions)
        self.note.setWordWrap(True)
        self.note.setEnabled(False)
        lay.addWidget(actions)
        lay.addWidget(self.note)
        self.status = QLabel("", self)
        lay.addWidget(self.status)
        session.locked.connect(self.clear)
        self.clear()

    # ------------------------------------------------------------------ api
    @property
    def memory_id(self) -> str | None:
        return self._memory_id

    @property
    def record(self) -> MemoryRecord | None:
        return self._record

    def show_memory(self, memory_id: str) -> None:
        if not self._session.is_unlocked:
            return
        self.clear()
        self._memory_id = memory_id
        self.status.setText("Loading…")
        self._session.record(memory_id, on_success=self._got_record,
                             on_failure=self._failed, key=f"{self._key}:record")
        self._session.best_image(memory_id, on_success=self._got_image,
                                 on_failure=self._failed, key=f"{self._key}:image")

    def clear(self) -> None:
        self._record = None
        self._memory_id = None
        self._current_pixmap = None
        self.image.clear()
        self.image.set_empty_text("Pick a moment to see it here.")
        self.text.clear()
        self.image.setToolTip("")
        for label in (self.title, self.meta, self.url, self.caption, self.status):
            label.clear()
        self.url.setVisible(False)
        self.caption.setVisible(False)
        self.copy_button.setEnabled(False)
        for button in (self.forget_this, self.forget_app, self.forget_hour):
            button.setEnabled(False)
        self.note.clear()
        self.note.setVisible(False)

    def copy_text(self) -> None:
        cursor = self.text.textCursor()
        text = cursor.selectedText().replace("\u2029", "\n") if cursor.hasSelection() \
            else self.text.toPlainText()
        if text:
            copy_private(text)
            self.status.setText("Copied (kept out of clipboard history where supported).")

    # ------------------------------------------------------------- loading
    def _got_record(self, record: MemoryRecord | None) -> None:
        if record is None or record.id != self._memory_id:
            if record is None:
                self.status.setText("This memory is no longer kept.")
            return
        self._record = record
        self.status.clear()
        self.title.setText(record.title or record.source or "Untitled window")
        parts = [local_time(record.timestamp)]
        if record.app:
            parts.insert(0, record.app)
        if record.monitor is not None:
            parts.append(f"monitor {record.monitor.index}")
        if record.origin == "import":
            parts.append("imported")
        self.meta.setText("  ·  ".join(parts))
        self.url.setText(record.url or "")
        self.url.setVisible(bool(record.url))
        self.caption.setText(record.caption or "")
        self.caption.setVisible(bool(record.caption))
        self.text.setPlainText("\n".join(line.text for line in record.ocr.lines))
        self.copy_button.setEnabled(bool(record.ocr.lines))
        self._update_forget_buttons()
        if self.image.has_image:
            self.image.set_content(self._current_pixmap, QSize(record.width, record.height),
                                   [ln.box for ln in record.ocr.lines])
        else:
            self.image.set_empty_text("Loading the screenshot…")

    _current_pixmap: QPixmap | None = None

    def _got_image(self, result: MemoryImage | None) -> None:
        if result is None:
            if self._memory_id is not None:
                self.image.set_empty_text("Only the text of this moment is kept.")
            return
        if result.memory_id != self._memory_id:
            return
        pixmap = QPixmap.fromImage(result.image)
        self._current_pixmap = pixmap
        record = self._record
        size = QSize(record.width, record.height) if record else pixmap.size()
        boxes = [ln.box for ln in record.ocr.lines] if record else []
        self.image.set_content(pixmap, size, boxes)
        self.image.setToolTip("Full screenshot" if result.tier == "frame"
                              else "Thumbnail (the full screenshot is not kept)")

    def _failed(self, exc: BaseException) -> None:
        from ui.background import user_message

        self.status.setText(user_message(exc))

    # --------------------------------------------------- text <-> boxes
    def _sync_highlight(self) -> None:
        cursor = self.text.textCursor()
        doc = self.text.document()
        start = doc.findBlock(cursor.selectionStart()).blockNumber()
        end = doc.findBlock(cursor.selectionEnd()).blockNumber()
        if self._record is None or not self._record.ocr.lines:
            return
        if not cursor.hasSelection() and not self.text.hasFocus():
            self.image.set_highlight(set())
            return
        self.image.set_highlight(set(range(start, end + 1)))

    def _select_line(self, index: int) -> None:
        block = self.text.document().findBlockByNumber(index)
        if not block.isValid():
            return
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock,
                            QTextCursor.MoveMode.KeepAnchor)
        self.text.setTextCursor(cursor)
        self.image.set_highlight({index})

    # --------------------------------------------------------------- forget
    def _update_forget_buttons(self) -> None:
        backend = self._session.forget_backend
        notes: set[str] = set()
        for button, kind in ((self.forget_this, ForgetKind.MEMORY),
                             (self.forget_app, ForgetKind.APP),
                             (self.forget_hour, ForgetKind.RANGE)):
            feature = backend.supports(kind) if backend else None
            ok = bool(feature and feature.available) and self._record is not None
            if kind is ForgetKind.APP and self._record is not None and not self._record.app:
                ok = False
            button.setEnabled(ok)
            if feature and not feature.available:
                button.setToolTip(feature.note)
                notes.add(feature.note)
        self.note.setText(" ".join(sorted(notes)))
        self.note.setVisible(bool(notes))

    def scope_for(self, kind: ForgetKind) -> ForgetScope | None:
        rec = self._record
        if rec is None:
            return None
        if kind is ForgetKind.MEMORY:
            return ForgetScope(kind, memory_id=rec.id)
        if kind is ForgetKind.APP:
            return ForgetScope(kind, app=rec.app)
        start = rec.timestamp.replace(minute=0, second=0, microsecond=0)
        return ForgetScope(ForgetKind.RANGE, since=start, until=start + timedelta(hours=1))

    def _forget(self, kind: ForgetKind) -> None:
        scope = self.scope_for(kind)
        if scope is not None:
            self.forget_requested.emit(scope)
