"""Sign-in at start (and first run: create the workspace's first administrator).

Opening the workspace and checking the password (scrypt, ~0.1 s) run on
the runner's pool; the dialog stays responsive and shows a wrong password
inline, without a pop-up, so the clerk simply types again.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from chequeverify.errors import ChequeVerifyError
from chequeverify.gui import icons, theme
from chequeverify.gui.workers import Runner
from chequeverify.service import Workspace


def _open_workspace(folder: Path) -> tuple[Workspace, bool]:
    ws = Workspace.open(folder)
    return ws, ws.initialised


def _first_admin(ws: Workspace, name: str, password: str):
    ws.init(name, password)
    return ws.login(name, password)


class LoginDialog(QDialog):
    """``session`` holds the logged-in :class:`Session` once ``accepted``.

    ``hint``: a line under the title (the demo lists its users there).
    """

    workspaceOpened = Signal(object)

    def __init__(self, folder: Path, runner: Runner, parent: QWidget | None = None, *, user: str = "",
                 password: str = "", hint: str = "", workspace: Workspace | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setWindowTitle("Sign in — chequeverify")
        self.setWindowIcon(icons.app_icon())
        self.setModal(True)
        self.setFixedWidth(460)
        self.folder = Path(folder)
        self.runner = runner
        self.workspace: Workspace | None = workspace
        self.session = None
        self._first_run = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 24, 28, 22)
        outer.setSpacing(14)
        head = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(icons.app_icon().pixmap(44, 44))
        head.addWidget(logo)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        title = QLabel("chequeverify")
        title.setFont(theme.font(6, bold=True))
        self.subtitle = QLabel("Signature verification for cheques")
        self.subtitle.setObjectName("Muted")
        titles.addWidget(title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles)
        head.addStretch(1)
        outer.addLayout(head)

        self.hint = QLabel(hint)
        self.hint.setWordWrap(True)
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint.setStyleSheet(
            f"background: {theme.SELECTION}; border-radius: 6px; padding: 8px 10px; color: {theme.INK};"
        )
        self.hint.setVisible(bool(hint))
        outer.addWidget(self.hint)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        self.user = QLineEdit(user)
        self.user.setPlaceholderText("user name")
        self.user.setAccessibleName("User name")
        self.password = QLineEdit(password)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("password")
        self.password.setAccessibleName("Password")
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm.setPlaceholderText("the same password again")
        self.confirm.setAccessibleName("Confirm password")
        form.addRow("&User", self.user)
        form.addRow("&Password", self.password)
        form.addRow("&Confirm", self.confirm)
        self._confirm_label = form.labelForField(self.confirm)
        outer.addLayout(form)

        self.message = QLabel("")
        self.message.setObjectName("InlineError")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        outer.addWidget(self.message)

        where = QLabel(f"Workspace: {self.folder}")
        where.setObjectName("Faint")
        where.setFont(theme.font(-1.5))
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(where)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel = QPushButton("Quit")
        self.cancel.clicked.connect(self.reject)
        self.ok = QPushButton("Sign in")
        self.ok.setObjectName("Primary")
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.submit)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.ok)
        outer.addLayout(buttons)
        self._set_first_run(False)
        self._set_busy(True, "Opening the workspace…")
        if self.workspace is None:
            runner.submit(_open_workspace, self.folder, name="open-workspace", on_done=self._opened,
                          on_error=self._failed)  # fmt: skip
        else:
            runner.submit(lambda ws: (ws, ws.initialised), self.workspace, name="open-workspace",
                          on_done=self._opened, on_error=self._failed)  # fmt: skip

    # --- states -------------------------------------------------------------------------
    def _set_first_run(self, first: bool) -> None:
        self._first_run = first
        self.confirm.setVisible(first)
        self._confirm_label.setVisible(first)
        if first:
            self.subtitle.setText("New workspace: create its first administrator")
            self.ok.setText("Create and sign in")
            self.message.setObjectName("Muted")
            self.message.setText(
                "This workspace has no users yet. Choose the administrator's name and a password "
                "(at least 8 characters). The administrator then adds supervisors and clerks; "
                "supervisors register accounts and their specimen signatures."
            )
            self.message.setStyleSheet(f"color: {theme.MUTED};")
        else:
            self.subtitle.setText("Signature verification for cheques")
            self.ok.setText("Sign in")

    def _set_busy(self, busy: bool, text: str = "") -> None:
        for w in (self.user, self.password, self.confirm, self.ok):
            w.setEnabled(not busy)
        if busy:
            self.message.setStyleSheet(f"color: {theme.MUTED};")
            self.message.setText(text)

    def _error(self, text: str, hint: str | None = None) -> None:
        """The failure in red, and what to do about it under it, both wrapped in full (the dialog grows to fit)."""
        self.message.setStyleSheet(f"color: {theme.REJECT};")
        body = html.escape(text, quote=False)
        if hint:
            body += f"<br><span style='color:{theme.MUTED}'>{html.escape(hint, quote=False)}</span>"
        self.message.setText(body)
        self._fit()

    def _fit(self) -> None:
        """Let the (fixed-width) dialog take the height its wrapped message needs."""
        self.layout().activate()
        self.adjustSize()

    # --- flow -----------------------------------------------------------------------------
    def _opened(self, result) -> None:
        self.workspace, initialised = result
        self.workspaceOpened.emit(self.workspace)
        self._set_busy(False)
        self._set_first_run(not initialised)
        if initialised:
            self.message.setText("")
        self.adjustSize()
        (self.password if self.user.text() else self.user).setFocus()
        if self.user.text() and self.password.text() and initialised and getattr(self, "_auto", False):
            self.submit()

    def auto_submit(self) -> None:
        """Sign in as soon as the workspace is open (``--screenshot`` with credentials from the environment)."""
        self._auto = True
        if self.workspace is not None and self.ok.isEnabled():
            self.submit()

    def submit(self) -> None:
        if self.workspace is None:
            return
        name, password = self.user.text().strip(), self.password.text()
        if not name:
            self._error("Type your user name.")
            self.user.setFocus()
            return
        if self._first_run:
            if password != self.confirm.text():
                self._error("The two passwords differ.")
                self.confirm.setFocus()
                return
            self._set_busy(True, "Creating the administrator…")
            self.runner.submit(_first_admin, self.workspace, name, password, name="login",
                               on_done=self._signed_in, on_error=self._failed)  # fmt: skip
        else:
            self._set_busy(True, "Checking…")
            self.runner.submit(self.workspace.login, name, password, name="login",
                               on_done=self._signed_in, on_error=self._failed)  # fmt: skip

    def _signed_in(self, session) -> None:
        self.session = session
        self.accept()

    def _failed(self, exc: BaseException, details: str) -> None:
        self._set_busy(False)
        if isinstance(exc, ChequeVerifyError):
            self._error(exc.message, exc.hint)
            self.password.selectAll()
            self.password.setFocus()
        else:
            from chequeverify.gui.errors import show_error

            self._error("Unexpected error; see the details.")
            show_error(self, exc, details)
