"""`afterimage consolidate`: make captions (and image vectors) for memories that lack them.

The desktop app runs the same work by itself while it is unlocked and the machine is idle
or plugged in; this command runs it now (for a headless setup, a timer, or to catch up).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cliutil import (
    EXIT_OK,
    add_json_option,
    add_passphrase_option,
    print_json,
    read_passphrase,
)
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser(
        "consolidate", help="caption (and image-embed) memories that lack it",
        description="Write a short caption for each memory that has none (the bundled "
                    "text model over title + OCR text, or the vision model chosen in "
                    "consolidation.captioner) and, when an image model is installed, its "
                    "image vector. Newest first; safe to stop and run again. Runs only on "
                    "mains power or an idle machine unless --force. Works while the "
                    "capture service runs. Needs the passphrase.")
    p.add_argument("--max", type=int, default=None, metavar="N",
                   help="at most N memories this time")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="stop starting new batches after this many seconds")
    p.add_argument("--force", action="store_true",
                   help="run even on battery with a busy CPU")
    p.add_argument("--pending", action="store_true",
                   help="only count the memories still waiting; change nothing")
    add_passphrase_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    from core.errors import InvalidInput

    if args.max is not None and args.max < 1:
        raise InvalidInput("--max must be at least 1")
    if args.budget is not None and args.budget <= 0:
        raise InvalidInput("--budget must be a positive number of seconds")
    memory = ctx.open_memory()
    try:
        memory.unlock(read_passphrase(args))
        if args.pending:
            pending = memory.consolidation_pending()
            if args.json:
                print_json({"pending": pending})
            else:
                print(f"{pending} memories wait for a caption or image vector.")
            return EXIT_OK
        report = memory.consolidate(max_items=args.max, budget_s=args.budget,
                                    force=args.force)
    finally:
        memory.close()
    out = {"captioned": report.captioned, "image_vectors": report.image_vectors,
           "failed": report.failed, "remaining": report.remaining,
           "skipped_reason": report.skipped_reason,
           "seconds_per_item": report.seconds_per_item}
    if args.json:
        print_json(out)
        return EXIT_OK
    if report.skipped_reason:
        print(f"Not now ({report.skipped_reason}): {report.remaining} memories wait. "
              "Use --force to run anyway.")
        return EXIT_OK
    print(f"Captioned {report.captioned} memories, made {report.image_vectors} image "
          f"vectors; {report.remaining} still wait.")
    for error in dict.fromkeys(report.errors):
        print(f"afterimage consolidate: {error}", file=sys.stderr)
    return EXIT_OK
