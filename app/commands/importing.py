"""`afterimage import PATH...`: bring in screenshots from other tools."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cliutil import (
    EXIT_ERROR,
    EXIT_OK,
    TerminalProgress,
    add_json_option,
    add_passphrase_option,
    has_passphrase_source,
    print_json,
    read_passphrase,
)
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser(
        "import", help="import existing screenshots (PNG/JPEG files or folders)",
        description="Import PNG/JPEG screenshots (folders recursively). Times come from the "
                    "file name, else EXIF, else the file date; NAME.json may give app/title. "
                    "With a passphrase, files already imported are skipped.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    add_passphrase_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    with ctx.memory() as memory:
        if has_passphrase_source(args):
            memory.unlock(read_passphrase(args))  # lets import skip files already imported
        progress = None if args.json or not sys.stderr.isatty() else TerminalProgress()
        report = memory.import_paths([Path(p) for p in args.paths], progress)
        memory.maintain_if_due()  # retention + storage budget (docs/cli.md)
    if args.json:
        print_json({"imported": len(report.imported), "ids": report.imported,
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
        for _name, reason in report.failed:
            print(f"  failed: {reason}", file=sys.stderr)
        for missing in report.missing:
            print(f"  not found: {missing}", file=sys.stderr)
    if not report.imported and (report.failed or report.missing):
        return EXIT_ERROR
    return EXIT_OK
