"""The generated installer files parse and carry the version, ids and paths of pyproject.toml."""

from __future__ import annotations

import configparser
import email.parser
import gzip
import plistlib
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from app import __version__ as app_version

from .conftest import ROOT


def _pyproject_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def _desktop(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def test_one_version_everywhere(meta) -> None:
    assert meta.version == _pyproject_version() == app_version
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta.version)


def test_desktop_entry(metadata, meta, tmp_path: Path) -> None:
    text = metadata.desktop_entry(meta)
    entry = _desktop(text)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Afterimage"
    assert entry["Exec"] == "afterimage"
    assert entry["Icon"] == "afterimage"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and "Utility" in entry["Categories"]
    assert entry["StartupWMClass"] == "afterimage"
    assert entry["X-Afterimage-Version"] == meta.version
    _validate_desktop(tmp_path / "afterimage.desktop", text)


def test_autostart_entry_runs_the_service(metadata, meta, tmp_path: Path) -> None:
    text = metadata.autostart_entry(meta)
    entry = _desktop(text)
    assert entry["Exec"] == "afterimage service"
    # Skipped by the desktop once the program is uninstalled (the entry is per user).
    assert entry["TryExec"] == "afterimage"
    assert entry["NoDisplay"] == "true"
    assert entry["X-GNOME-Autostart-enabled"] == "true"
    _validate_desktop(tmp_path / "afterimage-service.desktop", text)


