"""Background consolidation: captions (and CLIP image vectors) for memories that lack them.

Never in the capture path. The work list is derived, not stored: a memory needs work
while its sealed payload has no caption (or, with an image encoder configured, its
sealed vector field has no image vector). So the queue survives restarts and crashes
without any plaintext state on disk: after a restart, the same memories are simply
still missing their captions. It runs only while the vault is unlocked (it must read
the OCR text) and, by default, only when the machine is on mains power or idle
(:class:`MachineState`); each item is written back atomically
(:meth:`core.store.EncryptedStore.update_memories`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from core.errors import AfterimageError, ModelError
from core.index import MemoryIndex
from core.jobs import JobState, SilentJob, check_cancelled
from core.records import MemoryRecord
from core.retrieval.captions import Captioner
from core.retrieval.encoders import ImageEncoder
from core.store import THUMBS, EncryptedStore

_log = logging.getLogger(__name__)

NO_CAPTION = ""  # stored when a memory has nothing to caption (so it is not retried)


@dataclass(frozen=True)
class MachineState:
    """Is now a good time for background model work?"""

    on_mains: bool | None  # None = unknown (desktop without battery info)
    load_per_cpu: float

    @classmethod
    def probe(cls, power_root: Path = Path("/sys/class/power_supply")) -> MachineState:
        on_mains: bool | None = None
        try:
            supplies = list(power_root.iterdir()) if power_root.is_dir() else []
        except OSError:
            supplies = []
        for supply in supplies:
            try:
                kind = (supply / "type").read_text().strip()
                if kind == "Mains":
                    online = (supply / "online").read_text().strip() == "1"
                    on_mains = online or bool(on_mains)
            except OSError:
                continue
        try:
            load = os.getloadavg()[0] / max(os.cpu_count() or 1, 1)
        except OSError:
            load = 0.0
        return cls(on_mains=on_mains, load_per_cpu=load)

    def good_time(self, max_load: float = 0.5) -> bool:
        """Plugged in (or no battery information), or the CPUs are mostly idle."""
        return self.on_mains is not False or self.load_per_cpu <= max_load


@dataclass
class ConsolidationReport:
    captioned: int = 0
    image_vectors: int = 0
    failed: int = 0
    remaining: int = 0
    skipped_reason: str | None = None
    seconds_per_item: float = 0.0
    errors: list[str] = field(default_factory=list)


def pending_ids(index: MemoryIndex, *, want_images: bool) -> list[str]:
    """Memories still lacking a caption (or an image vector), newest first."""
    return index.pending_ids(want_images=want_images)


def consolidate(store: EncryptedStore, index: MemoryIndex,
                captioner: Callable[[], Captioner] | None,
                image_encoder: Callable[[], ImageEncoder | None] | None = None,
                state: JobState | None = None, *, max_items: int | None = None,
                budget_s: float | None = None, batch: int = 8,
                writer: Callable[[], AbstractContextManager[object]] | None = None,
                index_guard: Callable[[], AbstractContextManager[object]] | None = None
                ) -> ConsolidationReport:
    """Caption / CLIP-embed what lacks it, ``batch`` memories at a time. The slow model work
    runs without the writer lock or the index: ``writer()`` is entered only to store each
    batch (a running capture service lends its lock for a moment, not for the whole run)
    and ``index_guard()`` only while the index is read or updated (the app's searches
    share it)."""
    job = state or SilentJob()
    guard = index_guard or contextlib.nullcontext
    encoder = image_encoder() if image_encoder is not None else None
    with guard():
        todo = pending_ids(index, want_images=encoder is not None)
    if max_items is not None:
        todo = todo[:max_items]
    report = ConsolidationReport()
    cap: Captioner | None = captioner() if captioner is not None else None
    started = time.perf_counter()
    want_image = encoder is not None
    done = 0
    for first in range(0, len(todo), batch):
        if budget_s is not None and time.perf_counter() - started > budget_s:
            break
        check_cancelled(job)
        job.set_progress(done, len(todo))
        ids = todo[first:first + batch]
        updates: list[tuple[MemoryRecord, npt.NDArray[np.float32],
                            npt.NDArray[np.float32] | None]] = []
        for rec, vectors, img_vec in store.load_ids_latent(ids):
            done += 1
            needs_image = want_image and img_vec is None
            image = None
            if needs_image or (cap is not None and cap.uses_image and rec.caption is None):
                image = _thumbnail(store, rec.id)
            new_rec = rec
            try:
                if cap is not None and rec.caption is None:
                    new_rec = replace(rec, caption=cap.caption(rec, image) or NO_CAPTION)
                    report.captioned += 1
                if needs_image and encoder is not None and image is not None:
                    img_vec = encoder.embed_images([image])[0]
                    report.image_vectors += 1
            except ModelError as exc:
                report.failed += 1
                report.errors.append(str(exc))
                continue
            if new_rec is not rec or img_vec is not None:
                updates.append((new_rec, vectors, img_vec))
        if updates:
            with writer() if writer is not None else contextlib.nullcontext():
                store.update_memories(updates)
            with guard():
                for rec, vectors, img_vec in updates:
                    index.replace(rec, vectors, img_vec)
        if report.failed >= 3 and report.captioned == 0 and report.image_vectors == 0:
            break  # the model is broken: stop instead of failing every item
    elapsed = time.perf_counter() - started
    handled = report.captioned + report.image_vectors
    report.seconds_per_item = round(elapsed / handled, 3) if handled else 0.0
    with guard():
        report.remaining = len(pending_ids(index, want_images=encoder is not None))
    job.set_progress(len(todo), len(todo))
    _log.info("consolidation: %d captions, %d image vectors, %d failed, %d remaining",
              report.captioned, report.image_vectors, report.failed, report.remaining)
    return report


def _thumbnail(store: EncryptedStore, memory_id: str) -> Image.Image | None:
    try:
        blob = store.blob(THUMBS, memory_id)
    except AfterimageError:
        return None
    if blob is None:
        return None
    try:
        with Image.open(io.BytesIO(blob)) as img:
            img.load()
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError):
        return None
