"""Long text lines recognised in overlapping pieces, stitched by character position.

The recogniser's cost and memory grow faster than a line's width: on this machine a line
3,400 columns wide (a 1,200-pixel line of 17-pixel text, resized to the model's height of
48) costs 68 µs a column and holds ~100 MB of activations, against 48 µs and ~35 MB at
1,000 columns. Dense screens are made of such lines.

So a line wider than ``SPLIT_ABOVE_COLS`` is cut, at blank columns between words where it
has them, into pieces of about ``PIECE_COLS``. Each piece is read with ``overlap`` source
pixels of its neighbours on both sides (context for the recogniser), and greedy CTC
decoding tells where each character was read (its time step). A piece keeps only the
characters whose position falls inside its own span, so a character in an overlap is taken
from exactly one piece and the recogniser decides spaces as it would for the whole line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PIECE_COLS = 1024  # recogniser columns per piece (at height 48)
SPLIT_ABOVE_COLS = 1408  # lines at most this wide are read whole
INK_DELTA = 24  # a pixel this far from the background's grey is ink


@dataclass(frozen=True)
class Piece:
    """Part of a line crop to recognise: source columns [x0, x1) are read, characters read
    at columns [keep0, keep1) are kept."""

    line: int
    x0: int
    x1: int
    keep0: float
    keep1: float
    gap: bool = False  # the cut at keep0 lies in a blank gap (between words, usually)


def ink_columns(crop: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Which columns of a line crop hold ink in its middle half of rows (a detector box
    often takes in the ascenders and descenders of the lines above and below, which would
    bridge the gaps between words): pixels far from the background grey (the median of the
    crop's border)."""
    grey = crop.mean(axis=2) if crop.ndim == 3 else crop.astype(np.float64)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    h = grey.shape[0]
    middle = grey[h // 4:max(h // 4 + 1, h - h // 4)]
    ink = np.abs(middle - np.median(border)) > INK_DELTA
    return np.asarray(ink.any(axis=0))


def cut_points(ink: npt.NDArray[np.bool_], span: int) -> list[tuple[int, bool]]:
    """Where to cut a line whose pieces are at most ``span`` wide, and whether each cut is in
    a blank gap: in each stretch of [0.6, 1] x ``span`` past the last cut, the middle of its
    widest blank run (the gap between two words, usually); the stretch's end when it has
    none."""
    width = len(ink)
    cuts: list[tuple[int, bool]] = []
    start = 0
    while width - start > span * 1.15:  # no sliver of a last piece
        lo, hi = start + int(span * 0.6), min(width, start + span)
        blank = ~ink[lo:hi]
        cut, gap = hi, False
        if blank.any():
            edges = np.diff(np.concatenate([[0], blank.astype(np.int8), [0]]))
            begins, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
            best = int(np.argmax(ends - begins))
            cut, gap = lo + (int(begins[best]) + int(ends[best])) // 2, True
        cuts.append((cut, gap))
        start = cut
    return cuts


def pieces_of(index: int, crop: npt.NDArray[np.uint8], rec_height: int) -> list[Piece]:
    """How to read line ``index``: one piece when it is narrow enough, else overlapping
    pieces cut between words."""
    h, w = crop.shape[:2]
    cols = rec_height * w / max(1, h)
    if cols <= SPLIT_ABOVE_COLS:
        return [Piece(index, 0, w, -np.inf, np.inf)]
    span = max(1, int(PIECE_COLS * h / rec_height))
    cuts = cut_points(ink_columns(crop), span)
    bounds = [(0, False), *cuts, (w, False)]
    overlap = max(4, h)  # about two characters of context on each side
    pieces = []
    for i, ((a, gap), (b, _)) in enumerate(zip(bounds, bounds[1:], strict=False)):
        pieces.append(Piece(index, max(0, a - overlap), min(w, b + overlap),
                            -np.inf if i == 0 else float(a),
                            np.inf if b == w else float(b), gap))
    return pieces


def decode_steps(preds: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.int64],
                                                          npt.NDArray[np.float32],
                                                          npt.NDArray[np.int64]]:
    """Greedy CTC decoding of one T x C prediction: the kept classes, their probabilities
    and their time steps (repeats merged, blanks (class 0) dropped)."""
    tokens = preds.argmax(axis=1)
    probs = preds.max(axis=1)
    keep = np.ones(len(tokens), dtype=bool)
    keep[1:] = tokens[1:] != tokens[:-1]
    keep &= tokens != 0
    steps = np.flatnonzero(keep)
    return tokens[steps], probs[steps], steps


def stitch(parts: list[tuple[Piece, list[str], npt.NDArray[np.float32], npt.NDArray[np.float64]]]
           ) -> tuple[str, float]:
    """One line's (text, score) from its pieces' decoded characters: each keeps those read at
    source columns ``xs`` inside its span. At a cut in a blank gap, there is one space when
    either piece read a space near it (the recogniser places a character within a few
    columns, so each piece may put it on its own side of the cut), none otherwise. The score
    is the mean probability of the kept characters (each rounded to 5 decimals, as RapidOCR
    does)."""
    text = ""
    kept: list[float] = []
    previous: tuple[Piece, list[str], list[float]] | None = None
    for piece, chars, probs, xs in sorted(parts, key=lambda p: p[0].x0):
        positions = xs.tolist()
        mine = [(c, round(float(p), 5)) for c, p, x in zip(chars, probs.tolist(), positions,
                                                          strict=True)
                if piece.keep0 <= x < piece.keep1]
        if previous is not None:
            cut = piece.keep0
            near = max(1.0, cut - piece.x0) / 2
            spaced = piece.gap and any(c == " " and abs(x - cut) <= near
                         for c, x in [*zip(chars, positions, strict=True),
                                      *zip(previous[1], previous[2], strict=True)])
            if piece.gap:  # a space read at the gap comes from either side: one at most
                while mine and mine[0][0] == " ":
                    mine.pop(0)
                text = text.rstrip(" ") + (" " if spaced and text else "")
        text += "".join(c for c, _ in mine)
        kept.extend(p for _, p in mine)
        previous = (piece, chars, positions)
    score = round(float(np.mean(kept)), 5) if kept else 0.0
    return text, score
