"""Rendered desktop traces for the region-OCR benchmark and tests: typing, scrolling and
window switches on a 1920x1080 screen, drawn with PIL (deterministic, pixel-exact)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

WORDS = ("the report shows that our quarterly budget for design review travel and data "
         "science teams grew while the garden project river survey and recipe archive "
         "stayed flat compared with last year results method schedule chapter figure").split()


@dataclass(frozen=True)
class Window:
    title: str
    lines: tuple[str, ...]
    top_line: int = 0  # first visible line (scroll position)
    accent: tuple[int, int, int] = (40, 90, 160)


def paragraph_lines(seed: int, n: int, words_per_line: int = 11) -> tuple[str, ...]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(words_per_line)]
        out.append(f"{i + 1:>3}  " + " ".join(words).capitalize() + ".")
    return tuple(out)


class DesktopRenderer:
    """Draws a panel, a window with a title bar, a sidebar and a text area."""

    def __init__(self, size: tuple[int, int] = (1920, 1080), font_size: int = 20) -> None:
        self.size = size
        self.font = ImageFont.load_default(size=font_size)
        self.small = ImageFont.load_default(size=16)
        self.line_h = int(font_size * 1.6)

    def render(self, window: Window) -> Image.Image:
        w, h = self.size
        img = Image.new("RGB", self.size, (236, 236, 236))
        d = ImageDraw.Draw(img)
        d.rectangle((0, 0, w, 28), fill=(30, 30, 30))
        d.text((12, 5), "Activities     Mon 10:42", fill="white", font=self.small)
        d.rectangle((0, 28, w, 64), fill=window.accent)
        d.text((16, 36), window.title, fill="white", font=self.font)
        d.rectangle((0, 64, 300, h), fill=(220, 224, 230))
        for i, name in enumerate(("Inbox", "Drafts", "Projects", "Archive", "Settings")):
            d.text((24, 90 + i * 36), name, fill=(20, 20, 20), font=self.font)
        top = 84
        rows = (h - top - 20) // self.line_h
        for i, text in enumerate(window.lines[window.top_line:window.top_line + rows]):
            d.text((330, top + i * self.line_h), text, fill=(10, 10, 10), font=self.font)
        return img


def typing_trace(renderer: DesktopRenderer, frames: int, seed: int = 1) -> list[Image.Image]:
    """A user typing a sentence into the last line of a document, one frame per ~3 s."""
    base = paragraph_lines(seed, 20)
    sentence = ("Dear team, the revised travel budget for the river survey is attached and "
                "the figures for chapter three follow tomorrow morning after review")
    step = max(1, len(sentence) // frames)
    out = []
    for i in range(1, frames + 1):
        typed = sentence[: i * step]
        out.append(renderer.render(Window("notes.txt — Text Editor", (*base, typed))))
    return out


def scrolling_trace(renderer: DesktopRenderer, frames: int, seed: int = 2,
                    lines_per_step: int = 3) -> list[Image.Image]:
    """Reading a long document, scrolling a few lines between frames."""
    doc = paragraph_lines(seed, 30 + frames * lines_per_step + 40)
    return [renderer.render(Window("Annual report — Reader", doc, top_line=i * lines_per_step,
                                   accent=(120, 60, 40)))
            for i in range(frames)]


def window_switch_trace(renderer: DesktopRenderer, frames: int,
                        seed: int = 3) -> list[Image.Image]:
    """Alt-tab between three windows (each new the first time, then revisited)."""
    windows = [Window(f"Document {k} — Editor", paragraph_lines(seed + k, 28),
                      accent=((40 + 60 * k) % 255, 90, 160)) for k in range(3)]
    return [renderer.render(windows[i % 3]) for i in range(frames)]


def unchanged_trace(renderer: DesktopRenderer, frames: int, seed: int = 4) -> list[Image.Image]:
    img = renderer.render(Window("Idle — Editor", paragraph_lines(seed, 25)))
    return [img.copy() for _ in range(frames)]
