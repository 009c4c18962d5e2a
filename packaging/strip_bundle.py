"""Strip symbol tables and debug info from the bundle's ELF files, where that is safe.

    python packaging/strip_bundle.py build/pyinstaller/dist/afterimage [--report out.json]

Many wheels ship their libraries unstripped (pyarrow, libpython, tokenizers, PIL, ...):
``strip --strip-unneeded`` saves ~65 MiB. It cannot be applied blindly: libraries that
auditwheel patched with patchelf (numpy's OpenBLAS, for one) come out of binutils' strip
with LOAD segments whose file offset and address no longer agree modulo the page size, and
the dynamic loader refuses them ("ELF load command address/offset not page-aligned").
So each file is stripped into a temporary copy, the copy's program headers are checked the
way ld.so checks them, and only a copy that passes (and is smaller) replaces the original.
Linux only; elsewhere, or without ``strip``/``readelf``, it changes nothing.

Then identical copies of a shared library in one folder (wheels ship ``libllama.so``,
``libllama.so.0`` and ``libllama.so.0.5.0`` as three files, pyarrow ``libarrow_python.so`` x3,
and PyInstaller copies them as they are) become relative symlinks to one of them, the name
with the longest version (``libllama.so.0.5.0``), as a system's own libraries are laid out.
Only within one folder, so ``$ORIGIN`` in a library's run path means the same folder either
way. The .deb (``cp -a``, dpkg-deb) and the AppImage (mksquashfs) keep symlinks.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
_LOAD = re.compile(r"^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+"
                   r"0x[0-9a-f]+\s+.*?(0x[0-9a-f]+)\s*$", re.MULTILINE)
_SYMTAB = re.compile(r"\]\s+(\.symtab|\.debug_\w+)\s")


@dataclass
class StripReport:
    files_seen: int = 0
    stripped: int = 0
    bytes_before: int = 0
    bytes_saved: int = 0
    kept_unsafe: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    duplicates_linked: dict[str, str] = field(default_factory=dict)  # copy -> its twin
    bytes_deduplicated: int = 0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["mib_saved"] = round(self.bytes_saved / 2**20, 1)
        data["mib_deduplicated"] = round(self.bytes_deduplicated / 2**20, 1)
        return data


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == ELF_MAGIC
    except OSError:
        return False


def has_strippable_sections(path: Path, readelf: str) -> bool:
    out = subprocess.run([readelf, "-SW", str(path)], capture_output=True, text=True,
                         check=False).stdout
    return bool(_SYMTAB.search(out))


def load_segments_ok(path: Path, readelf: str) -> bool:
    """True when every LOAD segment maps as ld.so requires: offset == vaddr (mod align)."""
    proc = subprocess.run([readelf, "-lW", str(path)], capture_output=True, text=True,
                          check=False)
    segments = _LOAD.findall(proc.stdout)
    if proc.returncode != 0 or not segments:
        return False
    for offset, vaddr, align in segments:
        page = max(int(align, 16), 1)
        if (int(offset, 16) - int(vaddr, 16)) % page:
            return False
    return True


def strip_tree(root: Path, *, strip: str, readelf: str) -> StripReport:
    report = StripReport()
    with tempfile.TemporaryDirectory(prefix="afterimage-strip-") as tmp:
        scratch = Path(tmp) / "candidate"
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            if not is_elf(path):
                continue
            report.files_seen += 1
            size = path.stat().st_size
            report.bytes_before += size
            if not has_strippable_sections(path, readelf):
                continue
            rel = str(path.relative_to(root))
            shutil.copy2(path, scratch)
            proc = subprocess.run([strip, "--strip-unneeded", str(scratch)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                report.failed.append(rel)
                continue
            if not load_segments_ok(scratch, readelf):
                report.kept_unsafe.append(rel)
                continue
            new_size = scratch.stat().st_size
            if new_size >= size:
                continue
            mode = path.stat().st_mode
            os.replace(scratch, path)
            path.chmod(mode)
            report.stripped += 1
            report.bytes_saved += size - new_size
    return report


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def link_duplicates(root: Path, report: StripReport | None = None) -> StripReport:
    """Replace identical copies of an ELF file in the same folder by relative symlinks to the
    copy with the longest name (the fully versioned soname)."""
    report = report or StripReport()
    groups: dict[tuple[Path, int], list[Path]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        if ".so" in path.name and is_elf(path):
            groups.setdefault((path.parent, path.stat().st_size), []).append(path)
    for (_, size), paths in groups.items():
        if len(paths) < 2:
            continue
        by_digest: dict[str, list[Path]] = {}
        for path in paths:
            by_digest.setdefault(_digest(path), []).append(path)
        for twins in by_digest.values():
            if len(twins) < 2:
                continue
            keep = max(twins, key=lambda p: (len(p.name), p.name))
            for copy in twins:
                if copy == keep:
                    continue
                copy.unlink()
                copy.symlink_to(keep.name)
                report.duplicates_linked[str(copy.relative_to(root))] = keep.name
                report.bytes_deduplicated += size
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--report", type=Path, help="write the result as JSON here")
    args = parser.parse_args(argv)
    strip, readelf = shutil.which("strip"), shutil.which("readelf")
    if not sys.platform.startswith("linux") or strip is None or readelf is None:
        print("strip_bundle: not Linux or no binutils; bundle left as it is")
        return 0
    report = strip_tree(args.bundle, strip=strip, readelf=readelf)
    link_duplicates(args.bundle, report)
    print(f"strip_bundle: {len(report.duplicates_linked)} identical library copies made "
          f"symlinks, saved {report.bytes_deduplicated / 2**20:.1f} MiB")
    for rel, twin in sorted(report.duplicates_linked.items()):
        print(f"  {rel} -> {twin}")
    print(f"strip_bundle: stripped {report.stripped} of {report.files_seen} ELF files, "
          f"saved {report.bytes_saved / 2**20:.1f} MiB; kept {len(report.kept_unsafe)} "
          "unstripped (stripping would break their segment alignment)")
    for rel in report.kept_unsafe:
        print(f"  kept: {rel}")
    for rel in report.failed:
        print(f"  strip failed: {rel}")
    if args.report:
        args.report.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
