"""The OCR second look (RapidOcrEngine, second_look=True): long token lines that the native-
scale read garbles are re-read from an upright crop, so the privacy detectors see them;
ordinary lines are read once."""

from __future__ import annotations

import pytest

from bench.bench_privacy_filter import render
from core.ocr import RapidOcrEngine
from core.privacy.detectors import find_sensitive
from tests.privacy_samples import sensitive_text_samples

# Samples the native-scale read garbles without a second look (measured: the recogniser
# returned 'tOo-t' or nothing for these JWT / GitHub / OpenAI lines).
GARBLED = (42, 66, 80)  # a GitHub token, an OpenAI key, a JWT


@pytest.fixture(scope="module")
def samples():
    return sensitive_text_samples()


@pytest.fixture(scope="module")
def plain_engine():
    return RapidOcrEngine(native_det=True, second_look=False)


@pytest.fixture(scope="module")
def engine():
    return RapidOcrEngine(native_det=True)


@pytest.mark.parametrize("index", GARBLED)
def test_second_look_lets_the_detectors_see_long_tokens(samples, index, plain_engine,
                                                         engine):
    sample = samples[index]
    image = render(sample.lines)
    plain = plain_engine.recognize(image)
    assert not find_sensitive(plain.text)  # the failure this guards against
    before = engine.second_looks
    read = engine.recognize(image)
    assert engine.second_looks > before
    assert {m.kind for m in find_sensitive(read.text)} == {sample.kind}


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
