"""The desktop app's commands: ``gui`` (open the app) and ``demo`` (build the demo workspace).

Qt is imported only when ``gui`` runs, so the other commands start fast
and work on machines without a display.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
from pathlib import Path

from chequeverify.errors import InvalidInput


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[x×]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError("a size is WIDTHxHEIGHT, e.g. 1440x900")
    return int(m.group(1)), int(m.group(2))


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "gui",
        help="open the desktop app",
        description="Open the desktop app (sign in, then verify cheques). FILES (scans or folders) are queued "
        "at once. With --screenshot, sign in with $CHEQUEVERIFY_USER / $CHEQUEVERIFY_PASSWORD, process FILES, "
        "select the first, save a picture of the main window to PNG and exit.",
    )
    p.add_argument("files", nargs="*", metavar="FILES", help="cheque scans or folders of scans to queue")
    p.add_argument("--demo", action="store_true", help="open the demo workspace (see `chequeverify demo`) and its cheques")
    p.add_argument("--account", metavar="NUMBER", help="the account of every cheque given (else taken from file names)")
    p.add_argument("--screenshot", metavar="PNG", type=Path, help="save the main window to PNG and exit")
    p.add_argument("--size", metavar="WxH", type=_size, help="window size, e.g. 1440x900 (for screenshots)")
    # the launcher (`chequeverify-gui ...` = `chequeverify gui ...`) puts every option after `gui`
    p.add_argument("--workspace", dest="gui_workspace", metavar="DIR", help=argparse.SUPPRESS)
    p.add_argument("--user", dest="gui_user", metavar="NAME", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_gui)

    p = subparsers.add_parser(
        "demo",
        help="create a demo workspace with users, accounts, references and cheques",
        description="Create a demo workspace (default: the user's data directory, or --workspace DIR) built "
        "through the service's own use cases: users, accounts with signatories and approved references, a "
        "folder of cheques and a little history. Signatures are CEDAR test writers when ../shared/data "
        "exists, else synthetic. Prints the demo users' names and passwords.",
    )
    p.add_argument("--if-missing", action="store_true", help="do nothing when a demo workspace already exists")
    p.add_argument("--force", action="store_true", help="rebuild an existing demo workspace")
    p.set_defaults(func=cmd_demo)


def _demo_folder(args) -> Path:
    from chequeverify.service import demo

    return Path(args.workspace).expanduser() if getattr(args, "workspace", None) else demo.default_demo_folder()


def cmd_demo(args) -> int:
    from chequeverify.service import demo

    folder = _demo_folder(args)
    force = args.force
    if args.if_missing and demo.demo_exists(folder):
        from chequeverify.model import default_model_path
        from chequeverify.model.checkpoint import read_card

        current = read_card(default_model_path()).model_id
        built_with = demo.demo_model(folder)
        if built_with == current:
            print(f"Demo workspace already in {folder} (use --force to rebuild it).")
            _print_users(demo)
            return 0
        # its references were embedded by another model: nothing would verify
        print(f"The demo in {folder} was built with model {built_with or 'of an earlier version'}; "
              f"rebuilding it for {current}.")
        force = True
    print(f"Building the demo workspace in {folder} …")
    summary = demo.build_demo(folder, force=force, progress=lambda text: print(f"  {text}"))
    print(f"Done in {summary.seconds:.1f} s: {summary.accounts} accounts, {summary.references} references, "
          f"{summary.cheques} cheques in {summary.cheques_dir}, {summary.history} verified in the history.")  # fmt: skip
    _print_users(demo)
    where = f" --workspace {shlex.quote(str(folder))}" if args.workspace else ""  # pasted into a shell as is
    print(f"\nOpen it with:  chequeverify gui --demo{where}")
    return 0


def _print_users(demo) -> None:
    print("\nDemo users (name / role / password):")
    for name, role, password in demo.DEMO_USERS:
        print(f"  {name:<8} {role:<11} {password}")


def cmd_gui(args) -> int:
    args.workspace = getattr(args, "gui_workspace", None) or args.workspace
    args.user = getattr(args, "gui_user", None) or args.user
    try:
        from chequeverify.gui import app
    except ImportError as exc:  # PySide6 missing or no Qt platform libraries
        raise InvalidInput(f"The desktop app cannot start: {exc}.",
                           hint="Install the app's dependencies (`make install`).") from exc  # fmt: skip
    from chequeverify.service import demo

    files = [Path(f).expanduser() for f in args.files]
    user = args.user or os.environ.get("CHEQUEVERIFY_USER", "")
    password = os.environ.get("CHEQUEVERIFY_PASSWORD", "") if (args.screenshot or user) else ""
    hint = ""
    if args.demo:
        folder = _demo_folder(args)
        if not demo.demo_exists(folder):
            raise InvalidInput(f"There is no demo workspace in {folder}.", hint="Run `chequeverify demo` first.")
        if not files:
            files = [demo.cheques_folder(folder)]
        user = user or demo.DEMO_DEFAULT_USER
        hint = demo.login_hint()
        if not password:  # demo credentials are public: the one-command demo needs no typing
            password = {n: p for n, _, p in demo.DEMO_USERS}.get(user, "")
    else:
        folder = Path(args.workspace).expanduser() if args.workspace else app.default_folder()
    if args.screenshot and not (user and password):
        raise InvalidInput("--screenshot signs in by itself.",
                           hint="Set $CHEQUEVERIFY_USER and $CHEQUEVERIFY_PASSWORD.")  # fmt: skip
    return app.run(folder, files=files, account=args.account, user=user, password=password, hint=hint,
                   screenshot=args.screenshot, size=args.size)  # fmt: skip

