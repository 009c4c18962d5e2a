"""Compute the Debian Depends of a PyInstaller bundle from its ELF files.

    python installer/linux/deb_depends.py build/pyinstaller/dist/afterimage
    -> libc6 (>= 2.34), libgl1, libegl1, libxcb1, ...

Every NEEDED library that the bundle does not carry is resolved with ``ldconfig -p`` and
mapped to its package with ``dpkg -S``; libc6 gets the highest GLIBC_x.y symbol version any
bundled file asks for. Libraries Qt opens at run time without a NEEDED entry (GL, EGL) are
added by name. Exits 1 when a needed library is neither bundled nor installed here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

# dlopen()ed by Qt's xcb GL integrations; PyInstaller never bundles the GL stack.
DLOPENED = ["libgl1", "libegl1"]
# Needed by Qt's Wayland plugins but often absent from a headless build machine (so dpkg -S
# cannot name their package here): the Debian package of each soname.
KNOWN_PACKAGES = {
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
}
LIBC_SONAMES = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
                "libutil.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
                "libresolv.so.2"}


def elf_files(bundle: Path) -> list[Path]:
    out = []
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    out.append(path)
    return out


def _run(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout


def needed_sonames(files: list[Path]) -> set[str]:
    names: set[str] = set()
    for i in range(0, len(files), 100):
        out = _run(["readelf", "-d", *map(str, files[i:i + 100])])
        names |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))
    return names


def max_glibc(files: list[Path]) -> str | None:
    best: tuple[int, ...] = ()
    for i in range(0, len(files), 100):
        out = _run(["objdump", "-T", *map(str, files[i:i + 100])])
        for version in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", out):
            best = max(best, tuple(int(x) for x in version.split(".")))
    return ".".join(map(str, best)) if best else None


def system_paths() -> dict[str, str]:
    """soname -> path for this machine's architecture, from the ldconfig cache."""
    paths: dict[str, str] = {}
    for line in _run(["ldconfig", "-p"]).splitlines():
        m = re.match(r"\s*(\S+) \((libc6,x86-64|libc6,AArch64|libc6)[^)]*\) => (\S+)", line)
        if m and m.group(1) not in paths:
            paths[m.group(1)] = m.group(3)
    return paths


def owning_package(path: str) -> str | None:
    candidates = [path, str(Path(path).resolve())]
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/"):
            candidates.append("/usr" + p)
    for p in candidates:
        out = _run(["dpkg", "-S", p]).strip()
        if out:
            return out.split(":", 1)[0].split(",")[0].strip()
    return None


def depends(bundle: Path) -> tuple[list[str], list[str]]:
    files = elf_files(bundle)
    bundled = {p.name for p in bundle.rglob("*")}
    missing_here: list[str] = []
    packages: set[str] = set()
    sys_paths = system_paths()
    for soname in sorted(needed_sonames(files) - bundled):
        if soname in LIBC_SONAMES:
            continue
        path = sys_paths.get(soname)
        package = owning_package(path) if path else None
        package = package or KNOWN_PACKAGES.get(soname)
        if package is None:
            missing_here.append(soname)
        else:
            packages.add(package)
    packages.discard("libc6")
    glibc = max_glibc(files)
    result = [f"libc6 (>= {glibc})" if glibc else "libc6"]
    result += sorted(packages | set(DLOPENED))
    return result, missing_here


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    result, missing = depends(Path(args[0]))
    if missing:
        print("deb_depends: needed but neither bundled nor installed: " + ", ".join(missing),
              file=sys.stderr)
        return 1
    print(", ".join(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
