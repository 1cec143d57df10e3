"""Users (admins): who may sign in, with which role; add, enable, disable, set a password."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from chequeverify.gui import icons, theme
from chequeverify.gui.errors import ShowsJobErrors
from chequeverify.gui.workers import Runner
from chequeverify.service.passwords import MIN_PASSWORD_LENGTH

ROLES = ("clerk", "supervisor", "admin")
COLUMNS = ("User", "Role", "State", "Created (UTC)", "Created by")


def _password_edit(placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit


class PasswordDialog(QDialog):
    """A new password, typed twice; OK only when both are the same (the service checks its length)."""

    def __init__(self, user: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Set password — {user}")
        lay = QVBoxLayout(self)
        intro = QLabel(f"New password for <b>{user}</b> ({MIN_PASSWORD_LENGTH} characters or more). "
                       f"Tell it to {user} in person; "
                       "they can sign in with it at once.")  # fmt: skip
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.password = _password_edit("new password")
        self.confirm = _password_edit("the same password again")
        form.addRow("&Password", self.password)
        form.addRow("&Confirm", self.confirm)
        lay.addLayout(form)
        self.message = QLabel("")
        self.message.setObjectName("InlineError")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.addButton("Set password", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("Primary")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        for e in (self.password, self.confirm):
            e.textChanged.connect(self._check)
        self._check()
        self.setMinimumWidth(380)

    def _check(self) -> None:
        a, b = self.password.text(), self.confirm.text()
        same = bool(a) and a == b
        self.ok.setEnabled(same)
        self.message.setText("The two passwords differ." if b and a != b else "")

    def value(self) -> str:
        return self.password.text()


class UsersDialog(ShowsJobErrors, QDialog):
    """``loaded`` after the list is (re)filled."""

    loaded = Signal()

    def __init__(self, session, runner: Runner, parent: QWidget | None = None, *, user_name: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Users — chequeverify")
        self.setWindowIcon(icons.app_icon())
        self.session = session
        self.runner = runner
        self.user_name = user_name
        self.users: list = []
        self.last_error: BaseException | None = None
        self.resize(720, 480)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 14, 14, 12)
        intro = QLabel("Clerks verify and decide; supervisors also register accounts, approve changes and set "
                       "thresholds; admins manage users and read the audit log. Five failed sign-ins in a row "
                       "disable a user until an admin enables it again.")  # fmt: skip
        intro.setObjectName("Muted")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        #: what the last action did (green) or why it could not (red)
        self.status = QLabel("")
        self.status.setObjectName("UsersStatus")
        self.status.setWordWrap(True)
        self.status.setVisible(False)
        lay.addWidget(self.status)
        self.password_dialog: PasswordDialog | None = None
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.toggle_button = QPushButton("Disable")
        self.toggle_button.clicked.connect(self.toggle_active)
        self.password_button = QPushButton("Set password…")
        self.password_button.clicked.connect(self.set_password)
        row.addWidget(self.toggle_button)
        row.addWidget(self.password_button)
        row.addStretch(1)
        lay.addLayout(row)
        add = QHBoxLayout()
        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText("New user's name")
        self.new_role = QComboBox()
        self.new_role.addItems(ROLES)
        self.new_password = _password_edit(f"Password ({MIN_PASSWORD_LENGTH} characters or more)")
        self.new_confirm = _password_edit("The same password again")
        self.new_confirm.returnPressed.connect(self.add_user)
        self.add_button = QPushButton("Add user")
        self.add_button.setObjectName("Primary")
        self.add_button.clicked.connect(self.add_user)
        add.addWidget(self.new_name, 2)
        add.addWidget(self.new_role)
        add.addWidget(self.new_password, 2)
        add.addWidget(self.new_confirm, 2)
        add.addWidget(self.add_button)
        lay.addLayout(add)
        self._update_buttons()
        self.refresh()

    def refresh(self) -> None:
        self._submit(lambda s: s.list_users(), self.session, name="users", on_done=self._fill)

    def _fill(self, users) -> None:
        self.users = list(users)
        self.model.setRowCount(0)
        for u in self.users:
            cells = [QStandardItem(u.name), QStandardItem(u.role),
                     QStandardItem("active" if u.active else "disabled"), QStandardItem(theme.when(u.created_at)),
                     QStandardItem(u.created_by or "")]  # fmt: skip
            if not u.active:
                cells[2].setForeground(QColor(theme.REJECT))
            self.model.appendRow(cells)
        self.table.resizeColumnsToContents()
        self._update_buttons()
        self.loaded.emit()

    def selected(self):
        index = self.table.currentIndex()
        return self.users[index.row()] if index.isValid() and index.row() < len(self.users) else None

    def _update_buttons(self) -> None:
        u = self.selected()
        mine = u is not None and u.name.lower() == self.user_name.lower()
        self.toggle_button.setEnabled(u is not None and not mine)
        self.toggle_button.setText("Enable" if u is not None and not u.active else "Disable")
        self.password_button.setEnabled(u is not None)

    def show_status(self, text: str, ok: bool = True) -> None:
        self.status.setText(("✓  " if ok else "") + text)
        colour, state = (theme.ACCEPT, "accepted") if ok else (theme.REJECT, "rejected")
        self.status.setStyleSheet(f"background: {theme.TINTS[state]}; color: {colour}; font-weight: 600; "
                                  "border-radius: 6px; padding: 6px 8px;")  # fmt: skip
        self.status.setVisible(True)

    def add_user(self) -> None:
        name, role, password = self.new_name.text().strip(), self.new_role.currentText(), self.new_password.text()
        if password != self.new_confirm.text():
            self.show_status("The two passwords differ: type the new user's password twice, the same.", ok=False)
            self.new_confirm.selectAll()
            self.new_confirm.setFocus()
            return
        self._submit(lambda s: s.add_user(name, role, password), self.session, name="users-write",
                     on_done=self._added)  # fmt: skip

    def _added(self, user) -> None:
        self.new_name.clear()
        self.new_password.clear()
        self.new_confirm.clear()
        self.show_status(f"User {user.name} added as {user.role}: they can sign in now.")
        self.refresh()

    def toggle_active(self) -> None:
        u = self.selected()
        if u is not None:
            self._submit(lambda s: s.set_user_active(u.name, not u.active), self.session, name="users-write",
                         on_done=self._toggled)  # fmt: skip

    def _toggled(self, user) -> None:
        self.show_status(f"User {user.name} {'enabled' if user.active else 'disabled'}.")
        self.refresh()

    def set_password(self) -> None:
        """Ask for the new password twice (non-blocking dialog), then set it."""
        u = self.selected()
        if u is None:
            return
        dlg = PasswordDialog(u.name, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: self._set_password(u.name, dlg.value()))
        self.password_dialog = dlg
        dlg.open()

    def _set_password(self, name: str, password: str) -> None:
        self.password_dialog = None
        self._submit(lambda s: s.set_password(name, password), self.session, name="users-write",
                     on_done=lambda _r: self._password_set(name))  # fmt: skip

    def _password_set(self, name: str) -> None:
        self.show_status(f"Password of {name} set: they sign in with it from now on.")
        self.refresh()

    def _failed(self, exc: BaseException, details: str) -> None:
        self.status.setVisible(False)
        super()._failed(exc, details)
