"""Drop parts of the Qt runtime Afterimage never loads, and the libraries only they needed.

Used by afterimage.spec after Analysis: removes Qt translations of other modules, the
embedded-Linux platform plugins (eglfs, linuxfb, vnc, vkkhrdisplay, minimal-egl) and their
evdev/TUIO input plugins, the GTK3 platform theme (which drags GTK, cairo, pango and atk from
the build machine into the bundle), the network-information and TLS backends, the Wayland
compositor plugins, the virtual keyboard and unused image formats. Then removes each shared
library (top-level, or Qt's own in PySide6/Qt/lib/) that only the dropped plugins needed (by
ELF NEEDED). ``dropped_bytes`` measures what each pattern saved.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable

DROP_PATTERNS = [
    r"PySide6/Qt/translations/(?!qtbase_)",
    r"PySide6/Qt/plugins/platforms/lib(qeglfs|qlinuxfb|qvnc|qvkkhrdisplay)\.so",
    r"PySide6/Qt/plugins/egldeviceintegrations/",
    r"PySide6/Qt/plugins/platformthemes/libqgtk3\.so",
    # Network-reachability backends (glib/gio, NetworkManager, connman): a local-only app
    # has no use for them, and the glib one drags the build machine's libgio, libmount,
    # libblkid and libselinux into the bundle.
    r"PySide6/Qt/plugins/networkinformation/",
    # Embedded/kiosk input and platforms: evdev keyboard/mouse/touch/tablet and TUIO (read
    # /dev/input directly, for eglfs/linuxfb, which are gone), minimal-EGL; the on-screen
    # virtual keyboard (a QtQuick component; the app has no QML). xcb, wayland, offscreen
    # and minimal stay, and the compose/ibus input contexts.
    r"PySide6/Qt/plugins/generic/",
    r"PySide6/Qt/plugins/platforms/libqminimalegl\.so",
    r"PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin\.so",
    # The compositor side of Wayland (the app is a Wayland client).
    r"PySide6/Qt/plugins/wayland-graphics-integration-server/",
    # Image formats the app never reads (it shows PNG/JPEG/WebP thumbnails and SVG icons).
    r"PySide6/Qt/plugins/imageformats/libq(icns|tga|wbmp|pdf|tiff)\.so",
    # TLS backends: QtNetwork is only used for the local single-instance socket
    # (ui/single_instance.py, QLocalServer/QLocalSocket); nothing speaks TLS through Qt.
    r"PySide6/Qt/plugins/tls/",
    # Arrow Flight and the S3 filesystem (see hooks/hook-pyarrow.py); the contrib hook's
    # collect_dynamic_libs brings them back whatever our hook says.
    r"pyarrow/lib(arrow_flight|arrow_python_flight|arrow_s3|arrow_python_parquet_encryption)",
]
_DROP = re.compile("|".join(f"(?:{p})" for p in DROP_PATTERNS))

Entry = tuple  # (dest_name, src_path, typecode) as in PyInstaller's TOC lists


def needed(path: str) -> set[str]:
    """The NEEDED sonames of an ELF file (empty for anything else, or without readelf)."""
    readelf = shutil.which("readelf")
    if readelf is None or not sys.platform.startswith("linux"):
        return set()
    out = subprocess.run([readelf, "-d", path], capture_output=True, text=True,
                         check=False).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _prunable(name: str) -> bool:
    """Libraries that only ever load as another library's NEEDED (never dlopen()ed by name
    from Python): the bundle's top level, and Qt's own libraries."""
    name = name.replace("\\", "/")
    return "/" not in name or name.startswith("PySide6/Qt/lib/")


def dropped_bytes(entries: Iterable[Entry], dropped: Iterable[str]) -> dict[str, int]:
    """Bytes of the dropped files (as found at build time, before stripping), by pattern
    (``orphaned libraries`` for those dropped because only dropped files needed them)."""
    dropped = set(dropped)
    sizes: dict[str, int] = {}
    seen: set[str] = set()
    for entry in entries:
        if entry[0] not in dropped or entry[0] in seen:
            continue
        seen.add(entry[0])
        rel = entry[0].replace("\\", "/")
        key = next((p for p in DROP_PATTERNS if re.search(p, rel)), "orphaned libraries")
        try:
            size = os.path.getsize(entry[1])
        except OSError:
            size = 0
        sizes[key] = sizes.get(key, 0) + size
    return sizes


def prune(binaries: Iterable[Entry], datas: Iterable[Entry]) -> tuple[list[Entry],
                                                                        list[Entry],
                                                                        list[str]]:
    binaries, datas = list(binaries), list(datas)
    dropped = [e for e in binaries + datas if _DROP.search(e[0].replace("\\", "/"))]
    dropped_names = {e[0] for e in dropped}
    keep_bins = [e for e in binaries if e[0] not in dropped_names]
    keep_datas = [e for e in datas if e[0] not in dropped_names]
    if not sys.platform.startswith("linux"):
        return keep_bins, keep_datas, sorted(dropped_names)
    # Libraries at the top of the bundle that a dropped plugin needed: drop those that no
    # kept binary needs, repeatedly (a dropped library's own needs may become orphans).
    cache: dict[str, set[str]] = {}

    def needs(entry: Entry) -> set[str]:
        if entry[1] not in cache:
            cache[entry[1]] = needed(entry[1])
        return cache[entry[1]]

    candidates: set[str] = set()
    for entry in dropped:
        candidates |= needs(entry)
    while True:
        kept_needs: set[str] = set()
        for entry in keep_bins:
            kept_needs |= needs(entry)
        orphans = [e for e in keep_bins
                   if _prunable(e[0]) and _base(e[0]) in candidates
                   and _base(e[0]) not in kept_needs]
        if not orphans:
            break
        for entry in orphans:
            candidates |= needs(entry)
            dropped_names.add(entry[0])
        orphan_names = {e[0] for e in orphans}
        keep_bins = [e for e in keep_bins if e[0] not in orphan_names]
    # Safety: nothing we keep may need a library we dropped.
    kept_needs = set().union(*(needs(e) for e in keep_bins)) if keep_bins else set()
    broken = sorted(n.rsplit("/", 1)[-1] for n in dropped_names
                    if n.rsplit("/", 1)[-1] in kept_needs)
    if broken:
        raise RuntimeError(f"bundle_filter: dropped libraries still needed: {broken}")
    return keep_bins, keep_datas, sorted(dropped_names)
