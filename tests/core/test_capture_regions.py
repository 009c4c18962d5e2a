"""Region change detection, scroll detection, and region OCR bookkeeping (with an OCR that
reads rendered lines exactly, so the merge logic is tested independently of the model)."""

from __future__ import annotations

import time

from PIL import Image, ImageDraw

from bench.traces import DesktopRenderer, scrolling_trace, typing_trace, window_switch_trace
from core.capture.region_ocr import RegionOcr, reading_order
from core.capture.regions import changed_boxes, detect_scroll, downscale, full_grey
from core.types import OcrLine, OcrResult


def test_identical_frames_have_no_changed_boxes_and_compare_in_about_a_millisecond():
    a, b = typing_trace(DesktopRenderer(), 2)
    small_a, small_b = downscale(a), downscale(b)
    assert changed_boxes(small_a, downscale(a.copy())) == []
    t0 = time.perf_counter()
    for _ in range(20):
        boxes = changed_boxes(small_a, small_b)
    per_call_ms = (time.perf_counter() - t0) / 20 * 1000
    assert per_call_ms < 20  # ~0.1 ms here; generous for a loaded CI machine
    (box,) = boxes  # only the typed line changed
    x0, y0, x1, y1 = box
    assert y1 - y0 <= 64 and x0 >= 320  # one text row in the text area


def test_separate_changes_give_separate_boxes():
    img = Image.new("L", (640, 480), 255)
    other = img.copy()
    draw = ImageDraw.Draw(other)
    draw.rectangle((10, 10, 60, 30), fill=0)
    draw.rectangle((400, 300, 500, 350), fill=0)
    boxes = sorted(changed_boxes(downscale(img.convert("RGB")), downscale(other.convert("RGB"))))
    assert len(boxes) == 2
    assert boxes[0][0] <= 10 and boxes[0][2] >= 60 and boxes[1][1] <= 300 <= boxes[1][3]


def test_scroll_is_detected_with_its_offset():
    renderer = DesktopRenderer()
    a, b = scrolling_trace(renderer, 2, lines_per_step=3)
    (box,) = changed_boxes(downscale(a), downscale(b))
    scroll = detect_scroll(full_grey(a), full_grey(b), box)
    assert scroll is not None and scroll.dy == 3 * renderer.line_h
    assert scroll.matched_rows[0][1] - scroll.matched_rows[0][0] > 600


class RenderedTextOcr:
    """Reads the text a DesktopRenderer drew, from a registry of (image id -> lines)."""

    def __init__(self, renderer: DesktopRenderer) -> None:
        self.renderer = renderer
        self.pixels_read = 0
        self.calls = 0
        self.lines: list[tuple[str, tuple[int, int, int, int]]] = []

    def show(self, img: Image.Image, lines: list[tuple[str, tuple[int, int, int, int]]]) -> None:
        self.current = img
        self.lines = lines

    def recognize(self, image: Image.Image) -> OcrResult:
        # locate the crop inside the current frame by exhaustive match of its top-left corner
        self.calls += 1
        self.pixels_read += image.width * image.height
        off = _find(self.current, image)
        out = []
        for text, (x0, y0, x1, y1) in self.lines:
            if x0 >= off[0] and y0 >= off[1] and x1 <= off[0] + image.width \
                    and y1 <= off[1] + image.height:
                out.append(OcrLine(text, 0.99, (x0 - off[0], y0 - off[1], x1 - off[0],
                                               y1 - off[1])))
        return OcrResult(tuple(out))


def _find(frame: Image.Image, crop: Image.Image) -> tuple[int, int]:
    if crop.size == frame.size:
        return (0, 0)
    import numpy as np

    big = np.asarray(frame.convert("L"))
    small = np.asarray(crop.convert("L"))
    h, w = small.shape
    for y in range(big.shape[0] - h + 1):
        for x in range(big.shape[1] - w + 1):
            if (big[y, x:x + w] == small[0]).all() and (big[y:y + h, x:x + w] == small).all():
                return (x, y)
    raise AssertionError("crop not found")


def _text_lines(renderer: DesktopRenderer, img_lines: list[str], top_line: int = 0):
    font = renderer.font
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    out = []
    rows = (renderer.size[1] - 84 - 20) // renderer.line_h
    for i, text in enumerate(img_lines[top_line:top_line + rows]):
        x0, y0, x1, y1 = draw.textbbox((330, 84 + i * renderer.line_h), text, font=font)
        out.append((text, (x0, y0, x1, y1)))
    return out


