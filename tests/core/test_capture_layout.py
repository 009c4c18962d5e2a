"""Reading each window on its own: the visible pieces of a window stack, region OCR per piece,
and the OCR engine's line cache (a line seen before is not recognised again)."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from core.capture.layout import visible_pieces
from core.capture.region_ocr import RegionOcr
from core.ocr import RapidOcrEngine, line_key
from core.types import ActiveWindow, MonitorGeometry, OcrLine, OcrResult
from tests.support import render_text_png

MONITOR = MonitorGeometry(index=1, left=0, top=0, width=1000, height=600)


def win(title: str, left: int, top: int, width: int, height: int) -> ActiveWindow:
    return ActiveWindow(app="editor", title=title, left=left, top=top, width=width,
                        height=height)


def area(box):
    return (box[2] - box[0]) * (box[3] - box[1])


def overlaps(a, b):
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def test_pieces_cut_the_monitor_into_visible_window_parts_top_first():
    bottom = win("A", 50, 50, 600, 500)
    top = win("B", 400, 50, 550, 500)
    pieces = visible_pieces([bottom, top], MONITOR, (1000, 600))
    assert pieces[0] == (400, 50, 950, 550)  # the top window, whole
    assert pieces[1] == (50, 50, 400, 550)  # what shows of the window below
    assert sum(area(p) for p in pieces) == 1000 * 600  # every pixel, once
    assert not any(overlaps(a, b) for i, a in enumerate(pieces) for b in pieces[i + 1:])


def test_pieces_follow_the_monitor_and_its_scale():
    second = MonitorGeometry(index=2, left=1000, top=0, width=1000, height=600, scale=2.0)
    window = win("C", 1100, 100, 200, 100)
    pieces = visible_pieces([win("elsewhere", 0, 0, 500, 500), window], second, (2000, 1200))
    assert pieces[0] == (200, 200, 600, 400)  # monitor-local, in image pixels (2x)
    assert sum(area(p) for p in pieces) == 2000 * 1200


def test_no_geometry_means_read_whole():
    assert visible_pieces([ActiveWindow(app="x", title="y")], MONITOR, (1000, 600)) == ()
    assert visible_pieces([], MONITOR, (1000, 600)) == ()


class PixelOcr:
    """'Reads' an image as the list of its distinct non-white colours: enough to see which
    pixels were handed to the engine, without a model."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def recognize(self, image) -> OcrResult:
        import numpy as np

        self.sizes.append(image.size)
        array = np.asarray(image.convert("RGB"))
        colours = sorted({c for _, c in image.getcolors(1 << 16) or [] if c != (255, 255, 255)})
        lines = []
        for colour in colours:
            ys, xs = np.nonzero((array == colour).all(axis=2))
            box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
            lines.append(OcrLine(f"colour {colour}", 0.99, box))
        return OcrResult(tuple(lines))


def test_a_change_in_one_window_reads_only_that_window():
    pieces = ((500, 0, 1000, 600), (0, 0, 500, 600))
    image = Image.new("RGB", (1000, 600), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((600, 100, 700, 120), fill=(200, 0, 0))  # right window
    draw.rectangle((100, 100, 200, 120), fill=(0, 0, 200))  # left window
    ocr = PixelOcr()
    region = RegionOcr(ocr)
    first = region.recognize(image, "1", pieces)
    assert ocr.sizes == [(500, 600), (500, 600)]  # each window read on its own
    assert [ln.text for ln in first.lines] == ["colour (200, 0, 0)", "colour (0, 0, 200)"]
    changed = image.copy()
    ImageDraw.Draw(changed).rectangle((100, 300, 200, 320), fill=(0, 150, 0))  # left only
    ocr.sizes.clear()
    second = region.recognize(changed, "1", pieces)
    assert all(w <= 500 for w, _ in ocr.sizes) and sum(w * h for w, h in ocr.sizes) < 500 * 600
    texts = [ln.text for ln in second.lines]
    assert texts[0] == "colour (200, 0, 0)"  # the right window's text, reused
    assert "colour (0, 150, 0)" in texts


def test_remembered_pieces_are_bounded():
    ocr = PixelOcr()
    region = RegionOcr(ocr, memory_px=2 * 1000 * 600)
    for shift in range(6):  # six layouts, each a new set of pieces
        pieces = ((0, 0, 500 + shift, 600), (500 + shift, 0, 1000, 600))
        region.recognize(Image.new("RGB", (1000, 600), "white"), "1", pieces)
    kept = sum(s.pixels for frames in region._seen.values() for s in frames)
    assert kept <= 2 * 1000 * 600


def test_line_key_ignores_box_jitter_but_not_content():
    font = ImageFont.load_default()
    line = Image.new("RGB", (300, 30), "white")
    ImageDraw.Draw(line).text((10, 8), "quarterly budget", fill="black", font=font)
    import numpy as np

    array = np.asarray(line)
    tight = array[4:26, 6:200]
    loose = array[2:28, 2:260]
    assert line_key(tight) == line_key(loose)
    other = line.copy()
    ImageDraw.Draw(other).text((10, 8), "quarterly budgets", fill="black", font=font)
    assert line_key(np.asarray(other)[2:28, 2:260]) != line_key(loose)


@pytest.mark.slow
def test_the_engine_recognises_a_line_seen_before_from_its_cache(tmp_path):
    lines = ["Meeting notes for the budget review", "Travel plans for the river survey"]
    png = render_text_png(tmp_path / "a.png", lines, size=(700, 160), font_size=24)
    image = Image.open(png).convert("RGB")
    engine = RapidOcrEngine(native_det=True, det_band_px=384, rec_batch=1)
    first = engine.recognize(image)
    assert engine._lines.misses >= 2 and len(engine._lines) >= 2
    moved = Image.new("RGB", (760, 220), "white")
    moved.paste(image, (40, 50))  # the same lines elsewhere on screen
    hits_before = engine._lines.hits
    again = engine.recognize(moved)
    assert engine._lines.hits - hits_before >= 2
    assert [ln.text for ln in again.lines] == [ln.text for ln in first.lines]
    engine.forget()
    assert len(engine._lines) == 0
