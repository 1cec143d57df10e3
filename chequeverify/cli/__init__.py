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
import os
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
    _accept_global_options_after_commands(parser)
    return parser


def _accept_global_options_after_commands(parser: argparse.ArgumentParser) -> None:
    """Let ``--workspace`` and ``--user`` also follow the command (``chequeverify demo --workspace DIR``).

    Added to every sub-parser with a SUPPRESS default: an option not given after the
    command leaves the value given before it (or None) untouched. A command that
    already has the option (``gui``, for its launcher) keeps its own.
    """
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for sub in {id(p): p for p in action.choices.values()}.values():  # aliases share a parser
            known = sub._option_string_actions
            if "--workspace" not in known:
                sub.add_argument("--workspace", metavar="DIR", default=argparse.SUPPRESS,
                                 help="workspace folder (also accepted before the command)")  # fmt: skip
            if "--user" not in known:
                sub.add_argument("--user", metavar="NAME", default=argparse.SUPPRESS,
                                 help="user to act as (also accepted before the command)")  # fmt: skip
            _accept_global_options_after_commands(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status (141 when stdout was closed early, e.g. by ``| head``)."""
    try:
        code = _run(argv)
        sys.stdout.flush()  # inside the try: a reader gone before the last buffered line is not a crash
        return code
    except BrokenPipeError:
        _stdout_to_devnull()
        return 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away


def _stdout_to_devnull() -> None:
    """After a broken pipe, point stdout at /dev/null so that the interpreter's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout replaced (tests) or already closed
        pass


def _run(argv: Sequence[str] | None) -> int:
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
