"""How fast the desktop app is usable, and how much memory it takes with the model loaded.

Builds a small workspace (an admin and a clerk), then starts the app in a
fresh process that signs in as the clerk by itself. Prints:

* ``start_s``: wall time from launching the process to the main window
  shown and painted after sign-in (Python start, imports, the sign-in
  window, the password check and the main window's first paint);
* ``rss_mb``: the process's resident memory once the signature model has
  loaded on its worker (the window is up and idle).

The last line is ``start_s=<float> rss_mb=<float>``. Targets: start_s ≤ 3,
rss_mb ≤ 800. Run: ``.venv/bin/python benchmarks/gui_start.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

USER, PASSWORD = "bench-clerk", "bench-clerk-pass"


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(folder: str) -> int:
    """The measured process: the real app, signing in by itself."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from chequeverify.gui import app as gui_app

    qapp = gui_app.application()
    state = {"ready": False}

    def on_ready(window) -> None:
        def painted() -> None:
            window.repaint()  # the first full paint, synchronously
            print(f"READY {time.time():.6f}", flush=True)
            state["ready"] = True
            wait_model()

        def wait_model() -> None:
            if window.model_id is None and window.model_error is None:
                QTimer.singleShot(50, wait_model)
                return
            print(f"MODEL {window.model_id or 'unavailable: ' + str(window.model_error)}", flush=True)
            print(f"RSS {rss_mb():.1f}", flush=True)
            window.close()
            qapp.quit()

        QTimer.singleShot(0, painted)

    desk = gui_app.DesktopApp(Path(folder), user=USER, password=PASSWORD, on_ready=on_ready)
    desk.screenshot = None
    desk.show_login()
    desk.login.auto_submit()
    QTimer.singleShot(120_000, qapp.quit)
    qapp.exec()
    desk.runner.wait(30_000)
    return 0 if state["ready"] else 1


def make_workspace(folder: Path) -> None:
    from chequeverify.service import Workspace

    ws = Workspace.open(folder)
    ws.init("bench-admin", "bench-admin-pass")
    admin = ws.login("bench-admin", "bench-admin-pass")
    admin.add_user(USER, "clerk", PASSWORD)
    ws.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="app starts to time (the best is reported)")
    parser.add_argument("--child", metavar="WORKSPACE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    starts, rss = [], []
    with tempfile.TemporaryDirectory(prefix="cv-gui-bench-") as tmp:
        folder = Path(tmp) / "workspace"
        make_workspace(folder)
        env["CHEQUEVERIFY_GUI_SETTINGS"] = str(Path(tmp) / "gui.ini")
        for run in range(args.runs):
            t0 = time.time()
            proc = subprocess.run([sys.executable, __file__, "--child", str(folder)], env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=300)  # fmt: skip
            lines = proc.stdout.splitlines()
            ready = [float(x.split()[1]) for x in lines if x.startswith("READY ")]
            mem = [float(x.split()[1]) for x in lines if x.startswith("RSS ")]
            model = [x[6:] for x in lines if x.startswith("MODEL ")]
            if proc.returncode != 0 or not ready:
                print(proc.stdout, proc.stderr, sep="\n", file=sys.stderr)
                print(f"run {run + 1}: the app did not come up", file=sys.stderr)
                return 1
            starts.append(ready[0] - t0)
            rss.extend(mem)
            print(f"run {run + 1}: usable after {starts[-1]:.2f} s, {mem[0] if mem else float('nan'):.0f} MB "
                  f"with model {model[0] if model else '?'}")  # fmt: skip
    start_s = min(starts)
    rss_mb_ = max(rss) if rss else float("nan")
    print(f"start_s={start_s:.2f} rss_mb={rss_mb_:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