def _validate_desktop(path: Path, text: str) -> None:
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        return  # parsed above; the Debian tool adds the spec's finer rules where present
    path.write_text(text)
    proc = subprocess.run([validator, str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_deb_control(metadata, meta) -> None:
    text = metadata.deb_control(meta, arch="amd64", installed_size_kib=123456,
                                depends=["libc6 (>= 2.34)", "libgl1"])
    fields = email.parser.Parser().parsestr(text)
    assert fields["Package"] == "afterimage"
    assert fields["Version"] == f"{meta.version}-1"
    assert fields["Architecture"] == "amd64"
    assert fields["Installed-Size"] == "123456"
    assert fields["Depends"] == "libc6 (>= 2.34), libgl1"
    assert "<" in fields["Maintainer"] and ">" in fields["Maintainer"]
    synopsis, *body = text.split("Description: ", 1)[1].splitlines()
    assert synopsis and len(synopsis) < 80 and not synopsis.endswith(".")
    assert body and all(line.startswith(" ") and len(line) <= 80 for line in body)


def test_split_chat_model_package(metadata, meta) -> None:
    """DEB_SPLIT_MODEL=1: the app Recommends its chat model package, which Depends on it."""
    version = f"{meta.version}-1"
    core = email.parser.Parser().parsestr(metadata.deb_control(
        meta, arch="amd64", installed_size_kib=1, depends=["libc6"],
        recommends=[f"afterimage-chat-model (= {version})"]))
    assert core["Recommends"] == f"afterimage-chat-model (= {version})"
    assert "Recommends" not in metadata.deb_control(meta, arch="amd64", installed_size_kib=1,
                                                    depends=["libc6"])
    text = metadata.deb_control_chat_model(meta, installed_size_kib=247000)
    model = email.parser.Parser().parsestr(text)
    assert model["Package"] == "afterimage-chat-model"
    assert model["Architecture"] == "all" and model["Installed-Size"] == "247000"
    assert model["Depends"] == f"afterimage (= {version})"
    synopsis, *body = text.split("Description: ", 1)[1].splitlines()
    assert synopsis and len(synopsis) < 80 and not synopsis.endswith(".")
    assert body and all(line.startswith(" ") and len(line) <= 80 for line in body)


def test_deb_changelog_and_copyright(metadata, meta, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    changelog = metadata.deb_changelog(meta)
    assert changelog.startswith(f"afterimage ({meta.version}-1) unstable; urgency=medium\n")
    assert re.search(r"\n -- .+ <.+>  \w{3}, \d{2} \w{3} 2023 ", changelog)
    copyright_text = metadata.deb_copyright(meta)
    assert copyright_text.startswith("Format: https://www.debian.org/doc/packaging-manuals/")
    assert "License: " in copyright_text


def test_manpage_lists_every_cli_command(metadata, meta) -> None:
    from app.cli import build_parser

    page = metadata.manpage(meta)
    assert page.startswith(".TH AFTERIMAGE 1 ")
    assert f'"afterimage {meta.version}"' in page
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in sub.choices:
        assert f"\n.B {name}\n" in page, name


def test_info_plist(metadata, meta) -> None:
    data = plistlib.loads(plistlib.dumps(metadata.info_plist(meta)))
    assert data["CFBundleIdentifier"] == meta.app_id == "io.afterimage.Afterimage"
    assert data["CFBundleShortVersionString"] == data["CFBundleVersion"] == meta.version
    assert data["CFBundleExecutable"] == "afterimage"
    assert data["CFBundleIconFile"] == "afterimage.icns"
    assert (ROOT / "assets" / "icons" / "afterimage.icns").is_file()
    assert data["CFBundlePackageType"] == "APPL"
    reason = data["NSScreenCaptureUsageDescription"]
    assert "Screen Recording" in reason and "nothing is uploaded" in reason


def test_launch_agent(metadata, meta) -> None:
    agent = plistlib.loads(plistlib.dumps(metadata.launch_agent(meta, "/Applications/X.app")))
    assert agent["Label"] == f"{meta.app_id}.service"
    assert agent["ProgramArguments"] == ["/Applications/X.app/Contents/MacOS/afterimage",
                                         "service"]
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["LimitLoadToSessionType"] == "Aqua"


def _iss_defines(text: str) -> dict[str, str]:
    return dict(re.findall(r'^#define (\w+) "([^"]*)"$', text, flags=re.MULTILINE))


def test_inno_setup_script(metadata, meta) -> None:
    defines = _iss_defines(metadata.iss_defines(meta))
    assert defines["AppVersion"] == meta.version
    assert re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", defines["AppId"])
    assert defines["AppExeName"] == "afterimage.exe"
    assert defines["AppGuiExeName"] == "afterimage-gui.exe"
    script = (ROOT / "installer" / "windows" / "afterimage.iss").read_text()
    assert '#include "metadata.iss"' in script
    own = set(re.findall(r"#define (\w+)", script))
    used = set(re.findall(r"\{#(\w+)\}", script))
    assert used <= set(defines) | own, used - set(defines) - own
    sections = re.findall(r"^\[(\w+)\]$", script, flags=re.MULTILINE)
    for section in ("Setup", "Tasks", "Files", "Icons", "Registry", "Run", "UninstallRun",
                    "Code"):
        assert section in sections, section
    setup = _section(script, "Setup")
    assert "PrivilegesRequired=lowest" in setup  # per-user install
    assert "AppId={{#AppId}" in setup
    icon = re.search(r"^SetupIconFile=(.+)$", setup, flags=re.MULTILINE)
    assert icon and (ROOT / "installer" / "windows" / icon.group(1).replace("\\", "/")).is_file()
    # Autostart is optional, per user, and runs the service subcommand.
    assert re.search(r'^Name: "autostart";.*Flags: unchecked', script, flags=re.MULTILINE)
    registry = _section(script, "Registry")
    assert "HKCU" in registry and "CurrentVersion\\Run" in registry
    assert 'service"; Flags: uninsdeletevalue; Tasks: autostart' in registry
    # Uninstall keeps the vault unless the user says otherwise twice; silent keeps it.
    code = _section(script, "Code")
    assert "UninstallSilent()" in code
    assert "MB_YESNO or MB_DEFBUTTON1) = IDYES then\n    exit;" in code
    assert code.index("Keep your Afterimage vault?") < code.index("DelTree(")
    assert defines["VaultDirRelative"] == "afterimage\\afterimage"


def _section(script: str, name: str) -> str:
    match = re.search(rf"^\[{name}\]$(.*?)(?=^\[\w+\]$|\Z)", script, flags=re.MULTILINE | re.S)
    assert match, name
    return match.group(1)


def test_cli_renders_files(metadata, tmp_path: Path) -> None:
    out = tmp_path / "x" / "Info.plist"
    assert metadata.main(["render", "info-plist", "--out", str(out)]) == 0
    assert plistlib.loads(out.read_bytes())["CFBundleName"] == "Afterimage"
    man = tmp_path / "afterimage.1.gz"
    assert metadata.main(["render", "manpage", "--out", str(man)]) == 0
    assert gzip.decompress(man.read_bytes()).startswith(b".TH AFTERIMAGE 1")
    with pytest.raises(SystemExit):
        metadata.main(["render", "no-such-kind"])
