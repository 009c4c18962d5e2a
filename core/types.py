"""Plain data types shared across core (no I/O, no heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from PIL import Image


@dataclass(frozen=True)
class MonitorGeometry:
    """One monitor in virtual-screen coordinates (physical pixels)."""

    index: int  # 1-based, as mss numbers monitors
    left: int
    top: int
    width: int
    height: int
    scale: float = 1.0  # device pixel ratio where the platform reports it


@dataclass(frozen=True)
class ScreenFrame:
    monitor: MonitorGeometry
    image: Image.Image  # RGB
    captured_at: datetime  # timezone-aware (UTC)
    # The visible part of each window (and the desktop) in image pixels, top window first,
    # where the platform gives the window stack (core/capture/layout.py); () = unknown.
    pieces: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True)
class ActiveWindow:
    app: str  # human-readable application name (process name or WM_CLASS class)
    title: str
    pid: int | None = None
    wm_class: str = ""
    url: str | None = None
    # Window rectangle in virtual-screen coordinates, when known.
    left: int | None = None
    top: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: float
    # Axis-aligned bounding box in image pixels: (x0, y0, x1, y1).
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class OcrResult:
    lines: tuple[OcrLine, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class ScreenSource(Protocol):
    """Grabs every monitor."""

    def grab_all(self) -> list[ScreenFrame]: ...

    def close(self) -> None: ...


class WindowInfoSource(Protocol):
    """Tells which window is active."""

    def active_window(self) -> ActiveWindow | None: ...


class Ocr(Protocol):
    def recognize(self, image: Image.Image) -> OcrResult: ...


@runtime_checkable
class RegionReader(Protocol):
    """An OCR engine that can read part of an image with the rest as context."""

    def recognize_within(self, image: Image.Image,
                         keep: tuple[int, int, int, int]) -> OcrResult:
        """The lines whose centre lies inside ``keep`` (image pixels). The rest of the image
        only gives the detector context: lines there are found but never recognised."""
        ...


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """L2-normalised float32 vectors, one row per text."""
        ...
