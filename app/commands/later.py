"""Command names reserved now and implemented by later releases."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cliutil import EXIT_USAGE
from app.context import AppContext

LATER = {
    "doctor": "the self-check",
}


def register(sub: Any) -> None:
    for name, what in LATER.items():
        p = sub.add_parser(name, help=f"{what} (coming)", description=f"{what} (coming)")
        p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    print(f"afterimage {args.command}: {LATER[args.command]} is not in this version yet.",
          file=sys.stderr)
    return EXIT_USAGE
