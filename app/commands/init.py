"""`afterimage init`: create the encrypted vault."""

from __future__ import annotations

import argparse
from typing import Any

from app.cliutil import EXIT_OK, add_json_option, add_passphrase_option, print_json, read_passphrase
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="create the encrypted vault",
                       description="Create the encrypted vault. Your passphrase is the only "
                                   "way to read it: there is no recovery.")
    add_passphrase_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    from core.errors import VaultExists
    from core.memory import Memory

    if Memory.exists(ctx.paths):
        raise VaultExists(f"a vault already exists in {ctx.paths.vault_dir}; "
                          "nothing was changed")
    passphrase = read_passphrase(args, confirm=True, prompt="Choose a passphrase: ")
    if not args.json:
        print("Creating the vault (deriving a key from your passphrase)...", flush=True)
    memory = Memory.create(ctx.config, ctx.paths, passphrase)
    memory.close()
    if args.json:
        print_json({"created": True, "vault": str(ctx.paths.vault_dir)})
    else:
        print(f"Vault created in {ctx.paths.vault_dir}")
        print("Keep your passphrase safe: without it nothing in the vault can be read, "
              "by anyone.")
        print("Next: `afterimage capture --once`, or `afterimage import FOLDER`.")
    return EXIT_OK
