"""Long lines read in overlapping pieces (core/linesplit.py): where they are cut, how the
pieces' characters are stitched, and that a real long line reads the same as whole."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from core import linesplit
from core.linesplit import Piece, cut_points, decode_steps, ink_columns, pieces_of, stitch
from core.ocr import RapidOcrEngine
from core.ppocr import PpOcr, crop_box

WORDS = ("meeting budget review travel design river survey garden chapter figure table method "
         "schedule results data team report draft archive recipe").split()


def test_decode_steps_merges_repeats_drops_blanks_and_tells_where():
    steps = [1, 1, 0, 1, 2, 2, 0, 3, 2]  # a a _ a b b _ ' ' b -> "aab b"
    preds = np.full((len(steps), 4), 0.01, dtype=np.float32)
    for t, c in enumerate(steps):
        preds[t, c] = 0.9 if t != 4 else 0.6
    tokens, probs, where = decode_steps(preds)
    assert tokens.tolist() == [1, 1, 2, 3, 2]
    assert where.tolist() == [0, 3, 4, 7, 8]
    assert probs.tolist() == pytest.approx([0.9, 0.9, 0.6, 0.9, 0.9])


def test_one_piece_keeps_everything_and_scores_the_mean():
    whole = Piece(0, 0, 100, -np.inf, np.inf)
    text, score = stitch([(whole, list("ab c"), np.array([0.9, 0.6, 0.9, 0.9]),
                           np.array([5.0, 15.0, 25.0, 35.0]))])
    assert text == "ab c"
    assert score == pytest.approx(0.825)
    assert stitch([(whole, [], np.array([]), np.array([]))]) == ("", 0.0)


def test_cut_points_take_the_widest_blank_gap_of_each_stretch():
    ink = np.ones(1000, dtype=bool)
    ink[300:303] = False  # a narrow gap
    ink[340:350] = False  # the widest gap in [240, 400)
    ink[700:705] = False
    cuts = cut_points(ink, 400)
    assert cuts[0] == (345, True)
    assert all(gap for _, gap in cuts)
    solid = np.ones(1000, dtype=bool)  # a long token: no gap anywhere
    assert cut_points(solid, 400)[0] == (400, False)
    assert cut_points(np.ones(420, dtype=bool), 400) == []  # no sliver of a last piece


def test_pieces_cover_the_line_and_keep_spans_partition_it():
    crop = np.full((32, 2400, 3), 255, dtype=np.uint8)
    crop[8:24, ::9] = 0  # glyph-like strokes with blank columns between them
    pieces = pieces_of(7, crop, 48)
    assert len(pieces) >= 2 and all(p.line == 7 for p in pieces)
    assert pieces[0].x0 == 0 and pieces[-1].x1 == 2400
    assert pieces[0].keep0 == -np.inf and pieces[-1].keep1 == np.inf
    for left, right in zip(pieces, pieces[1:], strict=False):
        assert left.keep1 == right.keep0  # every column kept by exactly one piece
        assert left.x1 > left.keep1 and right.x0 < right.keep0  # each sees past its cut
    # at most a piece and its overlaps (the last one may be 15% longer: no slivers)
    assert all(48 * (p.x1 - p.x0) / 32 <= 1.15 * linesplit.PIECE_COLS + 48 * 2 + 1
               for p in pieces)
    narrow = np.full((32, 600, 3), 255, dtype=np.uint8)
    assert pieces_of(0, narrow, 48) == [Piece(0, 0, 600, -np.inf, np.inf)]


def test_ink_columns_ignore_neighbouring_lines_at_the_edges():
    crop = np.full((32, 100, 3), 255, dtype=np.uint8)
    crop[10:22, 10:40] = 0
    crop[0:4, 40:90] = 0  # descenders of the line above, in the top rows only
    ink = ink_columns(crop)
    assert ink[10:40].all() and not ink[45:90].any()


@pytest.mark.parametrize("left_space", [True, False])
def test_a_space_read_on_either_side_of_a_gap_cut_gives_one_space(left_space):
    left = Piece(0, 0, 120, -np.inf, 100.0)
    right = Piece(0, 80, 200, 100.0, np.inf, gap=True)
    # "abc d|ef": the gap at 100; the left piece reads the space at 98 or not at all,
    # the right piece reads it at 103 (and re-reads "d" from its overlap, at 90)
    lchars = list("abc d ") if left_space else list("abc d")
    lxs = [10, 30, 50, 60, 90, 98] if left_space else [10, 30, 50, 60, 90]
    rchars, rxs = list("d ef"), [90, 103, 120, 140]
    text, _ = stitch([(left, lchars, np.full(len(lchars), 0.9), np.array(lxs, dtype=float)),
                      (right, rchars, np.full(4, 0.9), np.array(rxs, dtype=float))])
    assert text == "abc d ef"


def test_no_space_is_made_up_at_a_cut_through_ink():
    left = Piece(0, 0, 120, -np.inf, 100.0)
    right = Piece(0, 80, 200, 100.0, np.inf, gap=False)  # a long token cut mid-way
    text, _ = stitch([(left, list("AKIAQ"), np.full(5, 0.9),
                       np.array([20.0, 40, 60, 80, 97])),
                      (right, list("QZ7"), np.full(3, 0.9), np.array([97.0, 105, 125]))])
    assert text == "AKIAQZ7"


def _long_line(path_font_size: int = 17) -> np.ndarray:
    rng = np.random.default_rng(4)
    text = " ".join(rng.choice(WORDS) for _ in range(30)).capitalize()
    font = ImageFont.truetype("DejaVuSans.ttf", path_font_size)
    width = int(font.getlength(text)) + 40
    image = Image.new("RGB", (width, 40), "white")
    ImageDraw.Draw(image).text((20, 10), text, fill="black", font=font)
    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


def test_a_long_real_line_reads_the_same_in_pieces_as_whole(monkeypatch):
    engine = PpOcr(limit_type="max", limit_side_len=4000, max_side=4000, rec_batch=1).load()
    bgr = _long_line()
    boxes = [d.box for d in engine.detect(bgr)]
    assert len(boxes) == 1
    crop = crop_box(bgr, boxes[0])
    assert len(pieces_of(0, crop, 48)) >= 2  # wide enough to be cut
    (split, _), = engine.recognize([crop])
    monkeypatch.setattr(linesplit, "SPLIT_ABOVE_COLS", 10**9)
    (whole, _), = engine.recognize([crop])
    assert split == whole
    assert sum(w.lower() in WORDS for w in split.split()) >= 28


def test_the_engine_reads_long_lines_through_the_pieces(monkeypatch):
    calls: list[int] = []
    original = linesplit.pieces_of

    def counting(index: int, crop: np.ndarray, height: int) -> list[Piece]:
        found = original(index, crop, height)
        calls.append(len(found))
        return found

    monkeypatch.setattr("core.ppocr.pieces_of", counting)
    bgr = _long_line()
    result = RapidOcrEngine(native_det=True, max_side_px=4000).recognize(
        Image.fromarray(np.ascontiguousarray(bgr[:, :, ::-1])))
    assert max(calls) >= 2
    assert sum(w.lower() in WORDS for ln in result.lines for w in ln.text.split()) >= 28
