"""Start-up time of the packaged app against running from the venv, measured in the same run.

For each of ``afterimage --version``, ``afterimage stats`` and the GUI (time until its window
is mapped, under Xvfb), both the PyInstaller bundle and ``python -m app`` from the venv are
run cold (every file of the bundle, or of the venv and the checkout, evicted from the page
cache with posix_fadvise(DONTNEED) first: a first start after boot or install) and warm (the
run right after). When an AppImage was built, it is timed the same way (mounted with FUSE
where that works). Also records the bundle size, the .deb's file and installed sizes, the
AppImage's size and the build figures of packaging/build-report.json. The .debs are the app
(``afterimage``) and its chat model (``afterimage-chat-model``, which the app Recommends):
each one's installed and file size, in MiB and decimal MB, and their sum.

    .venv/bin/python -m bench.bench_bundle [--bundle build/pyinstaller/dist/afterimage]
        [--appimage build/appimage/Afterimage-<v>-x86_64.AppImage]
        [--repeat 3] [--out bench/results/bundle.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHEAP_KDF_ENV = {
    "AFTERIMAGE_SECURITY__KDF_MEMORY_MIB": "64",
    "AFTERIMAGE_SECURITY__KDF_ITERATIONS": "1",
    "AFTERIMAGE_SECURITY__KDF_MIN_SECONDS": "0",
}


def evict(folders: list[Path]) -> int:
    """Drop the page-cache pages of every file under ``folders``; returns the file count."""
    count = 0
    for folder in folders:
        for path in ([folder] if folder.is_file() else folder.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                count += 1
            finally:
                os.close(fd)
    return count


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False,
                          timeout=600)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return seconds


def window_titles(display: str) -> list[str]:
    from Xlib.display import Display

    conn = Display(display)
    try:
        root = conn.screen().root
        prop = root.get_full_property(conn.intern_atom("_NET_CLIENT_LIST"), 0)
        name_atom = conn.intern_atom("_NET_WM_NAME")
        titles = []
        for wid in (prop.value if prop else []):
            name = conn.create_resource_object("window", wid).get_full_property(name_atom, 0)
            if name is not None:
                value = name.value
                titles.append(value.decode() if isinstance(value, bytes) else str(value))
        return titles
    finally:
        conn.close()


def time_to_window(cmd: list[str], env: dict[str, str], display: str) -> float:
    env = {**env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < 120:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited with {proc.returncode} before its window")
            if any(t.startswith("Afterimage") for t in window_titles(display)):
                return time.perf_counter() - start
            time.sleep(0.02)
        raise RuntimeError("no window within 120 s")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cold_warm(run: Callable[[], float], folders: list[Path], repeat: int) -> dict[str, Any]:
    cold, warm = [], []
    for _ in range(repeat):
        evict(folders)
        cold.append(run())
        warm.append(run())
    return {"cold_s": round(statistics.median(cold), 3),
            "warm_s": round(statistics.median(warm), 3),
            "cold_all": [round(x, 3) for x in cold], "warm_all": [round(x, 3) for x in warm]}


def newest(folder: Path, pattern: str) -> Path | None:
    found = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def deb_sizes(folder: Path = ROOT / "build" / "deb") -> dict[str, dict[str, float]]:
    """Each .deb in ``folder`` (the app ``afterimage`` and ``afterimage-chat-model``), by package
    name: installed size (the control file's Installed-Size) and file size, in MiB and in
    decimal MB."""
    sizes: dict[str, dict[str, float]] = {}
    for deb in sorted(folder.glob("*.deb"), key=lambda p: p.stat().st_mtime):
        fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Installed-Size"],
                                capture_output=True, text=True, check=False).stdout
        info = dict(line.split(": ", 1) for line in fields.splitlines() if ": " in line)
        kib = info.get("Installed-Size", "")
        if not kib.isdigit():
            continue
        sizes[info.get("Package", deb.name)] = {
            "installed_mib": round(int(kib) / 1024, 1),
            "installed_mb": round(int(kib) * 1024 / 1e6, 1),
            "file_mib": round(deb.stat().st_size / 2**20, 1),
            "file_mb": round(deb.stat().st_size / 1e6, 1),
        }
    return sizes


def file_mib(path: Path | None) -> float | None:
    return None if path is None else round(path.stat().st_size / 2**20, 1)


def build_figures() -> dict[str, Any]:
    path = ROOT / "packaging" / "build-report.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    keys = ("bundle_mib", "files", "build_seconds", "strip", "largest_components")
    return {k: data[k] for k in keys if k in data}


def tree_mib(folder: Path) -> float:
    return round(sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "build/pyinstaller/dist/afterimage")
    parser.add_argument("--appimage", type=Path, default=None,
                        help="default: the newest build/appimage/*.AppImage, if any")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/bundle.json")
    args = parser.parse_args()
    exe = args.bundle / "afterimage"
    if not exe.is_file():
        print(f"no bundle at {args.bundle}: bash packaging/build.sh", file=sys.stderr)
        return 1

    work = Path(tempfile.mkdtemp(prefix="afterimage-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERIMAGE_", "QT_"))}
    env.update(CHEAP_KDF_ENV)
    env.update({"AFTERIMAGE_HOME": str(work / "home"),
                "AFTERIMAGE_PASSPHRASE": "correct horse battery staple"})
    venv_env = {**env, "PYTHONPATH": str(ROOT)}
    bundle_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    timed([str(exe), "init"], bundle_env)

    venv_files = [Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["stdlib"]),
                  ROOT / "app", ROOT / "core", ROOT / "ui"]
    targets = {
        "bundle": ([str(exe)], bundle_env, [args.bundle]),
        "venv": ([sys.executable, "-m", "app"], venv_env, venv_files),
    }
    appimage = args.appimage or newest(ROOT / "build" / "appimage", "*.AppImage")
    if appimage is not None:
        targets["appimage"] = ([str(appimage.resolve())], bundle_env, [appimage])
    results: dict[str, Any] = {}
    for name, (base, target_env, folders) in targets.items():
        results[name] = {}
        for label, extra in (("version", ["--version"]), ("stats", ["stats", "--json"])):
            results[name][label] = cold_warm(
                lambda base=base, target_env=target_env, extra=extra: timed(
                    base + extra, target_env), folders, args.repeat)
            print(f"{name:6} {label:8} cold {results[name][label]['cold_s']:.2f}s "
                  f"warm {results[name][label]['warm_s']:.2f}s", flush=True)

    sys.path.insert(0, str(ROOT))
    from tests.integration.xenv import XSession

    with XSession.start() as session:
        for name, (base, target_env, folders) in targets.items():
            results[name]["gui_first_window"] = cold_warm(
                lambda base=base, target_env=target_env: time_to_window(
                    base, target_env, session.display), folders, args.repeat)
            print(f"{name:6} gui      cold {results[name]['gui_first_window']['cold_s']:.2f}s "
                  f"warm {results[name]['gui_first_window']['warm_s']:.2f}s", flush=True)

    labels = ("version", "stats", "gui_first_window")
    ratios = {label: round(results["bundle"][label]["cold_s"]
                           / results["venv"][label]["cold_s"], 2) for label in labels}
    if "appimage" in results:
        ratios.update({f"appimage_{label}": round(results["appimage"][label]["cold_s"]
                                                  / results["venv"][label]["cold_s"], 2)
                       for label in labels})
    debs = deb_sizes()
    core = debs.get("afterimage", {})
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "bundle_mib": tree_mib(args.bundle),
        # the app's own package (without afterimage-chat-model, which it Recommends)
        "installed_mib_deb": core.get("installed_mib"),
        "installed_mb_deb": core.get("installed_mb"),
        "deb_file_mib": core.get("file_mib"),
        "debs": debs,
        "installed_mib_core_plus_chat_model": round(
            sum(d["installed_mib"] for d in debs.values()), 1) if debs else None,
        "installed_mb_core_plus_chat_model": round(
            sum(d["installed_mb"] for d in debs.values()), 1) if debs else None,
        "goal_installed_mb": 600,
        "appimage_mib": file_mib(appimage),
        "build": build_figures(),
        "repeat": args.repeat,
        "results": results,
        "cold_ratio_bundle_over_venv": ratios,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(ratios))
    for name, size in debs.items():
        print(f"{name}: installed {size['installed_mib']} MiB ({size['installed_mb']} MB), "
              f".deb {size['file_mib']} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
