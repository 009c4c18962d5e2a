"""The ``afterimage`` command line. ``afterimage`` alone launches the desktop app.

Exit codes: 0 success, 1 error, 2 usage error, 3 locked / wrong passphrase,
4 no vault yet (run ``afterimage init``), 5 another process is the writer.
The ``--json`` outputs are a stable contract documented in docs/cli.md.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from app import __version__
from app.context import AppContext

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_NO_VAULT = 4
EXIT_BUSY = 5

LATER = {
    "service": "the background capture service",
    "ask": "chat recall with a local model",
    "models": "the model manager",
    "doctor": "the self-check",
    "lock": "locking a running app",
}


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.astimezone().isoformat(timespec="seconds")


def _human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


# -- passphrases ----------------------------------------------------------------------------
def read_passphrase(args: argparse.Namespace, *, confirm: bool = False,
                    prompt: str = "Passphrase: ") -> str:
    from core.errors import InvalidInput

    path = getattr(args, "passphrase_file", None)
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read the passphrase file {path}: {exc.strerror}") from exc
        value = text.rstrip("\r\n")
        if not value:
            raise InvalidInput(f"the passphrase file {path} is empty")
        return value
    env = os.environ.get("AFTERIMAGE_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        raise InvalidInput("a passphrase is needed: type it at a terminal, set "
                           "AFTERIMAGE_PASSPHRASE, or pass --passphrase-file FILE")
    value = getpass.getpass(prompt)
    if confirm:
        again = getpass.getpass("Repeat the passphrase: ")
        if again != value:
            raise InvalidInput("the two passphrases differ; nothing was created")
    return value


# -- commands -------------------------------------------------------------------------------
def cmd_init(ctx: AppContext, args: argparse.Namespace) -> int:
    from core.memory import Memory

    if Memory.exists(ctx.paths):
        from core.errors import VaultExists

        raise VaultExists(f"a vault already exists in {ctx.paths.vault_dir}; "
                          "nothing was changed")
    passphrase = read_passphrase(args, confirm=True, prompt="Choose a passphrase: ")
    if not args.json:
        print("Creating the vault (deriving a key from your passphrase)...", flush=True)
    memory = Memory.create(ctx.config, ctx.paths, passphrase)
    memory.close()
    if args.json:
        _print_json({"created": True, "vault": str(ctx.paths.vault_dir)})
    else:
        print(f"Vault created in {ctx.paths.vault_dir}")
        print("Keep your passphrase safe: without it nothing in the vault can be read, "
              "by anyone.")
        print("Next: `afterimage capture --once`, or `afterimage import FOLDER`.")
    return EXIT_OK


def cmd_capture(ctx: AppContext, args: argparse.Namespace) -> int:
    if not args.once:
        print("afterimage capture: only --once is available here; the continuous capture "
              "service is `afterimage service`.", file=sys.stderr)
        return EXIT_USAGE
    memory = ctx.open_memory()
    try:
        report = memory.capture_once()
    finally:
        memory.close()
    if args.json:
        _print_json({"stored": report.stored, "skipped": report.skipped,
                     "monitors": report.monitors})
    else:
        print(f"Captured {report.monitors} monitor(s): {len(report.stored)} new memor"
              f"{'y' if len(report.stored) == 1 else 'ies'} stored (encrypted).")
        for reason, n in sorted(report.skipped.items()):
            print(f"  skipped {n}: {reason.replace('_', ' ')}")
    return EXIT_OK


def cmd_import(ctx: AppContext, args: argparse.Namespace) -> int:
    memory = ctx.open_memory()
    try:
        if os.environ.get("AFTERIMAGE_PASSPHRASE") or args.passphrase_file:
            memory.unlock(read_passphrase(args))  # lets import skip files already imported
        progress = None if args.json or not sys.stderr.isatty() else _TerminalProgress()
        report = memory.import_paths([Path(p) for p in args.paths], progress)
    finally:
        memory.close()
    if args.json:
        _print_json({"imported": len(report.imported), "ids": report.imported,
                     "duplicates": report.skipped_duplicates,
                     "failed": [{"file": f, "reason": r} for f, r in report.failed],
                     "missing": report.missing, "time_sources": report.time_sources})
    else:
        print(f"Imported {len(report.imported)} screenshot(s).")
        if report.time_sources:
            parts = ", ".join(f"{n} from the {src if src != 'name' else 'file name'}"
                              for src, n in sorted(report.time_sources.items()))
            print(f"  times: {parts}")
        if report.skipped_duplicates:
            print(f"  skipped {report.skipped_duplicates} already imported")
        for name, reason in report.failed:
            print(f"  failed: {reason}", file=sys.stderr)
        for missing in report.missing:
            print(f"  not found: {missing}", file=sys.stderr)
    if not report.imported and (report.failed or report.missing):
        return EXIT_ERROR
    return EXIT_OK


class _TerminalProgress:
    def set_progress(self, done: int, total: int) -> None:
        sys.stderr.write(f"\r  {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def set_status(self, text: str) -> None:
        return None

    @property
    def cancelled(self) -> bool:
        return False


def cmd_search(ctx: AppContext, args: argparse.Namespace) -> int:
    from core.timeparse import parse_time

    since = parse_time(args.since) if args.since else None
    until = parse_time(args.until) if args.until else None
    memory = ctx.open_memory()
    try:
        memory.unlock(read_passphrase(args))
        hits = memory.search(" ".join(args.query), since=since, until=until, app=args.app,
                             limit=args.limit)
    finally:
        memory.close()
    if args.json:
        _print_json([{"id": h.id, "timestamp": _iso(h.timestamp), "app": h.app,
                      "title": h.title, "source": h.source, "score": h.score,
                      "snippet": h.snippet} for h in hits])
        return EXIT_OK
    if not hits:
        print("No memories match.")
        return EXIT_OK
    for n, h in enumerate(hits, 1):
        when = h.timestamp.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        where = " — ".join(x for x in (h.app, h.title) if x) or (h.source or "(unknown)")
        print(f"{n:>2}. {when}  {where}  [{h.score:.2f}]")
        if h.source and h.source not in where:
            print(f"    file: {h.source}")
        if h.snippet:
            print(f"    {h.snippet}")
        print(f"    id: {h.id}")
    return EXIT_OK


def cmd_stats(ctx: AppContext, args: argparse.Namespace) -> int:
    memory = ctx.open_memory()
    try:
        stats = memory.stats()
    finally:
        memory.close()
    if args.json:
        _print_json({
            "memories": stats.memories, "tiers": stats.tiers,
            "bytes_on_disk": stats.bytes_on_disk, "bytes_store": stats.bytes_store,
            "captured_total": stats.captured_total, "skipped": stats.skipped,
            "last_capture": stats.last_capture, "data_keys": stats.data_keys,
            "oldest_bucket": _iso(stats.oldest_bucket),
            "newest_bucket": _iso(stats.newest_bucket), "data_dir": stats.data_dir,
        })
        return EXIT_OK
    print(f"Memories:      {stats.memories}")
    print("  by tier:     " + ", ".join(f"{k} {v}" for k, v in stats.tiers.items()))
    print(f"On disk:       {_human_bytes(stats.bytes_on_disk)} "
          f"(store {_human_bytes(stats.bytes_store)}) in {stats.data_dir}")
    print(f"Captured:      {stats.captured_total} frame(s) stored in total")
    if stats.skipped:
        print("Skipped:       " + ", ".join(f"{k.replace('_', ' ')} {v}"
                                            for k, v in stats.skipped.items()))
    else:
        print("Skipped:       none")
    if stats.last_capture:
        print(f"Last capture:  {_iso(datetime.fromisoformat(stats.last_capture))}")
    if stats.oldest_bucket:
        print(f"Time span:     {_iso(stats.oldest_bucket)} .. {_iso(stats.newest_bucket)} "
              "(hour buckets)")
    print(f"Data keys:     {stats.data_keys}")
    return EXIT_OK


def cmd_forget(ctx: AppContext, args: argparse.Namespace) -> int:
    if not args.all:
        print("afterimage forget: this version can forget everything (--all); forgetting by "
              "time, app, id or query comes with the vault update.", file=sys.stderr)
        return EXIT_USAGE
    memory = ctx.open_memory()
    try:
        count = memory.stats().memories
        if not args.yes:
            if not sys.stdin.isatty():
                print("afterimage forget --all: refusing without --yes when not at a terminal",
                      file=sys.stderr)
                return EXIT_USAGE
            answer = input(f"Forget ALL {count} memories, their images and their keys, "
                           "for ever? Type 'forget' to confirm: ")
            if answer.strip().lower() != "forget":
                print("Nothing was forgotten.")
                return EXIT_OK
        report = memory.forget_all()
    finally:
        memory.close()
    if args.json:
        _print_json({"memories": report.memories, "data_keys": report.data_keys,
                     "bytes_freed": report.bytes_freed})
    else:
        print(f"Forgot {report.memories} memories; destroyed {report.data_keys} data key(s); "
              f"freed {_human_bytes(report.bytes_freed)}.")
    return EXIT_OK


def cmd_later(ctx: AppContext, args: argparse.Namespace) -> int:
    print(f"afterimage {args.command}: {LATER[args.command]} is not in this version yet.",
          file=sys.stderr)
    return EXIT_USAGE


def cmd_gui(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.gui import run_gui

    return run_gui(ctx)


# -- parser ---------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="afterimage",
        description="Afterimage remembers what you saw on screen, privately, on this machine. "
                    "Run without a command to open the app.")
    parser.add_argument("--version", action="version", version=f"afterimage {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="print diagnostics")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[AppContext, argparse.Namespace], int], help_text: str,
            *, passphrase: bool = False, json_out: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        if passphrase:
            p.add_argument("--passphrase-file", metavar="FILE",
                           help="read the passphrase from FILE (else AFTERIMAGE_PASSPHRASE, "
                                "else a prompt)")
        if json_out:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    add("init", cmd_init, "create the encrypted vault", passphrase=True, json_out=True)
    p = add("capture", cmd_capture, "capture every monitor now", json_out=True)
    p.add_argument("--once", action="store_true", help="take one capture and exit")
    p = add("import", cmd_import, "import existing screenshots (PNG/JPEG files or folders)",
            passphrase=True, json_out=True)
    p.add_argument("paths", nargs="+", metavar="PATH")
    p = add("search", cmd_search, "search your memories", passphrase=True, json_out=True)
    p.add_argument("query", nargs="+", metavar="QUERY")
    p.add_argument("--since", metavar="T", help="ISO time, or 2h / 3d / today / yesterday")
    p.add_argument("--until", metavar="T", help="ISO time, or 2h / 3d / today / yesterday")
    p.add_argument("--app", metavar="NAME", help="only memories of this app")
    p.add_argument("--limit", metavar="N", type=int, default=None, help="at most N results")
    add("stats", cmd_stats, "counts, disk use and skipped frames", json_out=True)
    p = add("forget", cmd_forget, "forget memories for ever", json_out=True)
    p.add_argument("--all", action="store_true", help="forget everything")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    for name, what in LATER.items():
        p = sub.add_parser(name, help=f"{what} (coming)", add_help=True)
        p.set_defaults(func=cmd_later)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from core.errors import (
        AfterimageError,
        Cancelled,
        InvalidInput,
        VaultExists,
        VaultLocked,
        VaultNotFound,
        WriterBusy,
        WrongPassphrase,
    )

    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", cmd_gui)
    try:
        ctx = AppContext.load(verbose=args.verbose)
        return int(func(ctx, args))
    except Cancelled:
        return EXIT_ERROR
    except (WrongPassphrase, VaultLocked) as exc:
        print(f"afterimage: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except VaultNotFound as exc:
        print(f"afterimage: {exc}", file=sys.stderr)
        return EXIT_NO_VAULT
    except WriterBusy as exc:
        print(f"afterimage: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except (InvalidInput, VaultExists) as exc:
        print(f"afterimage: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, InvalidInput) else EXIT_ERROR
    except AfterimageError as exc:
        print(f"afterimage: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\nafterimage: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
