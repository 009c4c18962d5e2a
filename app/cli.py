"""The ``afterimage`` command line. ``afterimage`` alone launches the desktop app.

Exit codes (app/cliutil.py): 0 success, 1 error, 2 usage error, 3 locked / wrong
passphrase, 4 no vault yet (run ``afterimage init``), 5 another process is the writer.
The ``--json`` outputs are a stable contract documented in docs/cli.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app import __version__
from app.cliutil import EXIT_BUSY, EXIT_ERROR, EXIT_LOCKED, EXIT_NO_VAULT, EXIT_USAGE
from app.context import AppContext


def build_parser() -> argparse.ArgumentParser:
    from app.commands import MODULES

    parser = argparse.ArgumentParser(
        prog="afterimage",
        description="Afterimage remembers what you saw on screen, privately, on this machine. "
                    "Run without a command to open the app.")
    parser.add_argument("--version", action="version", version=f"afterimage {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="print diagnostics")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in MODULES:
        module.register(sub)
    return parser


def run_gui_command(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.gui import run_gui

    return run_gui(ctx)


def _exit_code_for(exc: Exception) -> int:
    from core.errors import InvalidInput, VaultLocked, VaultNotFound, WriterBusy, WrongPassphrase

    table: tuple[tuple[type[Exception], int], ...] = (
        (WrongPassphrase, EXIT_LOCKED),
        (VaultLocked, EXIT_LOCKED),
        (VaultNotFound, EXIT_NO_VAULT),
        (WriterBusy, EXIT_BUSY),
        (InvalidInput, EXIT_USAGE),
    )
    for kind, code in table:
        if isinstance(exc, kind):
            return code
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    from core.errors import AfterimageError, Cancelled

    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", run_gui_command)
    try:
        ctx = AppContext.load(verbose=args.verbose)
        return int(func(ctx, args))
    except Cancelled:
        return EXIT_ERROR
    except AfterimageError as exc:
        print(f"afterimage: {exc}", file=sys.stderr)
        return _exit_code_for(exc)
    except KeyboardInterrupt:
        print("\nafterimage: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
