"""`afterimage forget`: forget memories for ever."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cliutil import EXIT_OK, EXIT_USAGE, add_json_option, human_bytes, print_json
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser("forget", help="forget memories for ever",
                       description="Forget memories for ever: rows, images, old table "
                                   "versions and their encryption keys.")
    p.add_argument("--all", action="store_true", help="forget everything")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_json_option(p)
    p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    if not args.all:
        print("afterimage forget: this version can forget everything (--all); forgetting by "
              "time, app, id or query comes with the vault update.", file=sys.stderr)
        return EXIT_USAGE
    with ctx.memory() as memory:
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
    if args.json:
        print_json({"memories": report.memories, "data_keys": report.data_keys,
                    "bytes_freed": report.bytes_freed})
    else:
        print(f"Forgot {report.memories} memories; destroyed {report.data_keys} data key(s); "
              f"freed {human_bytes(report.bytes_freed)}.")
    return EXIT_OK
