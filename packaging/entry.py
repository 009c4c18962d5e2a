"""Entry point of the bundled app: one executable for the GUI, the CLI and the capture service.

``afterimage`` alone opens the app, ``afterimage service`` runs the capture service and every
other subcommand is the CLI (app/cli.py). PyInstaller freezes this file (afterimage.spec).
"""

from __future__ import annotations

import multiprocessing
import sys


def main() -> int:
    multiprocessing.freeze_support()
    # Old macOS Finder launches pass a process serial number; it is not ours to parse.
    argv = [arg for arg in sys.argv[1:] if not arg.startswith("-psn_")]
    from app.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
