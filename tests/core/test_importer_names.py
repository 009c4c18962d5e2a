import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from core.errors import ImportFailed
from core.importer import (
    collect_images,
    load_image,
    moment_from_file,
    read_sidecar,
    timestamp_from_name,
)


def local(*args):
    return datetime(*args).astimezone().astimezone(UTC)


@pytest.mark.parametrize("name, expected", [
    ("2024-01-13_21-40-01-827822.jpg", local(2024, 1, 13, 21, 40, 1, 827822)),  # ScreenAgent
    ("Screenshot 2024-01-13 214001.png", local(2024, 1, 13, 21, 40, 1)),  # Windows
    ("Screenshot from 2024-01-13 21-40-01.png", local(2024, 1, 13, 21, 40, 1)),  # GNOME
    ("Screen Shot 2024-01-13 at 9.40.01 PM.png", local(2024, 1, 13, 21, 40, 1)),  # macOS
    ("20240113_214001.png", local(2024, 1, 13, 21, 40, 1)),
    ("20240113214001.png", local(2024, 1, 13, 21, 40, 1)),
    ("screenshot_1705182001.png", datetime.fromtimestamp(1705182001, UTC)),  # OpenRecall
    ("1705182001123.png", datetime.fromtimestamp(1705182001.123, UTC)),
    ("notes 2024-01-13.png", local(2024, 1, 13)),
])
def test_timestamp_from_name(name, expected):
    assert timestamp_from_name(name) == expected


@pytest.mark.parametrize("name", ["holiday.png", "IMG_0001.png", "2024-13-45_99-99-99.png"])
def test_no_timestamp_in_name(name):
    assert timestamp_from_name(name) is None


def _png(path: Path, color=(255, 255, 255), size=(64, 48), exif_time: str | None = None):
    img = Image.new("RGB", size, color)
    if exif_time:
        exif = Image.Exif()
        exif[306] = exif_time
        img.save(path, format="JPEG", exif=exif)
    else:
        img.save(path)


def test_exif_then_mtime(tmp_path: Path):
    jpg = tmp_path / "photo.jpg"
    _png(jpg, exif_time="2023:05:06 07:08:09")
    item = moment_from_file(jpg)
    assert item.time_source == "exif"
    assert item.moment.timestamp == local(2023, 5, 6, 7, 8, 9)
    png = tmp_path / "plain.png"
    _png(png)
    item = moment_from_file(png)
    assert item.time_source == "mtime"
    assert item.moment.source == "plain.png"
    assert item.moment.origin == "import"


def test_sidecar(tmp_path: Path):
    png = tmp_path / "shot.png"
    _png(png)
    (tmp_path / "shot.json").write_text(json.dumps({"app": "firefox", "title": "Docs", "x": 1}))
    assert read_sidecar(png) == {"app": "firefox", "title": "Docs"}
    item = moment_from_file(png)
    assert (item.moment.app, item.moment.title) == ("firefox", "Docs")
    (tmp_path / "shot.json").write_text("{not json")
    assert read_sidecar(png) == {}


def test_collect_images_recurses_and_reports_missing(tmp_path: Path):
    (tmp_path / "a").mkdir()
    _png(tmp_path / "a" / "1.png")
    _png(tmp_path / "2.PNG")
    (tmp_path / "notes.txt").write_text("x")
    found, missing = collect_images([tmp_path, tmp_path / "a" / "1.png", tmp_path / "nope"])
    assert sorted(p.name for p in found) == ["1.png", "2.PNG"]
    assert missing == [tmp_path / "nope"]


def test_bad_images_give_clear_errors(tmp_path: Path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(ImportFailed, match="broken.png"):
        load_image(bad)
    gif = tmp_path / "anim.png"
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="GIF")
    gif.write_bytes(buf.getvalue())
    with pytest.raises(ImportFailed, match="not a PNG or JPEG"):
        load_image(gif)
    txt = tmp_path / "x.bmp"
    txt.write_bytes(b"BM")
    with pytest.raises(ImportFailed):
        load_image(txt)
