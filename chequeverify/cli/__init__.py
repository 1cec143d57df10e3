"""The command line: ``chequeverify [--workspace DIR] [--user NAME] COMMAND``.

A thin layer over :mod:`chequeverify.service` (and :mod:`chequeverify.training`
for ``train`` / ``evaluate``). Each group of commands lives in its own module
with a ``register(subparsers)`` function; every command is a function
``(args) -> int``. A :class:`~chequeverify.errors.ChequeVerifyError` becomes a
one-line message on stderr and the error's exit code; anything else is a
bug and is shown with its traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from chequeverify import __version__
from chequeverify.errors import ChequeVerifyError

log = logging.getLogger("chequeverify")

#: modules that contribute commands, in the order their help is listed
COMMAND_MODULES = ("engine", "cheques", "workspace", "app")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chequeverify",
        description="Verify handwritten signatures on scanned cheques.",
    )
    parser.add_argument("--version", action="version", version=f"chequeverify {__version__}")
    parser.add_argument(
        "--workspace",
        metavar="DIR",
        help="workspace folder (default: $CHEQUEVERIFY_WORKSPACE or the user's data directory)",
    )
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="user to act as (default: $CHEQUEVERIFY_USER); the password comes from "
        "$CHEQUEVERIFY_PASSWORD or a prompt",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    import importlib

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"chequeverify.cli.{name}")
        except ModuleNotFoundError as exc:  # a group not written yet
            if exc.name != f"chequeverify.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except ChequeVerifyError as exc:
        print(f"chequeverify: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("chequeverify: interrupted", file=sys.stderr)
        return 130


def gui_main() -> int:
    """Entry point of the desktop launcher (``chequeverify-gui``)."""
    return main(["gui", *sys.argv[1:]])
