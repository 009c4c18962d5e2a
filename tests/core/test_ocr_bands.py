"""Banded detection (RapidOcrEngine det_band_px): bounded detector memory, and every line of
the frame read exactly once, in reading order, including lines in the bands' overlaps."""

from __future__ import annotations

from PIL import Image

from core.ocr import RapidOcrEngine
from tests.support import render_text_png

LINES = [f"Line {n} of the quarterly {word} report" for n, word in
         enumerate(["budget", "garden", "survey", "travel", "method", "archive", "chapter",
                    "figure", "recipe", "river", "meeting", "design", "schedule"], 1)]


def test_band_rows_cover_the_image_with_overlaps():
    engine = RapidOcrEngine(native_det=True, det_band_px=384, band_overlap_px=96)
    rows = engine.band_rows(1080)
    assert rows[0][0] == 0 and rows[-1][1] == 1080
    assert all(bottom - top <= 384 for top, bottom in rows)
    assert all(a[1] - b[0] >= 96 for a, b in zip(rows, rows[1:], strict=False))


def test_banded_read_reads_every_line_once(tmp_path):
    png = render_text_png(tmp_path / "page.png", LINES, size=(900, 720), font_size=26)
    image = Image.open(png)
    banded = RapidOcrEngine(native_det=True, det_band_px=200, band_overlap_px=64,
                            rec_batch=1)
    assert len(banded.band_rows(image.height)) >= 4  # several bands and overlaps
    result = banded.recognize(image)
    texts = [line.text for line in result.lines]
    for n, expected in enumerate(LINES, 1):
        hits = [t for t in texts if t.startswith(f"Line {n} ")]
        assert len(hits) == 1, (expected, texts)
    tops = [line.box[1] for line in result.lines]
    assert tops == sorted(tops)
    whole = RapidOcrEngine(native_det=True).recognize(image)
    assert [ln.text for ln in whole.lines] == texts


def _count_recognised(monkeypatch) -> list[int]:
    from core.ppocr import PpOcr

    counts: list[int] = []
    original = PpOcr.recognize

    def counting(self, crops):
        counts.append(len(crops))
        return original(self, crops)

    monkeypatch.setattr(PpOcr, "recognize", counting)
    return counts


def test_recognize_within_reads_only_the_kept_lines(tmp_path, monkeypatch):
    """A region read's padding shows the neighbouring lines; they give the detector context
    but are never recognised (banded and one-pass paths alike)."""
    png = render_text_png(tmp_path / "page.png", LINES[:5], size=(900, 420), font_size=26)
    image = Image.open(png)
    # lines start at y=40 with a 41.6 px pitch: keep the middle of line 3 only
    keep = (0, 40 + 2 * 41 + 5, 900, 40 + 3 * 41 - 5)
    for engine in (RapidOcrEngine(native_det=True, det_band_px=384, rec_batch=1),
                   RapidOcrEngine(native_det=True, rec_batch=1)):
        counts = _count_recognised(monkeypatch)
        everything = engine.recognize(image)
        assert len(everything.lines) == 5 and sum(counts) == 5
        counts.clear()
        engine.forget()
        within = engine.recognize_within(image, keep)
        assert [line.text for line in within.lines] == [everything.lines[2].text]
        assert everything.lines[2].text.startswith("Line 3 ")
        assert sum(counts) == 1  # the other four lines were detected, not recognised
        monkeypatch.undo()
