"""Entry point of the bundled desktop app (PyInstaller): the same as `chequeverify gui`."""

import sys

from chequeverify.cli import gui_main

if __name__ == "__main__":
    sys.exit(gui_main())
