"""The pure steps of the OpenCV-free PP-OCR pipeline (core/ppocr.py) on small arrays:
resizing, dilation, connected regions, DB boxes and unclip, reading order, and
that neither the app's OCR nor its model lookup imports OpenCV or RapidOCR's Python code."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from core.ppocr import (
    component_boxes,
    crop_box,
    db_boxes,
    dilate_2x2,
    model_dir,
    normalise_line,
    rec_width,
    resize_bilinear,
    resize_u8,
    row_runs,
    sort_boxes,
    unclip_box,
)
from tests.support import REPO


def _mask(rows: list[str]) -> np.ndarray:
    return np.array([[c == "#" for c in row] for row in rows], dtype=bool)


def test_row_runs_are_half_open_per_row():
    rows, starts, ends = row_runs(_mask(["##..#", ".....", "#####"]))
    assert rows.tolist() == [0, 0, 2]
    assert starts.tolist() == [0, 4, 0]
    assert ends.tolist() == [2, 5, 5]


def test_components_are_eight_connected_with_inclusive_boxes():
    mask = _mask([
        "##.....#",
        "..#....#",
        "........",
        "...##...",
        "..#..#..",
    ])
    boxes = sorted(component_boxes(mask).tolist())
    # the diagonal touch joins (0,0)-(2,1); the right column is one region; the V shape
    # at the bottom is one region through its diagonals
    assert boxes == [[0, 0, 2, 1], [2, 3, 5, 4], [7, 0, 7, 1]]


def test_components_join_runs_through_a_u_shape_and_a_spiral():
    # both arms of a U meet only at the bottom: one region (union-find across runs)
    u = _mask(["#...#", "#...#", "#####"])
    assert component_boxes(u).tolist() == [[0, 0, 4, 2]]
    spiral = _mask([
        "#######",
        "......#",
        "####..#",
        "#..#..#",
        "#.....#",
        "#######",
    ])
    assert component_boxes(spiral).tolist() == [[0, 0, 6, 5]]


def test_components_of_an_empty_and_a_full_mask():
    assert component_boxes(np.zeros((4, 5), dtype=bool)).shape == (0, 4)
    assert component_boxes(np.ones((3, 4), dtype=bool)).tolist() == [[0, 0, 3, 2]]


def test_components_on_a_large_random_mask_match_a_flood_fill():
    rng = np.random.default_rng(7)
    mask = rng.random((60, 80)) > 0.62
    seen = np.zeros_like(mask)
    expected = []
    for y, x in zip(*np.nonzero(mask), strict=True):
        if seen[y, x]:
            continue
        stack, pts = [(y, x)], []
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            pts.append((cy, cx))
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = cy + dy, cx + dx
                    if 0 <= ny < 60 and 0 <= nx < 80 and mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        ys, xs = zip(*pts, strict=True)
        expected.append([min(xs), min(ys), max(xs), max(ys)])
    assert sorted(component_boxes(mask).tolist()) == sorted(expected)


def test_dilate_2x2_grows_right_and_down_like_opencv():
    mask = _mask(["....", ".#..", "....", "...."])
    assert dilate_2x2(mask).astype(int).tolist() == [
        [0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]


def test_unclip_moves_every_side_by_area_ratio_over_perimeter():
    # 100 x 10 box: 1000 * 1.6 / 220 = 7.27 -> 7 whole pixels
    assert unclip_box(10, 20, 110, 30, 1.6) == (3, 13, 117, 37)
    assert unclip_box(0, 0, 0, 5) == (0, 0, 0, 5)  # degenerate: unchanged


def test_db_boxes_score_threshold_unclip_and_scale():
    prob = np.zeros((40, 80), dtype=np.float32)
    prob[10:20, 10:60] = 0.9  # a line
    prob[30:33, 5:9] = 0.9  # a small mark: 5 x 4 once dilated, kept
    prob[25:35, 65:75] = 0.35  # above the pixel threshold, below the box threshold
    found = db_boxes(prob, dest_w=160, dest_h=80)
    boxes = [box for box, _ in found]
    # the line: region x 10..60, y 10..20 after the 2x2 dilation; unclip by
    # 50*10*1.6/120 = 6.67 -> 7; then doubled to the 160 x 80 image
    assert boxes[0] == (6, 6, 134, 54)
    assert found[0][1] == pytest.approx(0.9 * 500 / 561, abs=0.01)
    assert boxes[1] == (8, 58, 20, 68)
    assert len(boxes) == 2  # the faint square is dropped


def test_db_boxes_drop_thin_regions():
    prob = np.zeros((20, 40), dtype=np.float32)
    prob[5, 2:30] = 0.95  # one pixel high: two rows once dilated, under the minimum of 3
    assert db_boxes(prob, 40, 20) == []


def test_sort_boxes_reads_rows_left_to_right():
    found = [((300, 12, 400, 30), 0.9), ((10, 10, 100, 30), 0.9), ((10, 50, 90, 70), 0.9),
             ((150, 19, 250, 40), 0.9)]
    order = [box for box, _ in sort_boxes(found)]
    # tops 10, 12 and 19 are one row (each step under 10 px), 50 the next
    assert order == [(10, 10, 100, 30), (150, 19, 250, 40), (300, 12, 400, 30),
                     (10, 50, 90, 70)]


def test_resize_bilinear_matches_opencv_pixel_centres():
    row = np.array([[0.0, 10.0, 20.0, 30.0]], dtype=np.float32)
    up = resize_bilinear(row, 1, 8)
    # centres at (x + 0.5) / 2 - 0.5: -0.25 (clamped), 0.25, 0.75, ... 3.25 (clamped)
    assert up.ravel().tolist() == pytest.approx([0, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 30])
    down = resize_bilinear(np.arange(8, dtype=np.float32).reshape(1, 8), 1, 4)
    assert down.ravel().tolist() == pytest.approx([0.5, 2.5, 4.5, 6.5])
    same = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(resize_bilinear(same, 3, 4), same.astype(np.float32))


def test_line_normalisation_keeps_aspect_and_pads():
    crop = np.full((24, 60, 3), 255, dtype=np.uint8)
    assert rec_width(60, 24, batch_width=400) == 120
    assert rec_width(600, 24, batch_width=400) == 400
    tensor = normalise_line(crop, batch_width=320)
    assert tensor.shape == (3, 48, 320)
    assert np.allclose(tensor[:, :, :120], 1.0) and np.allclose(tensor[:, :, 120:], 0.0)


def test_crop_box_turns_tall_crops():
    image = np.zeros((50, 50, 3), dtype=np.uint8)
    assert crop_box(image, (0, 0, 30, 10)).shape == (10, 30, 3)
    assert crop_box(image, (0, 0, 10, 30)).shape == (10, 30, 3)  # turned a quarter


def test_models_are_found_and_neither_cv2_nor_rapidocr_code_is_imported():
    assert (model_dir() / "PP-OCRv6_rec_small.onnx").is_file()
    code = ("import sys; from PIL import Image; from core.ocr import RapidOcrEngine; "
            "img = Image.new('RGB', (320, 64), 'white'); "
            "RapidOcrEngine(native_det=True).recognize(img); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('cv2', 'rapidocr', 'pyclipper', 'shapely', 'omegaconf')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.strip() == "[]"


def test_resize_and_regions_agree_with_opencv_where_it_is_installed():
    """A cross-check against the library this module replaces (a development dependency of
    RapidOCR, not of the app)."""
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    for h, w in ((48, 97), (20, 30), (37, 64), (64, 53), (18, 97)):
        theirs = cv2.resize(image, (w, h)).astype(np.float32)
        assert np.abs(np.rint(resize_bilinear(image, h, w)) - theirs).max() <= 1
        assert np.abs(resize_u8(image, h, w).astype(np.float32) - theirs).max() <= 1
    mask = rng.random((90, 120)) > 0.6
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    theirs = sorted([x, y, x + w - 1, y + h - 1] for x, y, w, h, _ in stats[1:n].tolist())
    assert sorted(component_boxes(mask).tolist()) == theirs
    assert np.array_equal(dilate_2x2(mask),
                          cv2.dilate(mask.astype(np.uint8), np.ones((2, 2))).astype(bool))


def test_missing_or_corrupt_models_give_a_clear_error(tmp_path, monkeypatch):
    import importlib.util

    from core import ppocr
    from core.errors import ModelError

    for name in (ppocr.DET_MODEL, ppocr.REC_MODEL):
        (tmp_path / name).write_bytes(b"not an onnx model")
    monkeypatch.setattr(ppocr, "model_dir", lambda: tmp_path)
    with pytest.raises(ModelError, match="OCR models failed to load"):
        ppocr.PpOcr().load()
    monkeypatch.undo()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="not installed"):
        ppocr.model_dir()
