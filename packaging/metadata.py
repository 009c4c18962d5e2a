"""The installers' metadata, from one place: name, ids, version (read from pyproject.toml).

Every per-OS file that carries a version, an id or an install path is rendered from here:

    python packaging/metadata.py show                       # the metadata as JSON
    python packaging/metadata.py render KIND [--out PATH]   # one generated file

KINDs: desktop, autostart (XDG .desktop entries), deb-control, deb-copyright, deb-changelog,
manpage (Linux); info-plist, launch-agent (macOS); iss-defines (Inno Setup, Windows).

This file is not a package on purpose: a ``packaging/__init__.py`` would shadow the PyPI
``packaging`` library for anything run from the repository root. The PyInstaller spec, the
build scripts and the tests load it by path (``load_module()`` in the tests).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import plistlib
import sys
import time
import tomllib
from dataclasses import asdict, dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Stable identifiers: changing one makes installers treat the app as a different product.
APP_ID = "io.afterimage.Afterimage"
WINDOWS_APP_GUID = "{6F1D7C52-3B9A-4E0F-9C47-A81E2D5B03C9}"
SERVICE_LABEL = APP_ID + ".service"


@dataclass(frozen=True)
class AppMetadata:
    name: str  # package, executable and icon name
    display_name: str
    version: str
    summary: str
    description: str
    app_id: str
    service_label: str
    windows_app_guid: str
    maintainer: str
    license: str
    linux_prefix: str  # where the .deb puts the bundle
    categories: tuple[str, ...]
    keywords: tuple[str, ...]
    macos_min_version: str

    @property
    def linux_exec(self) -> str:
        return f"/usr/bin/{self.name}"


def load(root: Path = ROOT) -> AppMetadata:
    with (root / "pyproject.toml").open("rb") as fh:
        project = tomllib.load(fh)["project"]
    license_field = project.get("license", "Proprietary")
    # PEP 639 SPDX string ("LicenseRef-Proprietary") or the older {text = ...} table.
    license_text = (license_field.get("text", "Proprietary") if isinstance(license_field, dict)
                    else str(license_field).removeprefix("LicenseRef-"))
    return AppMetadata(
        name=project["name"],
        display_name="Afterimage",
        version=project["version"],
        summary=project["description"],
        description=(
            "Afterimage keeps a private, searchable memory of what you saw on screen. "
            "It captures the screen, reads the text on it and stores everything encrypted in "
            "a vault in your home folder; search it or ask about it in plain language. "
            "Nothing leaves the machine."
        ),
        app_id=APP_ID,
        service_label=SERVICE_LABEL,
        windows_app_guid=WINDOWS_APP_GUID,
        maintainer="Afterimage maintainers <maintainers@afterimage.invalid>",
        license=license_text,
        linux_prefix="/opt/afterimage",
        categories=("Utility",),
        keywords=("memory", "screen", "search", "recall", "history", "ocr"),
        macos_min_version="11.0",
    )


# ---------------------------------------------------------------- Linux

def desktop_entry(meta: AppMetadata, exec_cmd: str | None = None) -> str:
    """The launcher shown in application menus (/usr/share/applications)."""
    return _desktop({
        "Type": "Application",
        "Version": "1.4",
        "Name": meta.display_name,
        "GenericName": "Screen Memory",
        "Comment": meta.summary,
        "Exec": exec_cmd or meta.name,
        "TryExec": exec_cmd or meta.name,
        "Icon": meta.name,
        "Terminal": "false",
        "Categories": ";".join(meta.categories) + ";",
        "Keywords": ";".join(meta.keywords) + ";",
        "StartupNotify": "true",
        "StartupWMClass": meta.name,
        "X-Afterimage-Version": meta.version,
    })


def autostart_entry(meta: AppMetadata, exec_cmd: str | None = None) -> str:
    """The capture service's XDG autostart entry.

    Not installed system-wide: the package ships it in /usr/share/<name>/autostart/ and the app
    copies it to ~/.config/autostart/ when the user turns on "capture when I log in".
    """
    return _desktop({
        "Type": "Application",
        "Version": "1.4",
        "Name": f"{meta.display_name} capture service",
        "Comment": "Remembers what you see on screen (stops when the vault is locked)",
        "Exec": f"{exec_cmd or meta.name} service",
        "TryExec": exec_cmd or meta.name,
        "Icon": meta.name,
        "Terminal": "false",
        "NoDisplay": "true",
        "X-GNOME-Autostart-enabled": "true",
        "X-GNOME-Autostart-Delay": "10",
        "X-KDE-autostart-after": "panel",
        "X-Afterimage-Version": meta.version,
    })


def _desktop(fields: dict[str, str]) -> str:
    lines = ["[Desktop Entry]"] + [f"{key}={value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def deb_version(meta: AppMetadata) -> str:
    return f"{meta.version}-1"


CHAT_MODEL_PACKAGE_SUFFIX = "-chat-model"


def deb_control(meta: AppMetadata, *, arch: str, installed_size_kib: int,
                depends: list[str], recommends: list[str] | None = None) -> str:
    summary = meta.summary.rstrip(".")
    summary = summary[0].lower() + summary[1:]
    body = "\n".join(" " + line for line in _wrap(meta.description, 72))
    fields = [
        ("Package", meta.name),
        ("Version", deb_version(meta)),
        ("Architecture", arch),
        ("Maintainer", meta.maintainer),
        ("Installed-Size", str(installed_size_kib)),
        ("Depends", ", ".join(depends)),
        ("Recommends", ", ".join(recommends or [])),
        ("Section", "utils"),
        ("Priority", "optional"),
        ("Description", f"{summary}\n{body}"),
    ]
    return "".join(f"{key}: {value}\n" for key, value in fields if value)


def deb_control_chat_model(meta: AppMetadata, *, installed_size_kib: int) -> str:
    """The built-in chat model (Gemma 3 270M) as its own package, which the app Recommends
    (``installer/linux/build_deb.sh`` builds both by default): installs the model file into the
    app's bundle folder, where the app looks for it; without it `ask` says how to get one."""
    fields = [
        ("Package", meta.name + CHAT_MODEL_PACKAGE_SUFFIX),
        ("Version", deb_version(meta)),
        ("Architecture", "all"),
        ("Maintainer", meta.maintainer),
        ("Installed-Size", str(installed_size_kib)),
        ("Depends", f"{meta.name} (= {deb_version(meta)})"),
        ("Enhances", meta.name),
        ("Section", "utils"),
        ("Priority", "optional"),
        ("Description", f"built-in chat model for {meta.display_name}\n"
         " Gemma 3 270M (GGUF, Q4_K_M), the local model that answers `afterimage ask`\n"
         " and the chat panel without any download. Gemma is provided under and\n"
         " subject to the Gemma Terms of Use, shipped next to the model."),
    ]
    return "".join(f"{key}: {value}\n" for key, value in fields if value)


