"""Render the app icon (drawn in code by chequeverify.gui.icons) for packaging.

Writes packaging/build-icons/: chequeverify-<size>.png for the usual sizes and,
with Pillow, chequeverify.ico (Windows) — the desktop entry and PyInstaller use them.
Run: .venv/bin/python packaging/render_icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    from chequeverify.gui.icons import render_app_icon

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - painting needs an application
    out = ROOT / "packaging" / "build-icons"
    out.mkdir(exist_ok=True)
    paths = []
    for size in SIZES:
        path = out / f"chequeverify-{size}.png"
        if not render_app_icon(size).save(str(path)):
            print(f"cannot write {path}", file=sys.stderr)
            return 1
        paths.append(path)
    try:
        from PIL import Image

        with Image.open(out / "chequeverify-256.png") as im:
            im.save(out / "chequeverify.ico", sizes=[(s, s) for s in SIZES if s <= 256])
    except ImportError:
        pass
    print(f"icons in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
