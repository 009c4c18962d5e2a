"""Import existing screenshots (from other screen recorders or a screenshots folder).

Timestamp: from the file name when it holds one (many recorder and OS naming
schemes), else EXIF DateTimeOriginal/DateTime, else the file's mtime. A sidecar
JSON (``name.json`` or ``name.png.json``) may give ``app``, ``title`` and ``url``.
The source file name is kept (encrypted) and shown as ``source`` in results.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from core.encode import Moment
from core.errors import ImportFailed

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
# Refuse absurd images (decompression bombs) before decoding: 16k x 16k.
MAX_PIXELS = 16384 * 16384

_DATE_TIME = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})[-_. ]?(?P<mo>0[1-9]|1[0-2])[-_. ]?(?P<d>0[1-9]|[12]\d|3[01])"
    r"(?:[T_\- ]|\s+at\s+)?"
    r"(?P<h>[01]\d|2[0-3]|\d)[-_.:h ]?(?P<mi>[0-5]\d)[-_.:m ]?(?P<s>[0-5]\d)"
    r"(?:[-_.,](?P<frac>\d{1,6}))?(?:\s*(?P<ampm>[AaPp][Mm]))?(?!\d)"
)
_DATE_ONLY = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})[-_.](?P<mo>0[1-9]|1[0-2])[-_.](?P<d>0[1-9]|[12]\d|3[01])(?!\d)")
_EPOCH = re.compile(r"(?<!\d)(?P<sec>1[0-9]{9})(?P<ms>\d{3})?(?!\d)")


def timestamp_from_name(name: str) -> datetime | None:
    """A timestamp embedded in a file name (local time unless it says otherwise)."""
    stem = Path(name).stem
    match = _DATE_TIME.search(stem)
    if match:
        hour = int(match.group("h"))
        ampm = match.group("ampm")
        if ampm:
            if hour > 12:
                return None
            hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
        frac = match.group("frac") or "0"
        micro = int(frac.ljust(6, "0")[:6])
        try:
            naive = datetime(int(match.group("y")), int(match.group("mo")), int(match.group("d")),
                             hour, int(match.group("mi")), int(match.group("s")), micro)
        except ValueError:
            return None
        return naive.astimezone().astimezone(UTC)
    match = _EPOCH.search(stem)
    if match:
        seconds = int(match.group("sec")) + (int(match.group("ms")) / 1000
                                             if match.group("ms") else 0)
        return datetime.fromtimestamp(seconds, UTC)
    match = _DATE_ONLY.search(stem)
    if match:
        try:
            naive = datetime(int(match.group("y")), int(match.group("mo")), int(match.group("d")))
        except ValueError:
            return None
        return naive.astimezone().astimezone(UTC)
    return None


def timestamp_from_exif(image: Image.Image) -> datetime | None:
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - malformed EXIF is common and harmless
        return None
    values: list[Any] = []
    try:
        values.append(exif.get_ifd(0x8769).get(36867))  # DateTimeOriginal
    except Exception:  # noqa: BLE001
        pass
    values.append(exif.get(306))  # DateTime
    for value in values:
        if isinstance(value, str):
            try:
                naive = datetime.strptime(value.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            except ValueError:
                continue
            return naive.astimezone().astimezone(UTC)
    return None


def read_sidecar(path: Path) -> dict[str, str]:
    for candidate in (path.with_suffix(".json"), path.with_name(path.name + ".json")):
        if not candidate.is_file():
            continue
        try:
            data = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: str(data[k]) for k in ("app", "title", "url")
                if isinstance(data.get(k), str | int | float) and str(data[k]).strip()}
    return {}


def collect_images(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Image files under ``paths`` (sorted), and paths that do not exist."""
    found: list[Path] = []
    missing: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            missing.append(path)
    seen: set[Path] = set()
    unique = []
    for p in found:
        resolved = p.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(p)
    return unique, missing


def load_image(path: Path) -> Image.Image:
    """Open and fully decode an image, with clear errors for bad input."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ImportFailed(f"{path.name}: not a PNG or JPEG file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.format not in {"PNG", "JPEG", "MPO"}:
                    raise ImportFailed(f"{path.name}: not a PNG or JPEG image")
                if img.width * img.height > MAX_PIXELS:
                    raise ImportFailed(f"{path.name}: image too large "
                                       f"({img.width}x{img.height})")
                img.load()
                exif_time = timestamp_from_exif(img)
                out = img.convert("RGB")
                out.info["afterimage_exif_time"] = exif_time
                return out
    except ImportFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImportFailed(f"{path.name}: unreadable or corrupt image") from exc


@dataclass
class ImportPlanItem:
    path: Path
    moment: Moment
    time_source: str  # "name" | "exif" | "mtime"


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)  # memory ids
    skipped_duplicates: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    missing: list[str] = field(default_factory=list)
    time_sources: dict[str, int] = field(default_factory=dict)


def moment_from_file(path: Path) -> ImportPlanItem:
    image = load_image(path)
    when = timestamp_from_name(path.name)
    source = "name"
    if when is None:
        exif_time = image.info.get("afterimage_exif_time")
        if isinstance(exif_time, datetime):
            when, source = exif_time, "exif"
    if when is None:
        when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        source = "mtime"
    side = read_sidecar(path)
    moment = Moment(image=image, timestamp=when, app=side.get("app", ""),
                    title=side.get("title", ""), url=side.get("url"), origin="import",
                    source=path.name)
    return ImportPlanItem(path=path, moment=moment, time_source=source)
