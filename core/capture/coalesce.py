"""Hold a changing screen until it settles: one memory per burst of edits, not one per grab.

The service grabs every ``interval_s`` (3 s). Storing every changed grab means OCR, a
privacy check, an embedding and an encrypted write every 3 s while the user types or
scrolls, most of it for states a moment later superseded by the next keystroke. Instead the
latest changed frame of each monitor is *held* (in memory only) and stored when:

- the screen settles: the next grab of that monitor is unchanged;
- the active window changes (another app, window or title): every held frame shows the
  previous window's last state and is stored before the new one is held;
- it has been held for ``hold_s`` while the screen kept changing (so a long typing or
  scrolling session still leaves a memory at least every ``hold_s``; at the default 20 s
  and a few lines scrolled per grab, no text scrolls past between two memories);
- the service stops, the screen locks or the user goes idle (the held frame was seen).

Frames replaced in the hold are counted as ``coalesced`` (counts, never content). With
``hold_s`` <= 0 every changed grab is stored at once (the old schedule).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from core.types import ActiveWindow, ScreenFrame


@dataclass
class _Held:
    frame: ScreenFrame
    window: ActiveWindow | None
    since: float  # when the first change now held was grabbed


@dataclass
class Release:
    """Frames to store now, grouped by the window they were grabbed with."""

    groups: list[tuple[list[ScreenFrame], ActiveWindow | None]] = field(default_factory=list)
    coalesced: int = 0  # held frames replaced by a newer grab of the same monitor

    def add(self, held: Iterable[_Held]) -> None:
        for item in held:
            for frames, window in self.groups:
                if window is item.window:
                    frames.append(item.frame)
                    break
            else:
                self.groups.append(([item.frame], item.window))

    @property
    def frames(self) -> int:
        return sum(len(frames) for frames, _ in self.groups)


class Coalescer:
    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self._held: dict[int, _Held] = {}
        self._key: Hashable = None

    @property
    def holding(self) -> int:
        return len(self._held)

    def offer(self, now: float, changed: list[ScreenFrame], settled: Iterable[int],
              window: ActiveWindow | None, window_key: Hashable) -> Release:
        """One grab's outcome: ``changed`` frames (differ from the previous grab of their
        monitor) and the ``settled`` monitor indices (unchanged since the previous grab)."""
        out = Release()
        if window_key != self._key:
            out.add(self._take_all())
            self._key = window_key
        out.add(self._held.pop(index) for index in settled if index in self._held)
        for frame in changed:
            index = frame.monitor.index
            previous = self._held.pop(index, None)
            since = now if previous is None else previous.since
            out.coalesced += previous is not None
            item = _Held(frame=frame, window=window, since=since)
            if self.hold_s <= 0 or now - since >= self.hold_s:
                out.add([item])
            else:
                self._held[index] = item
        return out

    def release_all(self) -> Release:
        """Every held frame, to store now (lock, idle, shutdown)."""
        out = Release()
        out.add(self._take_all())
        return out

    def discard(self) -> int:
        """Drop every held frame (pause: the user asked for nothing more to be kept)."""
        return len(self._take_all())

    def _take_all(self) -> list[_Held]:
        held = list(self._held.values())
        self._held.clear()
        return held
