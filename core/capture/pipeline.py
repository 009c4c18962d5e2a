"""The privacy-first path from grabbed frames to memories ready to store.

For each monitor's frame, in this order (SECURITY.md R10):

1. window rules: if the active window is ours, an excluded app, a private browser window, or
   matches the user's title/URL patterns, every monitor it overlaps is skipped — before OCR;
2. OCR (region-level when the OCR engine is a :class:`RegionOcr`);
3. text detectors on the OCR text, the title and the URL: drop the frame, or redact it
   (text replaced, boxes blacked out in the pixels);
4. only then the embedding, the thumbnail and the stored frame are made, from the redacted
   image and text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.capture.monitors import home_monitor, shows_window
from core.capture.region_ocr import RegionOcr
from core.encode import Moment, MomentEncoder, StageTimes
from core.privacy.filter import SENSITIVE, PrivacyFilter
from core.store import NewMemory
from core.types import ActiveWindow, Ocr, OcrResult, ScreenFrame


@dataclass
class FrameBatchResult:
    items: list[NewMemory] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    redacted: int = 0
    detector_hits: dict[str, int] = field(default_factory=dict)  # kind -> frames

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


class FramePipeline:
    """Window rules -> OCR -> text detectors -> redaction -> encoding, per monitor."""

    def __init__(self, ocr: Ocr, encoder: MomentEncoder, privacy: PrivacyFilter) -> None:
        self._ocr = ocr
        self._encoder = encoder
        self.privacy = privacy

    def _read(self, frame: ScreenFrame) -> OcrResult:
        if isinstance(self._ocr, RegionOcr):
            return self._ocr.recognize(frame.image, key=str(frame.monitor.index),
                                       pieces=frame.pieces)
        return self._ocr.recognize(frame.image)

    def window_skip(self, window: ActiveWindow | None,
                    frames: Sequence[ScreenFrame]) -> dict[int, str]:
        """Monitor index -> skip reason, for monitors the active window makes unsafe."""
        reason = self.privacy.window_reason(window)
        if reason is None:
            return {}
        return {f.monitor.index: reason for f in frames if shows_window(window, f.monitor)}

    def process(self, frames: Sequence[ScreenFrame], window: ActiveWindow | None,
                times: StageTimes | None = None) -> FrameBatchResult:
        result = FrameBatchResult()
        skips = self.window_skip(window, frames)
        home = home_monitor(window, [f.monitor for f in frames])
        for frame in frames:
            reason = skips.get(frame.monitor.index)
            if reason is not None:
                result.skip(reason)
                continue
            # The active window's app and title belong to the monitor holding it (all
            # monitors when its geometry is unknown).
            mine = window is not None and (home is None or home == frame.monitor.index)
            title = window.title if (window and mine) else ""
            url = window.url if (window and mine) else None
            ocr = self._read(frame)
            verdict = self.privacy.check_text(frame.image, ocr, title, url)
            for kind in verdict.kinds:
                result.detector_hits[kind] = result.detector_hits.get(kind, 0) + 1
            if verdict.drop:
                result.skip(SENSITIVE)
                continue
            if verdict.redacted:
                result.redacted += 1
            moment = Moment(
                image=verdict.image, timestamp=frame.captured_at,
                app=window.app if (window and mine) else "", title=verdict.title,
                url=verdict.url, pid=window.pid if (window and mine) else None,
                monitor=frame.monitor, origin="capture")
            result.items.append(self._encoder.encode(moment, ocr_result=verdict.ocr,
                                                     times=times))
        return result
