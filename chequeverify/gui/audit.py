"""Audit (supervisors and admins): decisions and events with filters, exports, the audit-chain check."""

from __future__ import annotations

import json
import math
from pathlib import Path

from PySide6.QtCore import QDate, QEvent, QObject, QSettings, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from chequeverify.gui import icons, theme
from chequeverify.gui.errors import ShowsJobErrors
from chequeverify.gui.workers import Runner
from chequeverify.service import AUDIT_EVENT_KINDS

DECISION_COLUMNS = ("Cheque", "Verified (UTC)", "Account", "File", "Score", "Model", "Clerk", "Status", "Verified by",
                    "Decided by", "Reason")  # fmt: skip
EVENT_COLUMNS = ("#", "When (UTC)", "User", "Event", "Account", "Subject", "Details")


class _OpenAtToday(QObject):
    """While a date edit shows "any" (its minimum date), its calendar opens at today's month, not January 2000."""

    def __init__(self, edit: QDateEdit) -> None:
        super().__init__(edit)
        self.edit = edit

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Show and self.edit.date() == self.edit.minimumDate():
            today = QDate.currentDate()
            obj.setCurrentPage(today.year(), today.month())
        return False


def _date_edit() -> QDateEdit:
    d = QDateEdit()
    d.setCalendarPopup(True)
    d.setDisplayFormat("yyyy-MM-dd")
    d.setMinimumDate(QDate(2000, 1, 1))
    d.setSpecialValueText("any")
    d.setDate(d.minimumDate())
    d.setMinimumWidth(110)
    d.calendarWidget().installEventFilter(_OpenAtToday(d))
    return d


def _date_value(d: QDateEdit) -> str | None:
    return None if d.date() == d.minimumDate() else d.date().toString("yyyy-MM-dd")


def _when(text: str | None) -> str:
    return theme.when(text)


def _item(text, *, align_right: bool = False, colour: str | None = None, sort=None, tip: str = "") -> QStandardItem:
    it = QStandardItem("" if text is None else str(text))
    it.setEditable(False)
    if tip:
        it.setToolTip(tip)
    if align_right:
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if colour:
        it.setForeground(QColor(colour))
    if sort is not None:
        it.setData(sort, Qt.ItemDataRole.UserRole)
    return it


def _load(session, which: str, filters: dict):
    if which == "decisions":
        decision = filters.pop("decision", None)
        rows = session.list_cheques(limit=5000, **filters)
        if decision:
            rows = [r for r in rows if str(r.final_decision or r.model_decision) == decision]
        return rows
    return session.audit_events(limit=5000, **filters)


