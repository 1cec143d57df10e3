"""gui layer (see DESIGN.md): the desktop app, the only place PySide6 is imported.

PySide6 is pinned below 6.12 in pyproject.toml: 6.12.0 takes a reference
from ``None`` on every void call and from ``True`` on every signal emit on
Python 3.11, which ends a session with "Fatal Python error: none_dealloc"
(tests/test_gui_main.py checks the installed version does not).
"""
