"""Users (admins): who may sign in, with which role; add, enable, disable, set a password."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
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

ROLES = ("clerk", "supervisor", "admin")
COLUMNS = ("User", "Role", "State", "Created (UTC)", "Created by")


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
        self.new_password = QLineEdit()
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_password.setPlaceholderText("Password (8 characters or more)")
        self.add_button = QPushButton("Add user")
        self.add_button.setObjectName("Primary")
        self.add_button.clicked.connect(self.add_user)
        add.addWidget(self.new_name, 2)
        add.addWidget(self.new_role)
        add.addWidget(self.new_password, 2)
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

    def add_user(self) -> None:
        name, role, password = self.new_name.text().strip(), self.new_role.currentText(), self.new_password.text()
        self._submit(lambda s: s.add_user(name, role, password), self.session, name="users-write",
                     on_done=self._added)  # fmt: skip

    def _added(self, _user) -> None:
        self.new_name.clear()
        self.new_password.clear()
        self.refresh()

    def toggle_active(self) -> None:
        u = self.selected()
        if u is not None:
            self._submit(lambda s: s.set_user_active(u.name, not u.active), self.session, name="users-write",
                         on_done=lambda _u: self.refresh())  # fmt: skip

    def set_password(self) -> None:
        u = self.selected()
        if u is None:
            return
        password, ok = QInputDialog.getText(self, "Set password", f"New password for {u.name}:",
                                            QLineEdit.EchoMode.Password)  # fmt: skip
        if ok:
            self._submit(lambda s: s.set_password(u.name, password), self.session, name="users-write",
                         on_done=lambda _r: self.refresh())  # fmt: skip

