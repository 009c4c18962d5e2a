"""`afterimage lock`: lock every running Afterimage (GUI, capture service) now."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cliutil import EXIT_ERROR, EXIT_OK, add_json_option, print_json
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser(
        "lock", help="lock the running app now",
        description="Tell every running Afterimage process (the app, the capture service) "
                    "to lock now: keys and decrypted indexes are dropped. Talks over a "
                    "local socket with a per-session token; never over the network. The "
                    "command line itself locks when each command exits.")
    add_json_option(p)
    p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    from core.errors import IpcError
    from core.ipc import broadcast

    replies = broadcast(ctx.paths.run_dir, "lock")
    locked = sorted(name for name, reply in replies.items() if not isinstance(reply, IpcError))
    failed = {name: str(reply) for name, reply in replies.items() if isinstance(reply, IpcError)}
    if args.json:
        print_json({"locked": locked, "failed": failed, "running": len(replies)})
    elif not replies:
        print("No running Afterimage to lock (the command line locks when each command "
              "exits).")
    else:
        for name in locked:
            print(f"Locked the {name}.")
        for name, error in failed.items():
            print(f"afterimage lock: {name}: {error}", file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_OK
