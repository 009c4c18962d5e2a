"""Lines of wide fonts are narrowed before recognition (core/ppocr.py, line_squeeze): the
estimate of the recogniser's steps per character, the lines it leaves alone, and that the
text read is the same (and is read again unnarrowed when narrowing made it doubtful)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import core.ppocr as ppocr
from core.ppocr import (
    REC_HEIGHT,
    REC_MIN_SQUEEZE,
    REC_MIN_WIDTH,
    PpOcr,
    line_squeeze,
    narrowing_doubtful,
)

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core

PROSE = ["the design team moved the budget review to Thursday morning",
         "Invoice 4521 is due on Monday, please send it to billing",
         "Scrolling through the survey results of the river project"]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if DEJAVU.exists():
        return ImageFont.truetype(str(DEJAVU), size)
    return ImageFont.load_default(size=size)


def _line(text: str, size: int = 16, stretch: float = 1.0) -> np.ndarray:
    """A tight line crop (BGR) as the detector gives it, drawn ``stretch`` times as wide."""
    font = _font(size)
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), text, font=font)
    image = Image.new("RGB", (int(x1 - x0) + 12, int(y1 - y0) + 8), (250, 250, 250))
    ImageDraw.Draw(image).text((6 - x0, 4 - y0), text, fill=(20, 20, 20), font=font)
    if stretch != 1.0:
        image = image.resize((round(image.width * stretch), image.height),
                             Image.Resampling.BILINEAR)
    return np.asarray(image)[:, :, ::-1].copy()


def _steps_per_char(crop: np.ndarray, text: str) -> float:
    return REC_HEIGHT * crop.shape[1] / crop.shape[0] / 8 / len(text)


def test_the_squeeze_follows_how_wide_the_glyphs_are():
    for text in PROSE:
        plain = _line(text)
        wide = _line(text, stretch=1.5)
        narrow = _line(text, stretch=0.7)
        # stretched text is narrowed more, and back to about the target steps per character
        assert line_squeeze(wide) < line_squeeze(plain) <= 1.0
        target = _steps_per_char(wide, text) * line_squeeze(wide)
        assert line_squeeze(wide) == REC_MIN_SQUEEZE or \
            abs(target - ppocr.REC_TARGET_STEPS_PER_CHAR) < 0.35
        # condensed text is read as it is
        assert line_squeeze(narrow) == 1.0


def test_lines_with_too_little_ink_are_left_alone():
    blank = np.full((24, 400, 3), 250, dtype=np.uint8)
    assert line_squeeze(blank) == 1.0
    assert line_squeeze(_line("OK")) == 1.0  # a short word: nothing to gain
    assert line_squeeze(_line("review", stretch=1.5)) == 1.0  # padded to 320 anyway
    # never narrower than the minimum width: below it, narrowing saves nothing
    crop = _line("budget review", stretch=1.5)
    cols = REC_HEIGHT * crop.shape[1] / crop.shape[0]
    assert cols > REC_MIN_WIDTH and line_squeeze(crop) >= REC_MIN_WIDTH / cols - 1e-9
    assert line_squeeze(np.zeros((4, 100, 3), dtype=np.uint8)) == 1.0


@pytest.fixture(scope="module")
def engines():
    from core.ocr_int8 import int8_recognizer

    model = int8_recognizer(scripts="latin")  # the service's recogniser, when derived
    narrowing = PpOcr(rec_batch=1, rec_model=model, rec_squeeze=None).load()
    plain = PpOcr(rec_batch=1, rec_model=model, rec_squeeze=1.0).load()
    return narrowing, plain


def test_wide_lines_read_the_same_narrowed(engines):
    narrowing, plain = engines
    crops = [_line(text, stretch=1.4) for text in PROSE]
    assert all(line_squeeze(c) < 0.9 for c in crops)
    assert [t for t, _ in narrowing.recognize(crops)] == PROSE
    assert [t for t, _ in plain.recognize(crops)] == PROSE


def test_a_doubtful_narrowed_line_is_read_again_as_it_is(engines, monkeypatch):
    """Runs of one repeated character need a blank step between each: narrowed, a PEM
    header loses dashes and scores low; it is read again as it is."""
    narrowing, plain = engines
    font = ImageFont.load_default(size=20)
    header = "-----END EC PRIVATE KEY-----"
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), header,
                                                                       font=font)
    image = Image.new("RGB", (int(x1 - x0) + 12, int(y1 - y0) + 8), "white")
    ImageDraw.Draw(image).text((6 - x0, 4 - y0), header, fill="black", font=font)
    crop = np.asarray(image)[:, :, ::-1].copy()
    assert line_squeeze(crop) < 1.0
    as_is = plain.recognize([crop])[0]
    monkeypatch.setattr(ppocr, "narrowing_doubtful", lambda text, score: False)
    once = narrowing.recognize([crop])[0]  # without the second reading
    monkeypatch.undo()
    assert once[1] < ppocr.REC_RECHECK_SCORE and once[1] < as_is[1]
    assert narrowing.recognize([crop])[0] == as_is
    assert "END EC PRIVATE KEY--" in as_is[0]


def test_which_narrowed_readings_are_read_again():
    assert narrowing_doubtful("survey results for the design team", 0.96)  # low score
    assert not narrowing_doubtful("survey results for the design team", 0.99)
    assert not narrowing_doubtful("committee meeting, 3 attendees", 0.99)  # pairs are fine
    assert narrowing_doubtful("total ======== done", 0.99)  # a run of one character
    assert narrowing_doubtful("Card 4539 1488 0343 6467", 0.99)  # numbers: privacy detectors
    assert not narrowing_doubtful("   indented   text   ", 0.99)  # spaces are not a run


def test_a_card_number_reads_the_same_narrowed(engines):
    """Narrowed, ``4111 1111 1111 1111`` in small text lost a whole group of four with a
    high score; the privacy filter's card detector needs every digit."""
    narrowing, plain = engines
    font = ImageFont.load_default(size=12)
    text = "Card number: 4111 1111 1111 1111 exp 12/28"
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), text, font=font)
    image = Image.new("RGB", (int(x1 - x0) + 12, int(y1 - y0) + 8), "white")
    ImageDraw.Draw(image).text((6 - x0, 4 - y0), text, fill="black", font=font)
    crop = np.asarray(image)[:, :, ::-1].copy()
    assert line_squeeze(crop) < 1.0
    assert narrowing.recognize([crop]) == plain.recognize([crop])
    assert "4111 1111 1111 1111" in plain.recognize([crop])[0][0]
