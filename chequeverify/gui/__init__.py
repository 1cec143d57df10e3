"""gui layer (see DESIGN.md): the desktop app, the only place PySide6 is imported.

Importing it first guards the interpreter against a PySide6 reference-count
bug on Python 3.11 (see :mod:`chequeverify.gui.refcounts`).
"""

from chequeverify.gui.refcounts import guard as _guard

_guard()
