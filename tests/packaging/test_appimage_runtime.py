"""The AppImage type-2 runtime built from Debian packages (installer/linux/appimage-runtime).

Builds the runtime, packs a tiny AppDir with mksquashfs exactly as build_appimage.sh does and
runs the result. Needs the packaging job's build tools (packaging/ci-package.sh installs
them); without them there is nothing to build and the tests say so.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT

RUNTIME_DIR = ROOT / "installer" / "linux" / "appimage-runtime"


def _tools_missing() -> str | None:
    if not sys.platform.startswith("linux"):
        return "AppImages are Linux only"
    for tool in ("gcc", "pkg-config", "mksquashfs", "strip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (packaging/ci-package.sh installs the build tools)"
    for lib in ("squashfuse", "squashfuse_ll", "fuse3"):
        if subprocess.run(["pkg-config", "--exists", lib], check=False).returncode != 0:
            return f"{lib} development files are not installed (packaging/ci-package.sh)"
    return None


pytestmark = pytest.mark.skipif(_tools_missing() is not None, reason=str(_tools_missing()))


@pytest.fixture(scope="module")
def appimage(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("appimage")
    runtime = work / "runtime"
    subprocess.run(["bash", str(RUNTIME_DIR / "build_runtime.sh"), str(runtime)], check=True,
                   capture_output=True)
    appdir = work / "Tiny.AppDir"
    (appdir / "usr" / "bin").mkdir(parents=True)
    apprun = appdir / "AppRun"
    apprun.write_text('#!/bin/sh\nprintf "%s|" "$APPDIR" "$APPIMAGE" "$OWD" "$@"\n'
                      'cat "$APPDIR/usr/bin/data.txt"\n')
    apprun.chmod(0o755)
    (appdir / "usr" / "bin" / "data.txt").write_text("payload ok\n")
    tool = appdir / "usr" / "bin" / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o750)
    (appdir / "data-link").symlink_to("usr/bin/data.txt")
    payload = work / "payload.squashfs"
    subprocess.run(["mksquashfs", str(appdir), str(payload), "-root-owned", "-noappend",
                    "-no-progress", "-comp", "zstd", "-b", "1M"], check=True,
                   capture_output=True)
    image = work / "Tiny.AppImage"
    image.write_bytes(runtime.read_bytes() + payload.read_bytes())
    image.chmod(0o755)
    return runtime, image


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPIMAGE")}
    env["TMPDIR"] = str(tmp)
    return env


def test_runtime_carries_the_type2_magic_and_sections(appimage: tuple[Path, Path]) -> None:
    runtime, _ = appimage
    head = runtime.read_bytes()[:16]
    assert head[:4] == b"\x7fELF" and head[8:11] == b"AI\x02"
    sections = subprocess.run(["readelf", "-SW", str(runtime)], capture_output=True,
                              text=True, check=True).stdout
    for name in (".upd_info", ".sha256_sig", ".sig_key"):
        assert name in sections


def test_offset_is_where_the_squashfs_starts(appimage: tuple[Path, Path]) -> None:
    runtime, image = appimage
    out = subprocess.run([str(image), "--appimage-offset"], capture_output=True, text=True,
                         check=True).stdout
    assert int(out) == runtime.stat().st_size
    with image.open("rb") as fh:
        fh.seek(int(out))
        assert fh.read(4) == b"hsqs"  # SquashFS superblock magic


def test_extract_and_run_passes_arguments_and_cleans_up(appimage: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    _, image = appimage
    proc = subprocess.run([str(image), "--appimage-extract-and-run", "one", "two words"],
                          capture_output=True, text=True, env=_env(tmp_path), cwd=tmp_path,
                          check=True)
    appdir, appimage_var, owd, *args = proc.stdout.split("|")
    assert appdir.startswith(str(tmp_path / "appimage_extracted_"))
    assert appimage_var == str(image)
    assert owd == str(tmp_path)
    assert args == ["one", "two words", "payload ok\n"]
    assert not list(tmp_path.glob("appimage_extracted_*"))  # removed after the run


def test_extract_keeps_modes_and_symlinks(appimage: tuple[Path, Path], tmp_path: Path) -> None:
    _, image = appimage
    subprocess.run([str(image), "--appimage-extract"], capture_output=True, env=_env(tmp_path),
                   cwd=tmp_path, check=True)
    root = tmp_path / "squashfs-root"
    assert (root / "usr" / "bin" / "data.txt").read_text() == "payload ok\n"
    assert stat.S_IMODE((root / "usr" / "bin" / "tool").stat().st_mode) == 0o750
    assert os.readlink(root / "data-link") == "usr/bin/data.txt"
    assert os.access(root / "AppRun", os.X_OK)


def test_unknown_runtime_option_is_an_error(appimage: tuple[Path, Path],
                                            tmp_path: Path) -> None:
    _, image = appimage
    proc = subprocess.run([str(image), "--appimage-frobnicate"], capture_output=True,
                          text=True, env=_env(tmp_path), check=False)
    assert proc.returncode == 1 and "unknown option" in proc.stderr


def test_plain_run_mounts_or_falls_back_and_runs_the_app(appimage: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    # With usable FUSE the image is mounted (APPDIR is the mount point); without it the
    # runtime says so and extracts instead. Either way the app runs with its arguments.
    _, image = appimage
    proc = subprocess.run([str(image), "x"], capture_output=True, text=True,
                          env=_env(tmp_path), check=True, timeout=60)
    appdir, _, _, *args = proc.stdout.split("|")
    assert args == ["x", "payload ok\n"]
    if "cannot mount" in proc.stderr:
        assert appdir.startswith(str(tmp_path / "appimage_extracted_"))
    else:
        assert appdir.startswith(str(tmp_path / ".mount_"))
    # The FUSE child unmounts and removes its mount point once the app has exited.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _leftovers(tmp_path):
        time.sleep(0.1)
    assert _leftovers(tmp_path) == []


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith((".mount_", "appimage_"))]
