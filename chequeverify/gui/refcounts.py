"""A guard against a PySide6 bug that crashes the interpreter on Python 3.11.

PySide6 6.12 returns ``None`` from every void method (``setText``,
``update``, ``processEvents``, ``QThreadPool.start`` …) and ``True`` from
``Signal.emit`` *without* taking a reference, as if they were immortal —
which they are from Python 3.12 on (PEP 683), but not on 3.11, where each
call takes one reference away. ``None`` starts with a few thousand, so a
clerk's session (or a test run) ends, minutes in, with ``Fatal Python
error: none_dealloc`` / ``bool_dealloc``.

:func:`guard` checks for the bug with a few harmless calls and, when it is
there, makes these singletons immortal the way 3.12 does: it gives them a
reference count so large that no session can use it up (they are static
objects; CPython never frees them). It does nothing on Python 3.12+, on a
PySide6 without the bug, or on another interpreter.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

#: references added to each singleton: 2**40 void calls is centuries of clicking
HEADROOM = 1 << 40
_SINGLETONS = (None, True, False, Ellipsis, NotImplemented)
_applied = False


def _bug_present() -> bool:
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(16):
        probe.setObjectName("")  # a void method
    return sys.getrefcount(None) < before


def guard() -> bool:
    """Protect None/True/False from PySide's missing references; True when the guard is (now) on."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not _bug_present():
        return False
    for obj in _SINGLETONS:
        # ob_refcnt is the first field of every CPython object (Py_ssize_t); the GIL is held here
        ctypes.c_ssize_t.from_address(id(obj)).value += HEADROOM
    _applied = True
    log.info("PySide6 drops references to None/True/False on this Python: made them immortal (PEP 683 style)")
    return True
