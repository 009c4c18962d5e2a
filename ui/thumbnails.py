"""Thumbnails: decrypted and decoded on a worker, cached in memory only (an LRU of pixmaps).

Nothing is written to disk (SECURITY.md R1/R12). The cache empties on lock.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QPixmap

from ui.session import MemoryImage, Session

DEFAULT_CAPACITY = 600


class ThumbnailCache(QObject):
    ready = Signal(str)  # memory id whose thumbnail is now cached

    def __init__(self, session: Session, capacity: int = DEFAULT_CAPACITY,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._capacity = capacity
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._missing: set[str] = set()  # ids with no thumbnail kept (text tier)
        session.locked.connect(self.clear)
        session.changed.connect(self.clear)  # forgotten memories must not linger

    def __len__(self) -> int:
        return len(self._cache)

    def get(self, memory_id: str, *, load: bool = True) -> QPixmap | None:
        pixmap = self._cache.get(memory_id)
        if pixmap is not None:
            self._cache.move_to_end(memory_id)
            return pixmap
        if load and self._session.is_unlocked and memory_id not in self._pending \
                and memory_id not in self._missing:
            self._pending.add(memory_id)
            def loaded(result: MemoryImage | None, i: str = memory_id) -> None:
                self._loaded(i, result)

            def failed(_exc: BaseException, i: str = memory_id) -> None:
                self._pending.discard(i)

            self._session.thumbnail(memory_id, on_success=loaded, on_failure=failed)
        return None

    def has_no_image(self, memory_id: str) -> bool:
        return memory_id in self._missing

    def _loaded(self, memory_id: str, result: MemoryImage | None) -> None:
        self._pending.discard(memory_id)
        if not self._session.is_unlocked:
            return
        if result is None:
            self._missing.add(memory_id)
            return
        self._cache[result.memory_id] = QPixmap.fromImage(result.image)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        self.ready.emit(result.memory_id)

    def forget_ids(self, ids: set[str]) -> None:
        for memory_id in ids:
            self._cache.pop(memory_id, None)

    def clear(self) -> None:
        self._cache.clear()
        self._pending.clear()
        self._missing.clear()
