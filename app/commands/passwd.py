"""`afterimage passwd`: change the passphrase (re-wraps only the master key)."""

from __future__ import annotations

import argparse
from typing import Any

from app.cliutil import EXIT_OK, add_json_option, add_passphrase_option, print_json, read_passphrase
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser(
        "passwd", help="change the passphrase",
        description="Change the vault passphrase. Only the wrapped master key in the vault "
                    "header changes (both copies, atomically); no memory is re-encrypted "
                    "and keys.db is not touched. The current passphrase comes from "
                    "--passphrase-file / AFTERIMAGE_PASSPHRASE / a prompt; the new one from "
                    "--new-passphrase-file / AFTERIMAGE_NEW_PASSPHRASE / a prompt.")
    add_passphrase_option(p)
    p.add_argument("--new-passphrase-file", metavar="FILE",
                   help="read the new passphrase from FILE (first line)")
    add_json_option(p)
    p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    old = read_passphrase(args, prompt="Current passphrase: ")
    new = read_passphrase(argparse.Namespace(passphrase_file=args.new_passphrase_file),
                          confirm=True, prompt="New passphrase: ",
                          env_var="AFTERIMAGE_NEW_PASSPHRASE")
    memory = ctx.open_memory()
    try:
        if not args.json:
            print("Changing the passphrase (deriving a new key)...", flush=True)
        memory.change_passphrase(old, new)
    finally:
        memory.close()
    if args.json:
        print_json({"changed": True})
    else:
        print("Passphrase changed. Your memories were not re-encrypted: only the key that "
              "unlocks them was.")
    return EXIT_OK

