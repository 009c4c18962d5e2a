"""`afterimage models list | download NAME | verify [NAME] | remove NAME`."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from app.cliutil import EXIT_ERROR, EXIT_OK, add_json_option, human_bytes, print_json
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser("models", help="list, download, verify or remove models",
                       description="The model manager. Downloads happen only when you ask, "
                                   "from the pinned URLs of a curated catalog, and are checked "
                                   "against a pinned SHA-256 before they are installed.")
    p.add_argument("action", nargs="?", choices=("list", "download", "verify", "remove"),
                   default="list")
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("--allow-unpinned", action="store_true",
                   help="download an entry that has no pinned checksum (its hash is recorded)")
    add_json_option(p)
    p.set_defaults(func=run)


class DownloadProgress:
    """A JobState drawing a progress line on stderr (at most ~4 times a second)."""

    def __init__(self, quiet: bool) -> None:
        self._quiet = quiet
        self._last = 0.0
        self._status = ""

    def set_progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self._quiet or (now - self._last < 0.25 and done != total):
            return
        self._last = now
        if total:
            pct = 100 * done / total
            line = f"\r  {self._status}  {human_bytes(done)} / {human_bytes(total)} ({pct:.0f}%)"
        else:
            line = f"\r  {self._status}  {human_bytes(done)}"
        sys.stderr.write(line.ljust(78))
        sys.stderr.flush()

    def set_status(self, text: str) -> None:
        self._status = text
        if not self._quiet and text == "verifying":
            sys.stderr.write("\n  verifying checksum…\n")

    @property
    def cancelled(self) -> bool:
        return False


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    from core.errors import InvalidInput
    from core.models import DEFAULT_CHAT_MODEL, InstalledModels

    models = InstalledModels(ctx.paths.models_dir)
    if args.action == "list":
        rows = models.status()
        if args.json:
            embedded = {"name": DEFAULT_CHAT_MODEL, "kind": "chat", "installed": True,
                        "pinned": True, "size_bytes": None, "license": "Gemma Terms of Use",
                        "title": "Gemma 3 270M Q4_K_M (embedded default, no download)",
                        "files": ["gemma-3-270m-q4_k_m.gguf"]}
            print_json([embedded] + [{
                "name": r.name, "kind": r.kind, "installed": r.installed, "pinned": r.pinned,
                "size_bytes": r.size_bytes, "license": r.license, "title": r.title,
                "files": list(r.files)} for r in rows])
            return EXIT_OK
        print(f"{'NAME':26} {'KIND':16} {'SIZE':>9}  {'STATE':10} LICENSE")
        print(f"{DEFAULT_CHAT_MODEL:26} {'chat':16} {'(built in)':>9}  {'installed':10} "
              "Gemma Terms of Use")
        for r in rows:
            size = human_bytes(r.size_bytes) if r.size_bytes else "?"
            state = "installed" if r.installed else ("available" if r.pinned else "unpinned")
            print(f"{r.name:26} {r.kind:16} {size:>9}  {state:10} {r.license}")
        print("\n'unpinned' entries have no published checksum: `models download NAME "
              "--allow-unpinned`.")
        return EXIT_OK
    if args.action == "verify":
        results = models.verify(args.name)
        if args.json:
            print_json([{"name": r.name, "ok": r.ok, "problems": list(r.problems)}
                        for r in results])
        elif not results:
            print("No downloaded models to verify.")
        for v in results if not args.json else []:
            print(f"{v.name}: {'ok' if v.ok else 'FAILED'}")
            for problem in v.problems:
                print(f"  {problem}")
        return EXIT_OK if all(v.ok for v in results) else EXIT_ERROR
    if not args.name:
        raise InvalidInput(f"`afterimage models {args.action}` needs a model NAME (see "
                           "`afterimage models list`)")
    if args.action == "remove":
        removed = models.remove(args.name)
        if args.json:
            print_json({"name": args.name, "removed": removed})
        else:
            print(f"Removed {len(removed)} file(s)." if removed else "Nothing to remove.")
        return EXIT_OK
    got = models.download(args.name, allow_unpinned=args.allow_unpinned,
                          state=DownloadProgress(quiet=args.json))
    if args.json:
        print_json({"name": args.name, "files": [
            {"file": r.path.name, "sha256": r.sha256, "size": r.size,
             "resumed_from": r.resumed_from} for r in got]})
    else:
        print(f"\nInstalled {args.name} ({len(got)} file(s)) in {ctx.paths.models_dir}.")
    return EXIT_OK
