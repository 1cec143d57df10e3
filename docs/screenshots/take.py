"""Take the README's screenshots of the desktop app on the demo workspace.

    .venv/bin/python docs/screenshots/take.py [--workspace DIR] [--rebuild]

Builds the demo workspace if needed (``chequeverify demo``), then, offscreen:

* ``main-window.png`` — ``chequeverify gui --demo --screenshot``: the clerk's
  window on a real-looking cheque (a CEDAR test writer's signature);
* ``registration.png`` — the registration window of a supervisor on a joint account;
* ``approvals.png`` — the second supervisor's pending approvals;
* ``audit.png`` — the audit view after the demo's history.

The pictures are saved with a 256-colour palette to keep the repository small.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SIZE = (1440, 900)


def shrink(path: Path) -> None:
    """Re-save with an adaptive 256-colour palette (UI pictures lose nothing visible)."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def dialogs(folder: Path, out: Path) -> None:
    """Registration, approvals and audit windows, grabbed once their data has loaded."""
    from PySide6.QtCore import QTimer

    from chequeverify.gui import app as gui_app
    from chequeverify.gui.audit import AuditDialog
    from chequeverify.gui.registration import RegistrationDialog
    from chequeverify.gui.workers import Runner
    from chequeverify.service import ROLE_RIGHTS, Workspace, demo

    passwords = {n: p for n, _, p in demo.DEMO_USERS}
    qapp = gui_app.application()
    runner = Runner()
    ws = Workspace.open(folder)
    sofia = ws.login("sofia", passwords["sofia"])
    marcus = ws.login("marcus", passwords["marcus"])
    settings = gui_app.open_settings()
    reg = RegistrationDialog(sofia, runner, ROLE_RIGHTS["supervisor"], settings, user_name="sofia")
    reg.resize(1180, 900)
    reg.show()
    reg.load_account("ACC-1002")
    checker = RegistrationDialog(marcus, runner, ROLE_RIGHTS["supervisor"], settings, user_name="marcus")
    checker.resize(1180, 520)
    checker.show()
    checker.show_tab("approvals")
    audit = AuditDialog(sofia, runner, settings)
    audit.resize(1280, 720)
    audit.show()
    steps = iter(["specimens", "check", "grab"])

    def tick() -> None:
        if runner.busy:
            QTimer.singleShot(100, tick)
            return
        step = next(steps, None)
        if step == "specimens":
            # new specimens for James Okafor: two good ones, a repeat of a reference, a blank page
            import numpy as np

            source = demo.signature_source()
            james = next(sig for sig in reg.detail.signatories if sig.name == "James Okafor")
            candidates = [source.genuine(47, 15), source.genuine(47, 16), source.genuine(47, 0),
                          np.full((160, 420), 255, np.uint8)]  # fmt: skip
            labels = ["signing 16", "signing 17", "signing 1, again", "blank page"]
            reg.add_references(james.id, candidates, labels=labels)
            QTimer.singleShot(200, tick)
            return
        if step == "check":
            audit.check_chain()
            QTimer.singleShot(200, tick)
            return
        for name, widget in (("registration", reg), ("approvals", checker), ("audit", audit)):
            path = out / f"{name}.png"
            widget.grab().save(str(path))
            shrink(path)
            print(f"saved {path}")
        qapp.quit()

    QTimer.singleShot(300, tick)
    qapp.exec()
    runner.wait(30_000)
    ws.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="demo workspace (default: a fresh one in a temporary folder)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the demo workspace first")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    from chequeverify.service import demo

    tmp = tempfile.TemporaryDirectory(prefix="cv-shots-")
    folder = args.workspace or Path(tmp.name) / "demo"
    env = dict(os.environ, CHEQUEVERIFY_GUI_SETTINGS=str(Path(tmp.name) / "gui.ini"))
    if args.rebuild or not demo.demo_exists(folder):
        demo.build_demo(folder, force=True, progress=print)
    cheque = demo.cheques_folder(folder) / "ACC-1002_0004.png"
    main_png = args.out / "main-window.png"
    cmd = [sys.executable, "-m", "chequeverify", "--workspace", str(folder), "gui", "--demo", str(cheque),
           str(demo.cheques_folder(folder)), "--screenshot", str(main_png), "--size", f"{SIZE[0]}x{SIZE[1]}"]  # fmt: skip
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    shrink(main_png)
    os.environ["CHEQUEVERIFY_GUI_SETTINGS"] = env["CHEQUEVERIFY_GUI_SETTINGS"]
    dialogs(folder, args.out)
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
