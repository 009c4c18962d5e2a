"""`afterimage service` (the capture loop), `afterimage pause`, `afterimage resume`."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from app.cliutil import EXIT_ERROR, EXIT_OK, add_json_option, iso, print_json
from app.context import AppContext

AUTOSTART_NAME = "afterimage-service.desktop"
AUTOSTART_TEMPLATE = Path(__file__).resolve().parents[2] / "assets" / "autostart" / AUTOSTART_NAME


def register(sub: Any) -> None:
    p = sub.add_parser(
        "service", help="run the capture service (the all-day capture loop)",
        description="Capture the screen all day: a frame every few seconds while it changes, "
                    "an extra one on window switches, nothing while idle, locked or paused. "
                    "Privacy filters run before anything is stored. Needs no passphrase. "
                    "Stop it with Ctrl+C or SIGTERM.")
    p.add_argument("--status", action="store_true", help="show the running service's status")
    p.add_argument("--install-autostart", action="store_true",
                   help="start the service at login (XDG autostart, ~/.config/autostart)")
    p.add_argument("--remove-autostart", action="store_true",
                   help="stop starting the service at login")
    add_json_option(p)
    p.set_defaults(func=run)

    pp = sub.add_parser("pause", help="pause capture (15m, 1h, until-resumed, ...)",
                        description="Pause capture for a while: 15m, 1h, 90s, 2h, or "
                                    "until-resumed (the default).")
    pp.add_argument("duration", nargs="?", default="until-resumed",
                    help="15m, 1h, ... or until-resumed")
    add_json_option(pp)
    pp.set_defaults(func=run_pause)

    pr = sub.add_parser("resume", help="resume capture after a pause")
    add_json_option(pr)
    pr.set_defaults(func=run_resume)


def _autostart_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart"


def _exec_line() -> str:
    """The bundle / AppImage itself when frozen, else the installed command, else Python."""
    from core.supervisor import service_command

    if getattr(sys, "frozen", False):
        return " ".join(shlex.quote(part) for part in service_command())
    found = shutil.which("afterimage")
    if found:
        return f"{shlex.quote(found)} service"
    return " ".join(shlex.quote(part) for part in service_command())


def install_autostart() -> Path:
    text = AUTOSTART_TEMPLATE.read_text(encoding="utf-8")
    text = text.replace("Exec=afterimage service", f"Exec={_exec_line()}")
    target = _autostart_dir() / AUTOSTART_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(AUTOSTART_NAME + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target


def remove_autostart() -> bool:
    target = _autostart_dir() / AUTOSTART_NAME
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    return True


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.install_autostart or args.remove_autostart:
        if args.install_autostart:
            path = install_autostart()
            result = {"autostart": True, "path": str(path)}
            message = f"The capture service will start at login ({path})."
        else:
            removed = remove_autostart()
            result = {"autostart": False, "removed": removed}
            message = ("The capture service will no longer start at login." if removed
                       else "No autostart entry was installed.")
        if args.json:
            print_json(result)
        else:
            print(message)
        return EXIT_OK
    if args.status:
        return show_status(ctx, args)
    return run_service(ctx)


def status_dict(ctx: AppContext) -> dict[str, Any]:
    from core.privacy.pause import PauseControl
    from core.service_status import STOPPED, read_status

    status = read_status(ctx.paths.run_dir)
    pause = PauseControl(ctx.paths.run_dir).state()
    if status is None:
        out: dict[str, Any] = {"running": False, "state": "not_started"}
    else:
        out = status.to_dict()
        out.pop("handoff_key", None)
        out["running"] = status.state != STOPPED
    out["paused"] = pause.paused
    out["paused_until"] = pause.until.isoformat(timespec="seconds") if pause.until else None
    return out


def show_status(ctx: AppContext, args: argparse.Namespace) -> int:
    data = status_dict(ctx)
    if args.json:
        print_json(data)
        return EXIT_OK
    if not data["running"]:
        extra = f" ({data['error']})" if data.get("error") else ""
        print(f"Capture service: not running{extra}. Start it with `afterimage service`.")
    else:
        print(f"Capture service: {data['state'].replace('_', ' ')} (pid {data['pid']}, "
              f"since {iso(datetime.fromisoformat(data['since']))})")
        if data.get("error"):
            print(f"  last error:    {data['error']}")
        print(f"  every:         {data['interval_s']:g} s"
              f"{' (on battery)' if data.get('on_battery') else ''}")
        last = data.get("last_capture")
        print(f"  last capture:  {iso(datetime.fromisoformat(last)) if last else 'none yet'}")
        print(f"  captured:      {data['frames_captured']} frame(s), "
              f"{data['frames_redacted']} with text redacted")
        skipped = data.get("frames_skipped") or {}
        print("  skipped:       " + (", ".join(f"{k.replace('_', ' ')} {v}"
                                               for k, v in skipped.items()) or "none"))
        print(f"  privacy lists: {data['policy']}")
        if not data.get("idle_detection", True):
            print("  idle time:     unknown on this desktop (capture continues while idle)")
    if data["paused"]:
        until = data["paused_until"]
        when = f"until {iso(datetime.fromisoformat(until))}" if until else "until resumed"
        print(f"Paused {when} (`afterimage resume` to resume).")
    return EXIT_OK


def run_service(ctx: AppContext) -> int:
    from core.capture import default_screen_source, default_window_info
    from core.capture.session import X11SessionSignals
    from core.inference import lower_priority, use_background_inference
    from core.memtrim import restart_with_malloc_tunables
    from core.service import CaptureService, ServiceParts

    # all day with large short-lived OCR buffers: glibc's malloc settings for that, which it
    # reads only at start (re-executes this process once, same pid; core/memtrim.py)
    restart_with_malloc_tunables()
    # A background process: polite ONNX sessions (no spinning threads, no arena) and a
    # lower CPU priority than the user's own applications (core/inference.py).
    use_background_inference()
    lower_priority()
    memory = ctx.open_memory()
    try:
        memory.acquire_writer("capture service")  # refuse a second service before anything
        parts = ServiceParts(screen=default_screen_source(), windows=default_window_info(),
                             signals=X11SessionSignals())
        service = CaptureService(memory, ctx.config, ctx.paths, parts)
        service.install_signal_handlers()
        print(f"Afterimage capture service running (pid {os.getpid()}); Ctrl+C stops it.",
              file=sys.stderr, flush=True)
        code = service.run()
    finally:
        memory.close()
    return code if code in (EXIT_OK,) else (code or EXIT_ERROR)


def run_pause(ctx: AppContext, args: argparse.Namespace) -> int:
    from core.privacy.pause import PauseControl, parse_pause_duration

    state = PauseControl(ctx.paths.run_dir).pause(parse_pause_duration(args.duration))
    if args.json:
        print_json({"paused": True, "until": iso(state.until)})
    elif state.until is None:
        print("Capture paused until you resume it (`afterimage resume`).")
    else:
        print(f"Capture paused until {iso(state.until)}.")
    return EXIT_OK


def run_resume(ctx: AppContext, args: argparse.Namespace) -> int:
    from core.privacy.pause import PauseControl

    control = PauseControl(ctx.paths.run_dir)
    was = control.state().paused
    control.resume()
    if args.json:
        print_json({"paused": False, "was_paused": was})
    else:
        print("Capture resumed." if was else "Capture was not paused.")
    return EXIT_OK
