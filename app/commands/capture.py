"""`afterimage capture --once`: capture every monitor now."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cliutil import (
    EXIT_OK,
    EXIT_USAGE,
    add_json_option,
    add_passphrase_option,
    has_passphrase_source,
    print_json,
    read_passphrase,
)
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser("capture", help="capture every monitor now",
                       description="Capture every monitor now; each changed monitor becomes "
                                   "one encrypted memory. Needs no passphrase.")
    p.add_argument("--once", action="store_true", help="take one capture and exit")
    add_json_option(p)
    add_passphrase_option(p)
    p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    if not args.once:
        print("afterimage capture: only --once is available here; the continuous capture "
              "service is `afterimage service`.", file=sys.stderr)
        return EXIT_USAGE
    with ctx.memory() as memory:
        if has_passphrase_source(args):
            # Only needed to apply the privacy lists sealed in the vault.
            memory.unlock(read_passphrase(args))
        report = memory.capture_once()
        memory.maintain_if_due()  # retention + storage budget (docs/cli.md)
    if args.json:
        print_json({"stored": report.stored, "skipped": report.skipped,
                    "monitors": report.monitors, "redacted": report.redacted})
    else:
        n = len(report.stored)
        print(f"Captured {report.monitors} monitor(s): {n} new "
              f"memor{'y' if n == 1 else 'ies'} stored (encrypted).")
        if report.redacted:
            print(f"  {report.redacted} with sensitive text redacted before storing")
        for reason, count in sorted(report.skipped.items()):
            print(f"  skipped {count}: {reason.replace('_', ' ')}")
    return EXIT_OK
