"""OCR of long token lines (keys, JWTs) on screen: RapidOcrEngine reads them so that the
privacy detectors see them. The angle classifier is off (it flipped upright token lines,
which then read as garbage); doubtful long lines get a second look from an upright crop."""

from __future__ import annotations

import pytest

from bench.bench_privacy_filter import render
from core.ocr import RapidOcrEngine
from core.privacy.detectors import find_sensitive
from tests.privacy_samples import sensitive_text_samples

# Samples the native-scale read garbled with the angle classifier on (measured: the
# recogniser returned 'tOo-t', 'Aut Bg Ba8F' or nothing for these lines). Since the boxes are
# axis-aligned (core/ppocr.py) the classifier still flips the first and the last; the OpenAI
# key line's upright box now scores 0.72 for "upside down", under the 0.9 that turns it.
GARBLED = (42, 66, 80)  # a GitHub token, an OpenAI key, a JWT
STILL_FLIPPED = (42, 80)


@pytest.fixture(scope="module")
def samples():
    return sensitive_text_samples()


@pytest.fixture(scope="module")
def engine():
    return RapidOcrEngine(native_det=True)


@pytest.fixture(scope="module")
def classifying_engine():
    return RapidOcrEngine(native_det=True, angle_cls=True, second_look=False)


@pytest.mark.parametrize("index", GARBLED)
def test_long_tokens_are_read_for_the_detectors(samples, index, engine, classifying_engine):
    sample = samples[index]
    image = render(sample.lines)
    if index in STILL_FLIPPED:  # the failure that turned the classifier off
        assert not find_sensitive(classifying_engine.recognize(image).text)
    read = engine.recognize(image)
    assert {m.kind for m in find_sensitive(read.text)} == {sample.kind}


def test_second_look_rereads_a_garbled_line(samples, engine):
    sample = samples[42]
    image = render(sample.lines)
    lines = engine._read(image)
    token = next(i for i, (text, _, _) in enumerate(lines) if "ghp_" in text)
    text, _, box = lines[token]
    garbled = list(lines)
    garbled[token] = ("Aut Bg Ba8F", 0.59, box)  # what the flipped line used to read
    assert engine.doubtful(*garbled[token])
    before = engine.second_looks
    again = engine._look_again(image, garbled)
    assert engine.second_looks == before + 1
    assert find_sensitive(again[token][0]) and again[token][1] >= 0.75
    assert [ln for i, ln in enumerate(again) if i != token] == \
        [ln for i, ln in enumerate(lines) if i != token]


def test_ordinary_lines_get_no_second_look(engine):
    before = engine.second_looks
    read = engine.recognize(render(["Weekly report for the garden team",
                                    "Nothing sensitive on this screen, just a long sentence "
                                    "about the budget review and the travel schedule"]))
    assert "garden" in read.text and "travel schedule" in read.text
    assert engine.second_looks == before


def test_doubtful_rule():
    box = (0, 0, 1600, 23)
    assert RapidOcrEngine.doubtful("tOo-t", 0.56, box)
    assert not RapidOcrEngine.doubtful("tOo-t", 0.95, box)  # confident
    assert not RapidOcrEngine.doubtful("x" * 100, 0.56, box)  # most characters present
    assert not RapidOcrEngine.doubtful("ok", 0.4, (0, 0, 60, 23))  # short line
