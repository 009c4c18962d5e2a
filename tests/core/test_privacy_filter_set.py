"""SECURITY.md T6 through real OCR: the rendered filter set, and a redacted memory whose
thumbnail has the secret's boxes blacked out and whose stored text holds no secret."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
from PIL import Image

from bench.bench_privacy_filter import evaluate, render
from core.config import OcrConfig
from core.service import service_ocr
from core.types import MonitorGeometry, ScreenFrame
from tests.capture_support import make_memory, window
from tests.support import PASSPHRASE, assert_secret_absent

pytestmark = pytest.mark.filterwarnings("ignore:table_names:DeprecationWarning")


@pytest.fixture(scope="module")
def ocr():
    # the engine as the capture service runs it on this machine (the recogniser for
    # ocr.scripts = "auto", detection in bands, lines on plain backgrounds found from ink)
    return service_ocr(OcrConfig())


@pytest.mark.slow
def test_filter_set_drops_or_redacts_sensitive_screens_and_keeps_ordinary_ones(ocr):
    result = evaluate(ocr, ordinary_n=100)
    assert result.sensitive >= 100 and result.ordinary >= 100
    # The filters' promise: nothing OCR read is missed, nothing redacted is left in the text.
    assert result.ocr_misreads == len(result.misses), result.misses
    assert result.leaked_secret_in_text == 0
    assert result.kept_rate >= 0.95, result.false_positives
    # The goal (SECURITY.md T6). Measured 145/145 once the OCR stopped flipping token
    # lines with its angle classifier and re-reads doubtful long lines (docs/benchmarks.md).
    assert result.caught_rate >= 0.99, result.misses


def test_redacted_memory_has_black_boxes_in_its_thumbnail_and_no_secret(tmp_path, ocr):
    card = "4539 1488 0343 6467"
    token = "ghp_" + "Q7w2E9r4T6y1U3i5O8p0A2s4D6f8G1h3J5k7"
    image = render(["Order summary for the blue bicycle", f"Paid with card {card}",
                    f"deploy key {token}", "Thank you for shopping with us"], font_size=18)
    memory, _, paths = make_memory(tmp_path)
    frame = ScreenFrame(MonitorGeometry(1, 0, 0, image.width, image.height), image,
                        datetime.now(UTC))
    report = memory.capture_frames([frame], window(title="Checkout - Shop"), ocr=ocr)
    assert len(report.stored) == 1 and report.redacted == 1
    memory.unlock(PASSPHRASE)
    record = memory.get(report.stored[0])
    assert record is not None
    text = record.ocr.text
    assert card not in text and card.replace(" ", "") not in text and token not in text
    assert "[redacted payment card]" in text and "[redacted github token]" in text
    assert "bicycle" in text  # the rest of the screen is kept
    thumb = Image.open(BytesIO(memory.thumbnail(report.stored[0]))).convert("L")
    scale = thumb.width / image.width
    redacted_lines = [ln for ln in record.ocr.lines if "[redacted" in ln.text]
    assert len(redacted_lines) == 2
    for line in redacted_lines:
        x0, y0, x1, y1 = (int(v * scale) for v in line.box)
        box = thumb.crop((x0 + 1, y0 + 1, x1 - 1, y1 - 1))
        dark = sum(1 for v in box.tobytes() if v < 40) / (box.width * box.height)
        assert dark > 0.95
    kept = next(ln for ln in record.ocr.lines if "bicycle" in ln.text)
    x0, y0, x1, y1 = (int(v * scale) for v in kept.box)
    box = thumb.crop((x0, y0, x1, y1))
    assert sum(1 for v in box.tobytes() if v < 40) / (box.width * box.height) < 0.5
    full = Image.open(BytesIO(memory.frame(report.stored[0]))).convert("L")
    for line in redacted_lines:
        crop = full.crop(line.box)
        assert sum(1 for v in crop.tobytes() if v < 40) / (crop.width * crop.height) > 0.95
    memory.close()
    for secret in (card, card.replace(" ", ""), token):
        assert_secret_absent(paths.data_dir, secret)
