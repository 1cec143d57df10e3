"""An explicit yes/no before a step that is hard to take back (paying a cheque against the model, looser thresholds).

One function, :func:`ask`, so that every such question looks the same:
the question in bold, the consequence under it, a button that names the
action, and *Cancel* as the default (Enter does not pay a cheque).
Tests replace ``confirm.ask`` (modules call it as ``confirm.ask(...)``).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def ask(parent: QWidget | None, title: str, question: str, consequence: str = "", *, action: str = "Yes") -> bool:
    """Ask ``question`` (with ``consequence`` under it); True only when the user clicks ``action``."""
    box = QMessageBox(parent)
    box.setObjectName("ConfirmDialog")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(f"<b>{html.escape(question, quote=False)}</b>")
    if consequence:
        box.setInformativeText(html.escape(consequence, quote=False).replace("\n", "<br>"))
    # the question on one line, the consequence wrapped under it
    box.setStyleSheet("QLabel#qt_msgbox_label, QLabel#qt_msgbox_informativelabel { min-width: 420px; }")
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is yes
