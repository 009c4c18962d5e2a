"""Lines of text found from their ink (core/linefind.py), and the OCR engine using them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from bench.bench_ocr_engine import levenshtein
from core.linefind import Layout, plain_layout

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core
TEXT = ["The design team moved the budget review to Thursday morning",
        "Invoice 4521 is due on Monday, please send it to billing",
        "Scrolling through the survey results of the river project",
        "gjpqy descenders and ÀÉÎ accents on a line of their own",
        "report draft archive recipe meeting schedule travel garden"]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if DEJAVU.exists():
        return ImageFont.truetype(str(DEJAVU), size)
    return ImageFont.load_default(size=size)


def _page(lines: list[str], *, size: int = 17, pitch: int = 21, width: int = 900,
          fg: tuple[int, int, int] = (20, 20, 20), top: int = 12,
          bg: tuple[int, int, int] = (255, 255, 255)) -> tuple[Image.Image, list[tuple[int, ...]]]:
    """An editor-like page and the ink box of each line."""
    font = _font(size)
    height = top * 2 + pitch * len(lines) + 8
    image = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(image)
    boxes = []
    for i, text in enumerate(lines):
        draw.text((10, top + i * pitch), text, fill=fg, font=font)
        boxes.append(tuple(int(v) for v in draw.textbbox((10, top + i * pitch), text,
                                                         font=font)))
    return image, boxes


def _bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def _contains(outer: tuple[int, ...], inner: tuple[int, ...], slack: int = 1) -> bool:
    return (outer[0] <= inner[0] + slack and outer[1] <= inner[1] + slack
            and outer[2] >= inner[2] - slack and outer[3] >= inner[3] - slack)


def _layout(image: Image.Image) -> Layout:
    layout = plain_layout(_bgr(image))
    assert layout is not None
    return layout


def test_each_line_of_a_plain_page_is_one_box_around_its_ink():
    image, ink = _page(TEXT)
    layout = _layout(image)
    assert layout.hard == []
    assert len(layout.boxes) == len(TEXT)
    for box, line in zip(sorted(layout.boxes, key=lambda b: b[1]), ink, strict=True):
        assert _contains(box, line)
        assert box[3] - box[1] < 2 * (line[3] - line[1])  # one line, not two


def test_light_text_on_a_dark_theme_is_found_too():
    image, ink = _page(TEXT, fg=(220, 220, 220), bg=(30, 30, 30))
    layout = _layout(image)
    assert len(layout.boxes) == len(TEXT)


def test_two_lines_joined_by_a_text_cursor_are_two_boxes():
    image, ink = _page(TEXT[:2])
    x = ink[1][2] + 2  # a 1-px cursor after the second line, reaching up into the first
    ImageDraw.Draw(image).line([(x, ink[0][1]), (x, ink[1][3])], fill=(0, 0, 0), width=1)
    layout = _layout(image)
    assert len(layout.boxes) == 2
    assert all(b[3] - b[1] < 1.6 * (ink[0][3] - ink[0][1]) for b in layout.boxes)


def test_a_scrollbar_and_the_window_border_are_not_text():
    image, _ = _page(TEXT)
    draw = ImageDraw.Draw(image)
    w, h = image.size
    draw.rectangle([w - 16, 0, w - 1, h - 1], fill=(230, 230, 230), outline=(180, 180, 180))
    draw.polygon([(w - 12, 12), (w - 4, 12), (w - 8, 6)], fill=(80, 80, 80))  # its arrow
    draw.rectangle([0, 0, w - 1, h - 1], outline=(150, 150, 150))
    layout = _layout(image)
    assert len(layout.boxes) == len(TEXT)
    assert all(box[2] < w - 16 for box in layout.boxes)


def test_faint_text_and_big_headings_are_left_to_the_detector():
    image, ink = _page(TEXT)
    draw = ImageDraw.Draw(image)
    # a faint line (placeholder grey) in the gap below the page's text
    page = Image.new("RGB", (image.width, image.height + 120), (255, 255, 255))
    page.paste(image, (0, 0))
    draw = ImageDraw.Draw(page)
    draw.text((10, image.height + 4), "a faint placeholder line of text", fill=(215, 215, 215),
              font=_font(17))
    draw.text((10, image.height + 40), "Heading", fill=(0, 0, 0), font=_font(60))
    layout = _layout(page)
    assert len(layout.boxes) == len(TEXT)  # the ordinary lines
    assert layout.hard and layout.hard[0][0] >= image.height - 4  # the rest is hard
    covered = set()
    for top, bottom in layout.hard:
        covered.update(range(top, bottom))
    assert image.height + 12 in covered  # the faint line
    assert image.height + 70 in covered  # the heading


def test_a_highlighted_line_is_left_to_the_detector_not_lost():
    image, ink = _page(TEXT)
    line = ink[2]
    highlight = Image.new("RGB", image.size, (255, 255, 255))
    ImageDraw.Draw(highlight).rectangle([0, line[1] - 3, image.width - 1, line[3] + 3],
                                        fill=(225, 235, 250))  # an editor's current line
    page = Image.composite(image, highlight, image.convert("L").point(lambda v: 255 - v))
    layout = _layout(page)
    assert len(layout.boxes) == len(TEXT) - 1
    assert any(top <= (line[1] + line[3]) // 2 < bottom for top, bottom in layout.hard)


def test_pictures_panels_and_toolbars_are_not_plain():
    image, _ = _page(TEXT)
    panel = image.copy()
    ImageDraw.Draw(panel).rectangle([0, 0, 200, panel.height - 1], fill=(60, 90, 160))
    assert plain_layout(_bgr(panel)) is None  # a coloured sidebar where text may sit
    rng = np.random.default_rng(1)
    photo = Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))
    assert plain_layout(_bgr(photo)) is None
    toolbar = Image.new("RGB", (600, 200), (255, 255, 255))
    draw = ImageDraw.Draw(toolbar)
    for x in range(20, 560, 60):  # icons, no text
        draw.ellipse([x, 80, x + 24, 104], fill=(40, 120, 40))
    assert plain_layout(_bgr(toolbar)) is None


@pytest.fixture(scope="module")
def engines():
    from core.inference import use_background_inference
    from core.ocr import RapidOcrEngine

    use_background_inference()
    made = {plain: RapidOcrEngine(native_det=True, det_band_px=320, rec_batch=1,
                                  scripts="latin", line_cache=0, plain_text_lines=plain)
            for plain in (True, False)}
    for engine in made.values():
        engine._load()
    return made


def test_the_engine_reads_a_page_the_same_with_less_of_the_detector(engines):
    image, _ = _page(TEXT * 4, width=1000)
    ink, model = engines[True], engines[False]
    truth = "\n".join(TEXT * 4)
    read = ink.recognize(image)
    ink_errors = levenshtein(truth, read.text)
    model_errors = levenshtein(truth, model.recognize(image).text)
    assert ink_errors <= max(model_errors, 0.005 * len(truth))
    assert "Invoice 4521 is due on Monday" in read.text
    assert ink.lines_found_plain == 4 * len(TEXT)
    assert ink.detector_px == 0 < model.detector_px


def test_a_region_read_of_one_line_finds_it(engines):
    image, ink = _page(TEXT[:3])
    line = ink[1]
    crop = image.crop((0, line[1] - 14, image.width, line[3] + 14))
    keep = (0, 14 - 4, crop.width, crop.height - 14 + 4)
    read = engines[True].recognize_within(crop, keep)
    assert [ln.text for ln in read.lines] == [TEXT[1]]
