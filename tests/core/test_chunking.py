"""Content-defined chunking (core/chunking.py): chunks cut between lines where the text says
so, so consecutive captures of one screen share most chunks and their vectors are reused."""

from __future__ import annotations

import random

from core.chunking import chunk_text

WORDS = ("invoice meeting budget draft review kernel patch report travel visa "
         "quarterly numbers design release notes server backup login calendar "
         "project deadline customer support ticket pipeline model vector").split()


def _lines(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 16))) + f" {i}"
            for i in range(n)]


def _body(chunk: str) -> list[str]:
    return chunk.split("\n")[1:]  # the first line is the title


def test_chunks_cover_the_text_in_bounded_sizes_with_one_line_of_overlap() -> None:
    lines = _lines(60)
    chunks = chunk_text("Report — Editor", "\n".join(lines), max_chunks=100)
    assert len(chunks) >= 4
    assert all(c.startswith("Report — Editor\n") for c in chunks)
    covered = [line for c in chunks for line in _body(c)]
    assert set(covered) == set(lines)  # every line, none made up
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert _body(after)[0] == _body(before)[-1]
    for c in chunks[:-1]:
        assert 0.75 * 130 <= len(" ".join(_body(c)).split()) <= 1.3 * 130 + 16


def test_a_typed_word_changes_only_the_chunks_around_its_line() -> None:
    lines = _lines(90)
    before = chunk_text("t", "\n".join(lines))
    for row in (5, 30, 61):
        typed = list(lines)
        typed[row] = typed[row].replace(" ", " quickly ", 1)
        after = chunk_text("t", "\n".join(typed))
        assert len(after) == 8
        assert len(set(after) - set(before)) <= 3, row


def test_a_scrolled_view_cuts_its_unchanged_lines_into_the_same_chunks() -> None:
    lines = _lines(140)
    top = chunk_text("t", "\n".join(lines[0:80]), max_chunks=100)
    scrolled = chunk_text("t", "\n".join(lines[25:105]), max_chunks=100)
    shared = set(top) & set(scrolled)
    # the view moved by a third: the chunks of the lines seen in both are mostly identical
    assert len(shared) >= len(scrolled) // 2 - 1


def test_text_without_line_breaks_and_empty_text() -> None:
    rng = random.Random(3)
    long_line = " ".join(rng.choice(WORDS) for _ in range(1000))
    chunks = chunk_text("", long_line)
    assert 1 < len(chunks) <= 8
    assert all(len(c.split()) <= 130 * 1.3 for c in chunks)
    assert chunk_text("Title", "") == ["Title"]
    assert chunk_text("", "  \n ") == [" "]
    assert chunk_text("", "one short line") == ["one short line"]