def deb_copyright(meta: AppMetadata) -> str:
    return (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        f"Upstream-Name: {meta.name}\n"
        f"Upstream-Contact: {meta.maintainer}\n"
        "\n"
        "Files: *\n"
        f"Copyright: {time.gmtime(_build_epoch()).tm_year} Afterimage maintainers\n"
        f"License: {meta.license}\n"
        " All rights reserved. The bundle under /opt/afterimage also contains third-party\n"
        " software (Python, Qt via PySide6, ONNX Runtime, llama.cpp, RapidOCR, the\n"
        " all-MiniLM-L6-v2 and PP-OCR models, Gemma 3 270M) under their own licenses;\n"
        " their notices are shipped inside the bundle next to each component.\n"
    )


def deb_changelog(meta: AppMetadata) -> str:
    date = formatdate(_build_epoch(), usegmt=False)
    return (
        f"{meta.name} ({deb_version(meta)}) unstable; urgency=medium\n"
        "\n"
        f"  * Release {meta.version}.\n"
        "\n"
        f" -- {meta.maintainer}  {date}\n"
    )


def manpage(meta: AppMetadata, commands: list[tuple[str, str]] | None = None) -> str:
    """afterimage(1); ``commands`` defaults to the subcommands of the CLI being packaged."""
    if commands is None:
        commands = cli_commands()
    day = time.strftime("%Y-%m-%d", time.gmtime(_build_epoch()))
    out = [
        f'.TH {meta.name.upper()} 1 "{day}" "{meta.name} {meta.version}" "User Commands"',
        ".SH NAME",
        f"{meta.name} \\- {_roff(meta.summary.rstrip('.').lower())}",
        ".SH SYNOPSIS",
        f".B {meta.name}",
        "[\\fB\\-\\-version\\fR] [\\fB\\-v\\fR] [\\fICOMMAND\\fR [\\fIARGS\\fR...]]",
        ".SH DESCRIPTION",
        _roff(meta.description),
        ".PP",
        f"Run without a command, \\fB{meta.name}\\fR opens the desktop app. "
        f"\\fB{meta.name} service\\fR runs the capture service. "
        f"Every command has \\fB\\-\\-help\\fR.",
        ".SH COMMANDS",
    ]
    for name, help_text in commands:
        out += [".TP", f".B {name}", _roff(help_text)]
    out += [
        ".SH FILES",
        ".TP",
        ".I ~/.local/share/afterimage/",
        "The vault (encrypted) and logs. Uninstalling the package never removes it.",
        ".TP",
        ".I ~/.config/afterimage/config.toml",
        "Settings.",
        ".SH ENVIRONMENT",
        ".TP",
        ".B AFTERIMAGE_HOME",
        "Keep the vault, settings and logs in this folder instead.",
        ".SH SEE ALSO",
        "The user guide in /usr/share/doc/afterimage/ and \\fB" + meta.name
        + " \\-\\-help\\fR.",
    ]
    return "\n".join(out) + "\n"


