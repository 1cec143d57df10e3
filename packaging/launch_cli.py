"""Entry point of the bundled command line (PyInstaller): the same as `chequeverify`."""

import sys

from chequeverify.cli import main

if __name__ == "__main__":
    sys.exit(main())