def test_region_ocr_reads_only_what_changed_and_matches_a_full_read():
    renderer = DesktopRenderer(size=(960, 540), font_size=16)
    ocr = RenderedTextOcr(renderer)
    region = RegionOcr(ocr)
    from bench.traces import Window, paragraph_lines

    base = list(paragraph_lines(5, 8))
    typed = "Dear team the budget"
    for k in range(1, 5):
        lines = [*base, typed[: k * 5]]
        img = renderer.render(Window("t", tuple(lines)))
        ocr.show(img, _text_lines(renderer, lines))
        got = region.recognize(img, key="1")
        full = reading_order([OcrLine(t, 0.99, b) for t, b in _text_lines(renderer, lines)])
        assert got.text == OcrResult(full).text
    assert region.stats.full_reads == 1 and region.stats.region_reads == 3
    assert ocr.pixels_read < 960 * 540 * 1.3  # three small crops after the first full read


def test_switching_back_to_a_window_reuses_its_reading():
    renderer = DesktopRenderer(size=(640, 360), font_size=16)
    frames = window_switch_trace(renderer, 4)

    class CountingOcr:
        calls = 0

        def recognize(self, image):
            CountingOcr.calls += 1
            return OcrResult((OcrLine(f"read {CountingOcr.calls}", 0.9, (0, 0, 5, 5)),))

    region = RegionOcr(CountingOcr())
    texts = [region.recognize(img, key="1").text for img in frames]
    assert CountingOcr.calls == 3  # windows 0, 1, 2 read once each
    assert texts[3] == texts[0] and region.stats.last_mode == "reused"


def test_a_scroll_bar_thumb_moving_its_own_way_leaves_the_text_beside_it_scrolled():
    """A scroll bar's thumb moves by its own amount, not the text's: the rows beside it are
    still recognised as scrolled (only the bar is new), so their lines are not read again."""
    from bench.traces import Window, paragraph_lines

    renderer = DesktopRenderer(size=(1280, 540), font_size=16)
    doc = tuple(paragraph_lines(2, 60))
    shown = [_text_lines(renderer, list(doc), top) for top in (0, 2)]
    right = max(b[2] for lines in shown for _, b in lines)
    assert right + 24 <= 1280
    bar = (right + 8, 64, right + 22, 540)
    frames = []
    for k, top in enumerate((0, 2)):
        img = renderer.render(Window("Reader", doc, top_line=top)).crop((0, 0, right + 24, 540))
        draw = ImageDraw.Draw(img)
        draw.rectangle(bar, fill=(225, 225, 225))
        thumb = 100 + 45 * k  # the text moves 2 lines (51 px), the thumb 45 px
        draw.rectangle((bar[0] + 2, thumb, bar[2] - 2, thumb + 80), fill=(110, 110, 110))
        frames.append(img)
    (box,) = [b for b in changed_boxes(downscale(frames[0]), downscale(frames[1]))
              if b[2] - b[0] > 100]
    assert box[2] > bar[0]  # the bar and the text changed as one rectangle
    scroll = detect_scroll(full_grey(frames[0]), full_grey(frames[1]), box)
    assert scroll is not None and scroll.dy == 2 * renderer.line_h
    assert scroll.edges and all(e[0] >= bar[0] - 8 and e[2] <= box[2] for e in scroll.edges)
    thumb_rows = (100, 145 + 80)
    assert any(r0 <= thumb_rows[0] and thumb_rows[1] <= r1 for r0, r1 in scroll.matched_rows)

    ocr = RenderedTextOcr(renderer)
    region = RegionOcr(ocr)
    read: list[str] = []
    plain_recognize = ocr.recognize

    def recognize(image: Image.Image) -> OcrResult:
        result = plain_recognize(image)
        read.extend(line.text for line in result.lines)
        return result

    ocr.recognize = recognize  # type: ignore[method-assign]
    for img, lines in zip(frames, shown, strict=True):
        ocr.show(img, lines)
        read.clear()
        got = region.recognize(img, key="1")
        full = reading_order([OcrLine(t, 0.99, b) for t, b in lines])
        assert got.text == OcrResult(full).text
    assert region.stats.scrolls == 1
    # only the lines scrolled into view at the bottom were read again
    assert read and set(read) <= {t for t, _ in shown[1][-3:]}