def cli_commands() -> list[tuple[str, str]]:
    """(name, help) of every subcommand of ``app.cli`` (whatever exists at build time)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app.cli import build_parser

    parser = build_parser()
    subparsers = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    commands: list[tuple[str, str]] = []
    for action in subparsers:
        for choice in action._choices_actions:
            commands.append((choice.dest, choice.help or ""))
    return commands


def _roff(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line.startswith((".", "'")) else line
                     for line in text.splitlines())


def _wrap(text: str, width: int) -> list[str]:
    words, lines, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines


def _build_epoch() -> int:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    return int(value) if value and value.isdigit() else int(time.time())


# ---------------------------------------------------------------- macOS

SCREEN_CAPTURE_REASON = (
    "Afterimage reads what is on your screen so you can search it later. Everything stays "
    "on this Mac, encrypted in your vault; nothing is uploaded. Allow Afterimage under "
    "System Settings > Privacy & Security > Screen Recording."
)


def info_plist(meta: AppMetadata) -> dict[str, Any]:
    """Contents/Info.plist of Afterimage.app."""
    return {
        "CFBundleDevelopmentRegion": "en",
        "CFBundleDisplayName": meta.display_name,
        "CFBundleExecutable": meta.name,
        "CFBundleIconFile": f"{meta.name}.icns",
        "CFBundleIdentifier": meta.app_id,
        "CFBundleInfoDictionaryVersion": "6.0",
        "CFBundleName": meta.display_name,
        "CFBundlePackageType": "APPL",
        "CFBundleShortVersionString": meta.version,
        "CFBundleVersion": meta.version,
        "LSApplicationCategoryType": "public.app-category.productivity",
        "LSMinimumSystemVersion": meta.macos_min_version,
        "NSHighResolutionCapable": True,
        "NSPrincipalClass": "NSApplication",
        "NSSupportsAutomaticGraphicsSwitching": True,
        # Shown by macOS in the screen-recording prompt; the first-run wizard explains the same.
        "NSScreenCaptureUsageDescription": SCREEN_CAPTURE_REASON,
        # Window titles of other apps (CGWindowListCopyWindowInfo) need the same permission.
        "NSAppleEventsUsageDescription": (
            "Afterimage notes which app and window you were looking at, to make your "
            "memories searchable by app."),
        "NSHumanReadableCopyright": f"Afterimage {meta.version}",
    }


def launch_agent(meta: AppMetadata,
                 app_path: str = "/Applications/Afterimage.app") -> dict[str, Any]:
    """~/Library/LaunchAgents/<label>.plist: the capture service at login (per user)."""
    return {
        "Label": meta.service_label,
        "ProgramArguments": [f"{app_path}/Contents/MacOS/{meta.name}", "service"],
        "RunAtLoad": True,
        # Restart after a crash, not after a clean exit (the user stopped it or locked).
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 30,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }


# ---------------------------------------------------------------- Windows

def iss_defines(meta: AppMetadata) -> str:
    """metadata.iss, included by installer/windows/afterimage.iss."""
    values = {
        "AppName": meta.display_name,
        "AppExeName": f"{meta.name}.exe",
        "AppGuiExeName": f"{meta.name}-gui.exe",
        "AppVersion": meta.version,
        "AppId": meta.windows_app_guid,
        "AppPublisher": "Afterimage maintainers",
        "AppDescription": meta.summary,
        # platformdirs user_data_dir("afterimage") on Windows (appauthor defaults to appname).
        "VaultDirRelative": f"{meta.name}\\{meta.name}",
        "RunValueName": f"{meta.display_name} capture service",
    }
    lines = ["; GENERATED by packaging/metadata.py render iss-defines -- do not edit."]
    for key, value in values.items():
        lines.append(f'#define {key} "{value}"')
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- command line

RENDERERS = ("desktop", "autostart", "deb-control", "deb-control-chat-model", "deb-copyright",
             "deb-changelog", "manpage", "info-plist", "launch-agent", "iss-defines")


def render(kind: str, meta: AppMetadata, args: argparse.Namespace) -> bytes:
    if kind == "desktop":
        return desktop_entry(meta).encode()
    if kind == "autostart":
        return autostart_entry(meta).encode()
    if kind == "deb-control":
        depends = [d.strip() for d in (args.depends or "").split(",") if d.strip()]
        recommends = [d.strip() for d in (args.recommends or "").split(",") if d.strip()]
        return deb_control(meta, arch=args.arch, installed_size_kib=args.installed_size,
                           depends=depends, recommends=recommends).encode()
    if kind == "deb-control-chat-model":
        return deb_control_chat_model(meta, installed_size_kib=args.installed_size).encode()
    if kind == "deb-copyright":
        return deb_copyright(meta).encode()
    if kind == "deb-changelog":
        return gzip.compress(deb_changelog(meta).encode(), compresslevel=9, mtime=0)
    if kind == "manpage":
        return gzip.compress(manpage(meta).encode(), compresslevel=9, mtime=0)
    if kind == "info-plist":
        return plistlib.dumps(info_plist(meta))
    if kind == "launch-agent":
        return plistlib.dumps(launch_agent(meta, args.app_path))
    if kind == "iss-defines":
        return iss_defines(meta).encode()
    raise SystemExit(f"unknown kind {kind!r}; one of: {', '.join(RENDERERS)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render installer metadata from pyproject.")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("show", help="print the metadata as JSON")
    r = sub.add_parser("render", help="write one generated file")
    r.add_argument("kind", choices=RENDERERS)
    r.add_argument("--out", type=Path, help="file to write (default: stdout)")
    r.add_argument("--arch", default="amd64", help="deb-control: Debian architecture")
    r.add_argument("--installed-size", type=int, default=0, help="deb-control: KiB")
    r.add_argument("--depends", default="", help="deb-control: comma-separated")
    r.add_argument("--recommends", default="", help="deb-control: comma-separated")
    r.add_argument("--app-path", default="/Applications/Afterimage.app",
                   help="launch-agent: where Afterimage.app is installed")
    args = parser.parse_args(argv)
    meta = load()
    if args.action == "show":
        print(json.dumps(asdict(meta), indent=2))
        return 0
    data = render(args.kind, meta, args)
    if args.out is None:
        sys.stdout.buffer.write(data)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