class AuditDialog(ShowsJobErrors, QDialog):
    """``loaded`` after a table is filled (tests wait on it)."""

    loaded = Signal(str)

    def __init__(self, session, runner: Runner, settings: QSettings, parent: QWidget | None = None, *,
                 rights: frozenset | None = None) -> None:  # fmt: skip
        """``rights``: the user's (else asked of the session): without ``history`` (an admin) there is no Decisions tab."""
        super().__init__(parent)
        # admins audit events and export reports; verified cheques and their decisions are not theirs to see
        self.shows_decisions = ("history" in rights) if rights is not None else bool(session.can("history"))
        self.setWindowTitle("Audit — chequeverify")
        self.setWindowIcon(icons.app_icon())
        self.session = session
        self.runner = runner
        self.settings = settings
        self.resize(1180, 700)
        geo = settings.value("audit/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.setSpacing(10)

        # filters shared by both tabs
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.since = _date_edit()
        self.until = _date_edit()
        self.account = QLineEdit()
        self.account.setPlaceholderText("Account")
        self.account.setClearButtonEnabled(True)
        self.account.setMaximumWidth(150)
        self.user = QLineEdit()
        self.user.setPlaceholderText("User")
        self.user.setClearButtonEnabled(True)
        self.user.setMaximumWidth(120)
        self.decision = QComboBox()
        self.decision.addItems(["any decision", "ACCEPT", "REFER", "REJECT"])
        self.kind = QComboBox()
        self.kind.addItems(["any event", *AUDIT_EVENT_KINDS])
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("Primary")
        self.apply_button.clicked.connect(self.refresh)
        for w in (self.account, self.user):
            w.returnPressed.connect(self.refresh)
        for label, w in (("From", self.since), ("to", self.until)):
            t = QLabel(label)
            t.setObjectName("Muted")
            bar.addWidget(t)
            bar.addWidget(w)
        bar.addSpacing(8)
        bar.addWidget(self.account)
        bar.addWidget(self.user)
        bar.addWidget(self.decision)
        bar.addWidget(self.kind)
        bar.addWidget(self.apply_button)
        bar.addStretch(1)
        lay.addLayout(bar)

        self.tabs = QTabWidget()
        self.decisions_model = QStandardItemModel(0, len(DECISION_COLUMNS), self)
        self.decisions_model.setHorizontalHeaderLabels(list(DECISION_COLUMNS))
        self.events_model = QStandardItemModel(0, len(EVENT_COLUMNS), self)
        self.events_model.setHorizontalHeaderLabels(list(EVENT_COLUMNS))
        self.decisions_view = self._table(self.decisions_model)
        self.events_view = self._table(self.events_model)
        dh = self.decisions_view.horizontalHeader()
        dh.setSectionResizeMode(len(DECISION_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        dh.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)  # the file: long names are elided
        dh.resizeSection(3, 170)
        self.decisions_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.events_view.horizontalHeader().setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        if self.shows_decisions:
            self.tabs.addTab(self.decisions_view, "Decisions")
        else:
            self.decisions_view.hide()
            self.decision.hide()
            self.role_note = QLabel("You see the audit log's events and can export the audit reports. Verified "
                                    "cheques and the decisions on them are shown to supervisors only.")  # fmt: skip
            self.role_note.setObjectName("Muted")
            self.role_note.setWordWrap(True)
            lay.addWidget(self.role_note)
        self.tabs.addTab(self.events_view, "Events")
        self.tabs.currentChanged.connect(self._tab_changed)
        lay.addWidget(self.tabs, 1)

        foot = QHBoxLayout()
        self.check_button = QPushButton(icons.icon("approve"), "Check the audit chain")
        self.check_button.clicked.connect(self.check_chain)
        self.chain = QLabel("The audit log is hash-chained: any altered, inserted or removed row breaks the chain.")
        self.chain.setObjectName("Muted")
        self.chain.setWordWrap(True)
        self.chain.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # to copy the head anchor
        self.count = QLabel("")
        self.count.setObjectName("Muted")
        self.csv_button = QPushButton("Export CSV…")
        self.pdf_button = QPushButton("Export PDF…")
        self.csv_button.clicked.connect(lambda: self.export("csv"))
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        self.csv_button.setToolTip("One row per verified cheque, with the filters' dates and account")
        self.pdf_button.setToolTip("The same report with the signatures, for auditors")
        foot.addWidget(self.check_button)
        foot.addWidget(self.chain, 1)
        foot.addWidget(self.count)
        foot.addWidget(self.csv_button)
        foot.addWidget(self.pdf_button)
        lay.addLayout(foot)
        self.last_export = None
        self.last_check = None
        self.last_error: BaseException | None = None
        self._tab_changed(self.tabs.currentIndex())
        (self.decisions_view if self.shows_decisions else self.events_view).setFocus()
        self.refresh()

    def _table(self, model: QStandardItemModel) -> QTableView:
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(model)
        proxy.setSortRole(Qt.ItemDataRole.UserRole)
        view = QTableView()
        view.setModel(proxy)
        view.setSortingEnabled(True)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setAlternatingRowColors(True)
        view.setShowGrid(False)
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(26)
        view.setWordWrap(False)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        return view

    def _on_decisions(self) -> bool:
        return self.tabs.currentWidget() is self.decisions_view

    def _tab_changed(self, _index: int) -> None:
        self.decision.setVisible(self._on_decisions())
        self.kind.setVisible(not self._on_decisions())
        self._update_count()

    def _filters(self, which: str) -> dict:
        f = {"since": _date_value(self.since), "until": _date_value(self.until),
             "account": self.account.text().strip() or None, "user": self.user.text().strip() or None}  # fmt: skip
        if which == "decisions":
            if self.decision.currentIndex() > 0:
                f["decision"] = self.decision.currentText()
        elif self.kind.currentIndex() > 0:
            f["kind"] = self.kind.currentText()
        return f

    def refresh(self) -> None:
        for which in (("decisions", "events") if self.shows_decisions else ("events",)):
            self._submit(_load, self.session, which, self._filters(which), name=f"audit-{which}",
                               on_done=lambda rows, w=which: self._fill(w, rows))  # fmt: skip

    def _fill(self, which: str, rows) -> None:
        if which == "decisions":
            m = self.decisions_model
            m.setRowCount(0)
            for r in rows:
                final = str(r.final_decision) if r.final_decision else ""
                model = str(r.model_decision)
                m.appendRow([
                    _item(r.cheque_id, align_right=True, sort=r.cheque_id),
                    _item(_when(r.verified_at), sort=r.verified_at),
                    _item(r.account, sort=r.account, tip=r.holder), _item(r.file_name or "", sort=r.file_name or ""),
                    _item(f"{r.score:.3f}" if math.isfinite(r.score) else "—", align_right=True,
                          sort=r.score if math.isfinite(r.score) else -1e9),
                    _item(model, colour=theme.decision_colour(model).name(), sort=model),
                    _item(final, colour=theme.decision_colour(final).name() if final else None, sort=final),
                    _item(r.decision_status.replace("_", " "), sort=r.decision_status),
                    _item(r.verified_by, sort=r.verified_by), _item(r.decided_by or "", sort=r.decided_by or ""),
                    _item(r.reason or "", sort=r.reason or ""),
                ])  # fmt: skip
        else:
            m = self.events_model
            m.setRowCount(0)
            for e in rows:
                details = json.dumps(e.details, ensure_ascii=False, separators=(", ", ": ")) if e.details else ""
                colour = theme.REJECT if e.kind in ("permission_denied", "login_failed") else None
                m.appendRow([
                    _item(e.seq, align_right=True, sort=e.seq), _item(_when(e.at), sort=e.at),
                    _item(e.user or "", sort=e.user or ""), _item(e.kind, colour=colour, sort=e.kind),
                    _item(e.account or "", sort=e.account or ""), _item(e.subject or "", sort=e.subject or ""),
                    _item(details[:400], sort=details),
                ])  # fmt: skip
        self._update_count()
        self.loaded.emit(which)

    def _update_count(self) -> None:
        n = (self.decisions_model if self._on_decisions() else self.events_model).rowCount()
        self.count.setText(f"{n} row{'s' if n != 1 else ''}   ")

    # --- exports and the chain --------------------------------------------------------
    def export(self, fmt: str, path: Path | None = None) -> None:
        """Write the report (with the current dates and account filters); ``path`` skips the file dialog."""
        if path is None:
            start = str(self.settings.value("audit/last_dir", str(Path.home())))
            name, _ = QFileDialog.getSaveFileName(self, f"Export the audit report ({fmt.upper()})",
                                                  str(Path(start) / f"audit-report.{fmt}"),
                                                  f"{fmt.upper()} (*.{fmt})")  # fmt: skip
            if not name:
                return
            path = Path(name)
            if path.suffix.lower() != f".{fmt}":
                path = path.with_suffix(f".{fmt}")
            self.settings.setValue("audit/last_dir", str(path.parent))
        f = self._filters("decisions")
        self._submit(lambda s: s.export(path, format=fmt, since=f["since"], until=f["until"], account=f["account"]),
                           self.session, name="audit-export", on_done=self._exported)  # fmt: skip

    def _exported(self, summary) -> None:
        self.last_export = summary
        head = f"\nhead {summary.anchor}  (the audit log's head as of this report)" if summary.anchor else ""
        self.chain.setText(f"Exported {summary.cheques} cheque{'s' if summary.cheques != 1 else ''} to "
                           f"{summary.path} ({summary.format.upper()}).{head}")  # fmt: skip
        self.chain.setStyleSheet(f"color: {theme.INK};")
        self.loaded.emit("export")
        self.refresh()

    def check_chain(self) -> None:
        self.chain.setText("Checking…")
        self._submit(lambda s: s.check_audit(), self.session, name="audit-check", on_done=self._checked)

    def _checked(self, check) -> None:
        self.last_check = check
        unaccounted = getattr(check, "unaccounted", ())
        if check.ok and unaccounted:
            shown = "\n".join(f"• {u}" for u in unaccounted[:8])
            more = f"\n… and {len(unaccounted) - 8} more" if len(unaccounted) > 8 else ""
            self.chain.setText(f"✗  The audit chain is intact, but {len(unaccounted)} thing(s) in the workspace are "
                               f"not what its events recorded (edited in the database directly?):\n{shown}{more}")  # fmt: skip
            self.chain.setStyleSheet(f"color: {theme.REJECT}; font-weight: 600;")
        elif check.ok:
            head = (f"\nhead {check.anchor}  (an anchor: keep it outside the workspace, e.g. on the day's "
                    "filed report; `chequeverify audit verify --anchor` checks it later)") if check.anchor else ""
            self.chain.setText(f"✓  The audit chain verifies: {check.rows} rows, none altered, inserted or "
                               f"removed; every decision, review and setting is accounted for.{head}")  # fmt: skip
            self.chain.setStyleSheet(f"color: {theme.ACCEPT}; font-weight: 600;")
        else:
            where = f" at row {check.first_bad_seq}" if check.first_bad_seq is not None else ""
            self.chain.setText(f"✗  The audit chain is broken{where}: {check.problem}")
            self.chain.setStyleSheet(f"color: {theme.REJECT}; font-weight: 600;")
        self.loaded.emit("check")
        self.refresh()

    def done(self, result: int) -> None:
        self.settings.setValue("audit/geometry", self.saveGeometry())
        super().done(result)
