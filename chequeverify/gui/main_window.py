"""The clerk's main window: queue on the left, the cheque in the middle, the evidence on the right.

Every service call goes through the :class:`~chequeverify.gui.workers.Runner`;
the window only reacts to results. The queue is processed one cheque at
a time in the background, so an interactive request (a corrected box, a
decision) is never stuck behind a whole folder.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QImage, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from chequeverify.errors import ChequeVerifyError, SignatureNotFound, UnreadableScan
from chequeverify.gui import icons, jobs, theme
from chequeverify.gui.account import AccountPicker
from chequeverify.gui.errors import describe, show_error
from chequeverify.gui.queue import (
    SCAN_FILTER,
    SCAN_SUFFIXES,
    STATUS_LABELS,
    STATUSES,
    ChequeQueueModel,
    QueueFilter,
    QueueItem,
    FileDelegate,
    StateDelegate,
    account_from_name,
    item_at,
)
from chequeverify.gui.results import SHORTCUTS, ResultsPanel
from chequeverify.gui.viewer import ChequeViewer
from chequeverify.gui.widgets import ElidedLabel, EmptyState, Panel
from chequeverify.gui.workers import Runner

log = logging.getLogger(__name__)

BOX_HINT = ("Drag the box or its handles (on the page or in the signature area) to correct it; the cheque is "
            "verified again at once. Wheel to zoom, drag the page to pan.")
#: cheque pages kept in memory for quick back-and-forth (the rest are re-read on demand)
IMAGE_CACHE = 12
MAX_RECENT = 8


class MainWindow(QMainWindow):
    """``logoutRequested`` when the user logs out (the app shows the login again)."""

    logoutRequested = Signal()
    #: the window closed for good (not a log-out): the app quits
    closed = Signal()
    #: emitted after every result reaches the window (tests wait on it)
    updated = Signal()

    def __init__(self, session, runner: Runner, settings: QSettings, *, user=None, rights: frozenset = frozenset(),
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.settings = settings
        self.user = user
        self.rights = rights
        self.model_id: str | None = None
        self.pending_approvals = 0
        self.model_error: str | None = None
        self.accounts: list = []
        self.accounts_loaded = False
        self.paused = False
        self.current: QueueItem | None = None
        self._images: OrderedDict[Path, QImage] = OrderedDict()
        self._loading_images: set[Path] = set()  # pages being (re-)read on a worker, asked for once each
        self._ref_images: dict[int, QImage] = {}
        self._batch_total = 0
        self._batch_done = 0
        self._closing = False
        self._dialogs: dict[str, QWidget] = {}
        self._retry_items: list[QueueItem] = []
        self._retry = QTimer(self)  # a child: it stops with the window
        self._retry.setSingleShot(True)
        self._retry.setInterval(150)
        self._retry.timeout.connect(self._retry_reprocess)
        runner.error_handler = self.show_error

        self.setWindowTitle("chequeverify")
        self.setWindowIcon(icons.app_icon())
        self.setAcceptDrops(True)
        self.resize(1440, 860)
        self.setMinimumSize(980, 600)
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_body()
        self._build_status()
        self._apply_rights()
        self._restore_settings()
        self._update_actions()

    # =========================================================================
    # construction
    # =========================================================================
    def _action(self, text: str, slot, shortcut: str | QKeySequence.StandardKey | None = None, icon: str | None = None,
                tip: str = "") -> QAction:  # fmt: skip
        a = QAction(text, self)
        if icon:
            a.setIcon(icons.icon(icon))
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        tip = tip or text.replace("&", "").rstrip(".…")
        if shortcut is not None:
            tip += f"  ({a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
        a.setToolTip(tip)
        a.setStatusTip(tip)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        self.act_open = self._action("&Open cheques…", self.open_files, QKeySequence.StandardKey.Open, "open-file",
                                     "Open cheque scans")  # fmt: skip
        self.act_open_folder = self._action("Open &folder…", self.open_folder, "Ctrl+Shift+O", "open-folder",
                                            "Open every scan in a folder")  # fmt: skip
        self.act_pause = self._action("&Pause processing", self.toggle_pause, "Ctrl+P", "pause")
        self.act_next = self._action("&Next cheque", self.next_cheque, "Ctrl+Down", "next")
        self.act_prev = self._action("&Previous cheque", self.previous_cheque, "Ctrl+Up", "previous")
        self.act_next_undecided = self._action("Next &undecided cheque", self.next_undecided, "Ctrl+Shift+Down",
                                               None, "The next cheque nobody has decided on yet "
                                               "(from the top again after the last)")  # fmt: skip
        self.act_accept = self._action("&Accept", lambda: self._request("ACCEPT"), SHORTCUTS["ACCEPT"])
        self.act_refer = self._action("&Refer", lambda: self._request("REFER"), SHORTCUTS["REFER"])
        self.act_reject = self._action("Re&ject", lambda: self._request("REJECT"), SHORTCUTS["REJECT"])
        self.act_identify = self._action("&Who signed this?", self.identify, "Ctrl+I", "identify",
                                         "Find the best-matching signatories over the whole workspace")  # fmt: skip
        self.act_reverify = self._action("&Verify again", self.reverify, "F5", "refresh")
        self.act_add_specimen = self._action("Add signature as a &specimen…", lambda: self.add_specimen(), None, None,
                                             "Supervisors: a signature a person accepted becomes a new specimen of "
                                             "its signatory, after a second supervisor's approval")  # fmt: skip
        self.act_reset_box = self._action("Reset signature &box", self.reset_box, "Ctrl+Shift+B", "box",
                                          "Go back to the box the reader found")  # fmt: skip
        self.act_zoom_in = self._action("Zoom &in", lambda: self.viewer.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn,
                                        "zoom-in")  # fmt: skip
        self.act_zoom_out = self._action("Zoom &out", lambda: self.viewer.zoom_by(0.8),
                                         QKeySequence.StandardKey.ZoomOut, "zoom-out")  # fmt: skip
        self.act_fit = self._action("&Fit cheque", lambda: self.viewer.fit(), "Ctrl+0", "fit")
        self.act_zoom_box = self._action("Zoom to &signature", lambda: self.viewer.zoom_to_box(), "Ctrl+9")
        self.act_focus_account = self._action("Go to &account field", self._focus_account, "Ctrl+L")
        self.act_focus_reason = self._action("Go to &reason field", self._focus_reason, "Ctrl+R")
        self.act_register = self._action("&Registration…", self.open_registration, "Ctrl+Shift+R", "register",
                                         "Register accounts, signatories and reference signatures")  # fmt: skip
        self.act_approvals = self._action("A&pprovals…", self.open_approvals, "Ctrl+Shift+A", "approve",
                                          "Reference changes and overrides waiting for a second supervisor")  # fmt: skip
        self.act_audit = self._action("A&udit…", self.open_audit, "Ctrl+Shift+U", "audit",
                                      "Decisions and events, exports, audit-chain check")  # fmt: skip
        self.act_settings = self._action("&Thresholds…", self.open_settings, "Ctrl+,", "settings",
                                         "Decision thresholds")  # fmt: skip
        self.act_users = self._action("U&sers…", self.open_users, "Ctrl+Shift+M", "users",
                                      "Users and their roles")  # fmt: skip
        self.act_reembed = self._action("Re-&embed references…", lambda: self.re_embed_references(), None, None,
                                        "Recompute every reference signature's embedding with the current model "
                                        "(after a model upgrade)")  # fmt: skip
        self.act_backup = self._action("&Back up workspace…", lambda: self.back_up_workspace(), None, None,
                                       "Copy the whole workspace into a new dated folder, checked, while others "
                                       "keep working")  # fmt: skip
        self.act_logout = self._action("&Log out", self.logout, "Ctrl+Shift+Q", "logout")
        self.act_quit = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_shortcuts = self._action("&Keyboard shortcuts", self.show_shortcuts, "F1")
        self.act_about = self._action("&About chequeverify", self.show_about)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addActions([self.act_open, self.act_open_folder])
        self.recent_menu = m.addMenu("Recent &folders")
        m.addSeparator()
        m.addAction(self.act_logout)
        m.addAction(self.act_quit)
        m = mb.addMenu("&Cheque")
        m.addActions([self.act_accept, self.act_refer, self.act_reject])
        m.addSeparator()
        m.addActions([self.act_next, self.act_prev, self.act_next_undecided, self.act_pause])
        m.addSeparator()
        m.addActions([self.act_identify, self.act_reverify, self.act_reset_box, self.act_add_specimen])
        m.addSeparator()
        m.addActions([self.act_focus_account, self.act_focus_reason])
        m = mb.addMenu("&View")
        m.addActions([self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_zoom_box])
        self.workspace_menu = mb.addMenu("&Workspace")
        self.workspace_menu.addActions([self.act_register, self.act_approvals, self.act_audit, self.act_settings,
                                        self.act_users])  # fmt: skip
        self.workspace_menu.addSeparator()
        self.workspace_menu.addActions([self.act_reembed, self.act_backup])
        m = mb.addMenu("&Help")
        m.addActions([self.act_shortcuts, self.act_about])

    def _build_toolbar(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("MainToolbar")
        tb.setMovable(False)
        tb.setIconSize(QSize(20, 20))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addAction(self.act_open)
        tb.addAction(self.act_open_folder)
        tb.addSeparator()
        tb.addAction(self.act_prev)
        tb.addAction(self.act_next)
        tb.addAction(self.act_pause)
        tb.addSeparator()
        tb.addAction(self.act_identify)
        tb.addSeparator()
        tb.addAction(self.act_register)
        tb.addAction(self.act_approvals)
        tb.addAction(self.act_audit)
        tb.addAction(self.act_settings)
        tb.addAction(self.act_users)
        for a in (self.act_prev, self.act_next, self.act_pause):
            w = tb.widgetForAction(a)
            if isinstance(w, QToolButton):
                w.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        tb.addWidget(spacer)
        self.user_label = QLabel("")
        self.user_label.setObjectName("Muted")
        tb.addWidget(self.user_label)
        tb.addAction(self.act_logout)
        self.toolbar = tb

    def _build_body(self) -> None:
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("MainSplitter")
        split.setHandleWidth(6)
        split.setChildrenCollapsible(False)

        # --- the queue ---------------------------------------------------------------
        left = Panel("Cheque queue")
        left.setMinimumWidth(300)
        filters = QHBoxLayout()
        filters.setSpacing(6)
        self.state_filter = QComboBox()
        self.state_filter.setAccessibleName("Show")
        self.state_filter.addItem("All", None)
        for s in STATUSES:
            self.state_filter.addItem(STATUS_LABELS[s], s)
        # as narrow as "All (16)": the longer labels show in full in the list
        self.state_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.state_filter.setMinimumContentsLength(8)
        self.state_filter.currentIndexChanged.connect(self._filter_changed)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by file or account")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda t: self.proxy.set_text(t))
        filters.addWidget(self.state_filter)
        filters.addWidget(self.search, 1)
        left.body.addLayout(filters)
        self.model = ChequeQueueModel(self)
        self.proxy = QueueFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(0, StateDelegate(self.table))
        self.table.setItemDelegateForColumn(1, FileDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(False)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(42)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        hh.resizeSection(0, 104)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        hh.setHighlightSections(False)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.table.setAccessibleName("Cheque queue")
        left.body.addWidget(self.table, 1)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("Muted")
        self.progress_label.setFont(theme.font(-1))
        self.progress_label.setWordWrap(True)
        left.body.addWidget(self.progress)
        left.body.addWidget(self.progress_label)
        split.addWidget(left)

        # --- the cheque ----------------------------------------------------------------
        middle = Panel("")
        middle.layout().setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.setContentsMargins(12, 8, 8, 0)
        # both give up width (elided) before the panels beside them are pushed out of the window
        self.file_label = ElidedLabel("", Qt.TextElideMode.ElideMiddle, min_width=60)
        self.file_label.setFont(theme.font(1, bold=True))
        self.file_note = ElidedLabel("", min_width=24)
        self.file_note.setObjectName("Muted")
        head.addWidget(self.file_label)
        head.addWidget(self.file_note, 1)
        for a in (self.act_zoom_out, self.act_zoom_in, self.act_fit, self.act_reset_box):
            b = QToolButton()
            b.setDefaultAction(a)
            b.setAutoRaise(True)
            b.setIconSize(QSize(18, 18))
            head.addWidget(b)
        middle.body.addLayout(head)
        self.center = QStackedWidget()
        self.empty = EmptyState("Open cheques to verify", "")
        self.viewer = ChequeViewer()
        self.viewer.boxEdited.connect(self._box_edited)
        # the loupe: the same scene, following the signature box, magnified (both views edit the one box)
        self.loupe = ChequeViewer(scene=self.viewer.cheque_scene, loupe=True)
        self.loupe.setBackgroundBrush(QColor("#f4f6f8"))
        pages = QSplitter(Qt.Orientation.Vertical)
        pages.setObjectName("ChequeSplitter")
        pages.setChildrenCollapsible(False)
        pages.addWidget(self.viewer)
        loupe_box = QWidget()
        ll = QVBoxLayout(loupe_box)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(0)
        cap = QLabel("SIGNATURE AREA")
        cap.setObjectName("PanelTitle")
        cap.setFont(theme.font(-1.5, bold=True))
        cap.setContentsMargins(12, 6, 12, 4)
        cap.setStyleSheet(f"background: {theme.PANEL}; border-top: 1px solid {theme.BORDER};")
        ll.addWidget(cap)
        ll.addWidget(self.loupe, 1)
        pages.addWidget(loupe_box)
        pages.setStretchFactor(0, 3)
        pages.setStretchFactor(1, 2)
        pages.setSizes([3000, 2000])
        self.pages = pages
        self.center.addWidget(self.empty)
        self.center.addWidget(pages)
        middle.body.addWidget(self.center, 1)
        self.box_hint = QLabel(BOX_HINT)
        self.box_hint.setObjectName("Faint")
        self.box_hint.setFont(theme.font(-1.5))
        self.box_hint.setContentsMargins(12, 0, 12, 8)
        self.box_hint.setWordWrap(True)
        middle.body.addWidget(self.box_hint)
        split.addWidget(middle)

        # --- the evidence ----------------------------------------------------------------
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(10)
        acc_panel = Panel("Account")
        self.picker = AccountPicker()
        self.picker.accountChosen.connect(self._account_chosen)
        self.picker.amountEdited.connect(self._amount_edited)
        acc_panel.body.addWidget(self.picker)
        rl.addWidget(acc_panel)
        self.results = ResultsPanel()
        self.results.decisionRequested.connect(self.decide)
        rl.addWidget(self.results, 1)
        right.setMinimumWidth(380)
        split.addWidget(right)
        # extra width is shared by the cheque and the evidence (bigger reference tiles on a large
        # screen); the queue keeps its width
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 1)
        split.setSizes([330, 640, 470])
        self.splitter = split
        wrap = QWidget()
        wl = QVBoxLayout(wrap)
        wl.setContentsMargins(10, 10, 10, 8)
        wl.addWidget(split)
        self.setCentralWidget(wrap)
        self._update_empty()

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.model_label = QLabel("Signature model: loading…")
        self.model_label.setObjectName("Muted")
        sb.addPermanentWidget(self.model_label)
        self.backup_label = QLabel()
        self.backup_label.setObjectName("Muted")
        self.backup_label.setContentsMargins(16, 0, 4, 0)
        self.backup_label.hide()  # for those who may back up, once the last backup is known
        sb.addPermanentWidget(self.backup_label)

    # =========================================================================
    # rights, settings
    # =========================================================================
    def _apply_rights(self) -> None:
        can = self.rights.__contains__
        self.act_register.setVisible(can("register"))
        self.act_approvals.setVisible(can("approve") or can("approve_override"))
        self.act_audit.setVisible(can("audit"))
        self.act_settings.setVisible(can("thresholds"))
        self.act_users.setVisible(can("users"))
        self.act_reembed.setVisible(can("re_embed"))
        self.act_backup.setVisible(can("backup"))
        self.act_add_specimen.setVisible(can("register"))
        self.workspace_menu.menuAction().setVisible(any(a.isVisible() for a in self.workspace_menu.actions()))
        verifies = can("verify")
        for a in (self.act_open, self.act_open_folder, self.act_pause, self.act_reverify, self.act_reset_box):
            a.setVisible(verifies)
        self.act_identify.setVisible(can("identify"))
        self.results.set_can_decide(can("decide"), may_change_decisions=can("approve_override"))
        for a in (self.act_accept, self.act_refer, self.act_reject):
            a.setEnabled(can("decide"))
        if self.user is not None:
            self.user_label.setText(f"{self.user.name}  ·  {self.user.role}   ")
            self.setWindowTitle(f"chequeverify — {self.user.name} ({self.user.role}) — {self.session.workspace.path}")

    def _restore_settings(self) -> None:
        geo = self.settings.value("main/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = self.settings.value("main/splitter")
        if state is not None:
            self.splitter.restoreState(state)
        self._refresh_recent()

    def _save_settings(self) -> None:
        self.settings.setValue("main/geometry", self.saveGeometry())
        self.settings.setValue("main/splitter", self.splitter.saveState())
        self.settings.sync()

    def recent_folders(self) -> list[str]:
        value = self.settings.value("recent/folders", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember_folder(self, folder: Path) -> None:
        folders = [str(folder)] + [f for f in self.recent_folders() if f != str(folder)]
        self.settings.setValue("recent/folders", folders[:MAX_RECENT])
        self.settings.sync()
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        folders = self.recent_folders()
        for f in folders:
            a = self.recent_menu.addAction(f)
            a.triggered.connect(lambda _=False, f=f: self.add_paths([Path(f)], remember=True))
        self.recent_menu.setEnabled(bool(folders))

    # =========================================================================
    # start-up work (after the window shows)
    # =========================================================================
    def start(self) -> None:
        """Begin the background work: load the model, list the accounts. Call once the window is shown."""
        if getattr(self, "_closing", False):  # logged out before the event loop got here
            return
        self.runner.submit(jobs.load_model, self.session, name="model", on_done=self._model_ready,
                           on_error=self._model_failed)  # fmt: skip
        self.refresh_accounts()
        self.refresh_approvals()
        self.refresh_last_backup()

    def refresh_last_backup(self) -> None:
        """Say in the status bar when the workspace was last backed up (to those who may back it up)."""
        if "backup" in self.rights and "audit" in self.rights:
            self.runner.submit(jobs.last_backup, self.session, name="last-backup", on_done=self._show_last_backup)

    def _show_last_backup(self, at: str | None) -> None:
        now = dt.datetime.now(dt.timezone.utc)
        when = dt.datetime.fromisoformat(at.replace("Z", "+00:00")) if at else None
        age = (now - when) if when else None
        if when is None:
            text, tip = "No backup yet", "This workspace has never been backed up: Workspace ▸ Back up workspace…"
        else:
            local = when.astimezone()
            days = age.days
            ago = "today" if local.date() == dt.datetime.now().date() else ("yesterday" if days < 2 else f"{days} days ago")
            text = f"Last backup {ago}" + (f" {local:%H:%M}" if days < 2 else "")
            tip = f"Last backup: {local:%Y-%m-%d %H:%M} (local time). Workspace ▸ Back up workspace…"
        stale = age is None or age > dt.timedelta(hours=24)
        self.backup_label.setText(text)
        self.backup_label.setToolTip(tip)
        self.backup_label.setStyleSheet(f"color: {theme.REFER};" if stale else "")
        self.backup_label.show()

    def refresh_approvals(self) -> None:
        """Count what waits for a second supervisor (shown on the Approvals button)."""
        if "approve" in self.rights:
            self.runner.submit(jobs.pending_approvals, self.session, "approve_override" in self.rights,
                               name="approvals", on_done=self._approvals_counted)  # fmt: skip

    def _approvals_counted(self, n: int) -> None:
        self.pending_approvals = n
        self.act_approvals.setText(f"A&pprovals ({n})" if n else "A&pprovals")
        self.act_approvals.setToolTip(f"{n} change{'s' if n != 1 else ''} waiting for a second supervisor"
                                      if n else "Nothing waits for a second supervisor")  # fmt: skip

    def _model_ready(self, model_id: str) -> None:
        self.model_id = model_id
        self.model_error = None
        self.model_label.setText(f"Signature model: {model_id}")
        self.updated.emit()

    def _model_failed(self, exc: BaseException, details: str) -> None:
        self.model_error = describe(exc)
        self.model_label.setText("Signature model: unavailable")
        self.model_label.setToolTip(self.model_error)
        self.statusBar().showMessage(self.model_error, 15000)
        if not isinstance(exc, ChequeVerifyError):
            self.show_error(exc, details)
        self.updated.emit()

    def refresh_accounts(self) -> None:
        self.runner.submit(jobs.accounts, self.session, name="accounts", on_done=self._accounts_loaded)

    def _accounts_loaded(self, accounts: list) -> None:
        self.accounts = accounts
        self.accounts_loaded = True
        self.picker.set_accounts(accounts)
        known = self.picker.known_numbers()
        for it in self.model.items():
            if it.account is None and not it.processed:
                it.account = account_from_name(it.name, known)
                self.model.changed(it)
        self._update_empty()
        self._pump()
        self.updated.emit()

    # =========================================================================
    # adding cheques
    # =========================================================================
    def open_files(self) -> None:
        start = self.recent_folders()[0] if self.recent_folders() else str(Path.home())
        files, _ = QFileDialog.getOpenFileNames(
            self, "Open cheque scans", start, f"Scans ({SCAN_FILTER});;All files (*)"
        )
        if files:
            self.add_paths([Path(f) for f in files])
            self._remember_folder(Path(files[0]).parent)

    def open_folder(self) -> None:
        start = self.recent_folders()[0] if self.recent_folders() else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of cheque scans", start)
        if folder:
            self.add_paths([Path(folder)], remember=True)

    def add_paths(self, paths: list[Path], *, remember: bool = False, account: str | None = None) -> None:
        """Queue files and folders (listed on a worker); ``account`` applies to all of them."""
        if remember:
            for p in paths:
                if Path(p).is_dir():
                    self._remember_folder(Path(p))
        self.runner.submit(jobs.scan_paths, list(paths), SCAN_SUFFIXES, name="scan",
                           on_done=lambda files: self._queue_files(files, account))  # fmt: skip

    def _queue_files(self, files: list[Path], account: str | None) -> None:
        if not files:
            self.statusBar().showMessage("No scans found there (PNG, JPEG, TIFF, BMP).", 8000)
            return
        fresh = self.model.add(files)
        known = self.picker.known_numbers()
        for it in fresh:
            it.account = account or account_from_name(it.name, known)
        self._batch_total += len(fresh)
        if fresh:
            self.statusBar().showMessage(f"{len(fresh)} cheque{'s' if len(fresh) != 1 else ''} added to the queue.", 5000)
        self._update_empty()
        if self.current is None and self.model.rowCount():
            self.select_item(fresh[0] if fresh else self.model.item(0))
        self._pump()
        self.updated.emit()

    # --- drag and drop ------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and "verify" in self.rights:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.add_paths(paths, remember=True)
            event.acceptProposedAction()

    # =========================================================================
    # background processing
    # =========================================================================
    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self.act_pause.setText("&Resume processing" if self.paused else "&Pause processing")
        self.act_pause.setIcon(icons.icon("play" if self.paused else "pause"))
        self._pump()
        self._update_progress()

    def _pump(self) -> None:
        """Start the next unprocessed cheque, one at a time, unless paused or already busy."""
        if self._closing or self.paused or not self.accounts_loaded or self.runner.running("queue"):
            self._update_progress()
            return
        for it in self.model.items():
            if not it.processed and not it.busy:
                self._process(it, name="queue")
                break
        self._update_progress()

    def _process(self, it: QueueItem, *, name: str) -> None:
        """Verify ``it`` (or, without an account, read it to show its signature)."""
        it.busy = True
        it.error = None
        self.model.changed(it)
        if it is self.current:
            self._show_busy(it)
            self._update_actions()
        if it.account:
            known = frozenset(self._ref_images)
            self.runner.submit(jobs.verify, self.session, it.path, it.account, it.amount, it.box, known_refs=known,
                               name=name, on_done=lambda r, it=it: self._verified(it, r),
                               on_error=lambda e, d, it=it: self._failed(it, e, d))  # fmt: skip
        else:
            self.runner.submit(jobs.read, self.session, it.path, it.box, name=name,
                               on_done=lambda r, it=it: self._read(it, r),
                               on_error=lambda e, d, it=it: self._failed(it, e, d))  # fmt: skip

    def _finish(self, it: QueueItem) -> None:
        it.busy = False
        if not it.processed:
            it.processed = True
            self._batch_done += 1
        self.model.changed(it)
        self._pump()
        self._update_actions()
        self.updated.emit()

    def _verified(self, it: QueueItem, r: jobs.Verified) -> None:
        it.busy = False
        it.verification = r.verification
        it.located_box = tuple(r.verification.located.box)
        it.history.append(r.verification.cheque_id)
        it.signature = r.query
        self._ref_images.update(r.references)
        if r.cheque is not None:
            self._cache_image(it.path, r.cheque)
        if it is self.current:
            self._show_item(it)
        self._finish(it)

    def _read(self, it: QueueItem, r: jobs.Read) -> None:
        it.busy = False
        it.verification = None
        it.located_box = r.box
        it.signature = r.signature
        self._cache_image(it.path, r.cheque)
        if it is self.current:
            self._show_item(it)
        self._finish(it)

    def _failed(self, it: QueueItem, exc: BaseException, details: str) -> None:
        it.busy = False
        it.error = exc
        it.verification = None
        if isinstance(exc, SignatureNotFound) or it is self.current:
            # show the scan anyway: without a signature found the clerk draws the box by hand
            self._load_page(it)
        if it is self.current:
            self._show_item(it)
        if not isinstance(exc, ChequeVerifyError):
            self.show_error(exc, details)
        self._finish(it)

    def _update_progress(self) -> None:
        items = self.model.items()
        left = sum(1 for it in items if not it.processed)
        if left == 0:
            self._batch_total = self._batch_done = 0
        total = max(self._batch_total, self._batch_done + left)
        active = total > 0 and left > 0
        self.progress.setVisible(active)
        if active:
            self.progress.setRange(0, total)
            self.progress.setValue(self._batch_done)
        counts = self.model.counts()
        parts = [f"{counts[s]} {STATUS_LABELS[s].lower()}" for s in STATUSES if counts[s]]
        if active:
            head = (f"Paused — {self._batch_done} of {total} processed" if self.paused
                    else f"Processing {self._batch_done + 1} of {total}…")  # fmt: skip
        else:
            head = f"{len(items)} cheque{'s' if len(items) != 1 else ''}" if items else ""
        self.progress_label.setText("  ·  ".join(p for p in [head, ", ".join(parts)] if p))
        for i in range(self.state_filter.count()):
            s = self.state_filter.itemData(i)
            n = len(items) if s is None else counts[s]
            label = "All" if s is None else STATUS_LABELS[s]
            self.state_filter.setItemText(i, f"{label} ({n})")

    def queue_idle(self) -> bool:
        """No cheque waiting or being worked on (tests and ``--screenshot`` wait for it)."""
        return all(it.processed and not it.busy for it in self.model.items())

    # =========================================================================
    # selection and display
    # =========================================================================
    def _filter_changed(self) -> None:
        self.proxy.set_state(self.state_filter.currentData())

    def _row_changed(self, current, previous) -> None:
        if not current.isValid():
            return
        it = item_at(current)
        if it is not None and it is not self.current:
            self._set_current(it)

    def select_item(self, it: QueueItem) -> None:
        row = self.model.row_of(it)
        if row < 0:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():  # filtered out: show everything
            self.state_filter.setCurrentIndex(0)
            self.search.clear()
            index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.scrollTo(index)
        if self.current is not it:
            self._set_current(it)

    def _set_current(self, it: QueueItem) -> None:
        """Show ``it``. The reason field is per cheque: the one left keeps its draft, ``it`` gets its own."""
        previous = self.current
        if previous is not None:
            previous.reason_draft = self.results.reason.text()
        self.current = it
        self.results.set_reason(it.reason_draft)
        self._show_item(it)
        self._update_actions()

    def _visible_items(self) -> list[QueueItem]:
        return [item_at(self.proxy.index(r, 0)) for r in range(self.proxy.rowCount())]

    def next_cheque(self, *, undecided: bool = False) -> None:
        items = self._visible_items()
        if not items:
            return
        start = items.index(self.current) + 1 if self.current in items else 0
        for it in items[start:]:
            if not undecided or not it.decided:
                self.select_item(it)
                return
        if not undecided:
            self.statusBar().showMessage("This is the last cheque in the list.", 3000)

    def next_undecided(self) -> None:
        """The next cheque in the list nobody has decided on, from the top again after the last."""
        items = self._visible_items()
        if not items:
            return
        start = items.index(self.current) + 1 if self.current in items else 0
        for it in items[start:] + items[:start]:
            if it is not self.current and not it.decided:
                self.select_item(it)
                return
        self.statusBar().showMessage("Every cheque in the list has been decided.", 4000)

    def previous_cheque(self) -> None:
        items = self._visible_items()
        if self.current in items:
            i = items.index(self.current)
            if i > 0:
                self.select_item(items[i - 1])
        elif items:
            self.select_item(items[0])

    def _cache_image(self, path: Path, image: QImage) -> None:
        self._images[path] = image
        self._images.move_to_end(path)
        while len(self._images) > IMAGE_CACHE:
            self._images.popitem(last=False)

    def _show_item(self, it: QueueItem) -> None:
        self.center.setCurrentWidget(self.pages)
        self.file_label.setText(it.name)
        self.picker.set_account(it.account, it.amount)
        image = self._images.get(it.path)
        if image is not None:
            self._images.move_to_end(it.path)
            if self.viewer.property("path") != str(it.path):
                self.viewer.set_image(image)
                self.viewer.setProperty("path", str(it.path))
        elif self.viewer.property("path") == str(it.path) and self.viewer.has_image():
            pass  # still on screen: only the cache let it go
        else:
            self.viewer.set_image(None)
            self.viewer.setProperty("path", None)
            if not it.busy:  # (a running job brings the page with its result)
                self._load_page(it)
        box = it.box or it.located_box
        v = it.verification
        colour = theme.decision_colour(str(v.final_decision)).name() if v is not None else theme.FOCUS
        label = ("signature · corrected" if it.box else "signature") if box else ""
        locked = self._locked(it)  # decided, and this user may not change it: not verified again
        self.picker.set_locked(locked, "Decided: only a supervisor can change it." if locked else "")
        self.viewer.box_editable = not locked
        self.viewer.set_box(box, label=label, colour=colour)
        # no box (none found): dragging on the page draws one
        self.viewer.drawing = box is None and not locked
        if it.path in self._loading_images and not self.viewer.has_image():
            self.box_hint.setText("Loading the cheque's page…")
            self.box_hint.setStyleSheet("")
        elif isinstance(it.error, SignatureNotFound) and self.viewer.has_image():
            self.box_hint.setText("No signature was found on this cheque. Drag on the page to draw a box around "
                                  "the signature: the cheque is then verified with your box.")  # fmt: skip
            self.box_hint.setStyleSheet(f"color: {theme.REFER}; font-weight: 600;")
        elif it.error is not None and not self.viewer.has_image():
            self.box_hint.setText("The cheque's page cannot be shown.")
            self.box_hint.setStyleSheet("")
        elif locked:
            self.box_hint.setText("Decided: only a supervisor can change it. The box, the account and the amount "
                                  "are locked: a new scan of it would need a supervisor's approval to be accepted.")  # fmt: skip
            self.box_hint.setStyleSheet("")
        else:
            self.box_hint.setText(BOX_HINT)
            self.box_hint.setStyleSheet("")
        notes = []
        if it.busy:
            notes.append(it.detail)
        elif v is not None:
            loc = v.located
            notes.append(f"cheque {v.cheque_id} · {loc.layout} layout" + (" · box corrected" if loc.corrected else ""))
        self.file_note.setText("   " + " · ".join(notes))
        if it.busy:
            self._show_busy(it)
        elif it.error is not None:
            if isinstance(it.error, ChequeVerifyError):
                self.results.show_error(it.error)
            else:
                self.results.show_error(describe(it.error))
        elif v is not None:
            imgs = dict(self._ref_images)
            imgs["query"] = it.signature
            self.results.show_verification(v, imgs)
        elif it.signature is not None:
            self.results.show_reading(it.signature, "Choose the account to verify this cheque."
                                      if not it.account else "Waiting to be verified…")  # fmt: skip
            if not it.account:
                self.picker.combo.setFocus()
        else:
            self.results.show_busy("Waiting in the queue…")
        self._update_actions()

    def _show_busy(self, it: QueueItem) -> None:
        """``it`` (the current cheque) is being worked on: its old evidence may stay, its decision may not."""
        v = it.verification
        same = v is not None and self.results.evidence_of == v.cheque_id
        if it.deciding:
            self.results.show_busy("Recording your decision…", keep_evidence=same, status="Recording your decision…")
            return
        text = ("Verifying again…" if same else "Verifying…") if it.account else "Reading the cheque…"
        self.results.show_busy(text, keep_evidence=same)

    def _load_page(self, it: QueueItem) -> None:
        """Read ``it``'s page on a worker when it is not in the cache (it was evicted, or never came)."""
        if it.path in self._images or it.path in self._loading_images or isinstance(it.error, UnreadableScan):
            return
        if it.error is not None:
            # a cheque in error (no signature found…): the scan alone, as the imaging layer reads it
            job, args = jobs.page_image, (it.path,)
        elif it.verification is not None or it.located_box is not None:
            job, args = jobs.reread_image, (self.session, it.path, it.box or it.located_box)
        else:
            return  # not read yet: its turn in the queue brings the page
        self._loading_images.add(it.path)

        def failed(exc: BaseException, details: str, it=it) -> None:
            self._loading_images.discard(it.path)
            if it is self.current:
                self._show_item(it)
                self.statusBar().showMessage(f"The page of {it.name} cannot be shown: {describe(exc)}", 10000)
            if not isinstance(exc, ChequeVerifyError):
                self.show_error(exc, details)

        self.runner.submit(job, *args, name="image", on_done=lambda img, it=it: self._image_loaded(it, img),
                           on_error=failed)  # fmt: skip

    def _image_loaded(self, it: QueueItem, image: QImage) -> None:
        self._loading_images.discard(it.path)
        self._cache_image(it.path, image)
        if it is self.current:
            self.viewer.setProperty("path", None)
            self._show_item(it)
        self.updated.emit()

    def _update_empty(self) -> None:
        if self.model.rowCount():
            return
        self.center.setCurrentWidget(self.empty)
        can = self.rights.__contains__
        if not can("verify"):
            self.empty.set_text(
                "Verifying cheques needs a clerk or a supervisor",
                "As an administrator you manage users and read the audit log (Workspace ▸ Audit).",
            )
        elif self.accounts_loaded and not self.accounts:
            advice = ("Register the first account with its signatories and specimen signatures: "
                      "<b>Workspace ▸ Registration…</b> (Ctrl+Shift+R)."
                      if can("register") else
                      "A supervisor must register accounts and their specimen signatures first.")  # fmt: skip
            self.empty.set_text(
                "This workspace has no accounts yet",
                advice + "<br><br>To see the whole flow with sample data, run <code>chequeverify demo</code> "
                "then <code>chequeverify gui --demo</code> (or simply <code>make run</code>).",
            )
        else:
            self.empty.set_text(
                "Open cheques to verify",
                "<b>Ctrl+O</b> opens scans, <b>Ctrl+Shift+O</b> a whole folder — or drop files here.<br>"
                "Each cheque is verified in the background; pick one to see the evidence.",
            )

    def _update_actions(self) -> None:
        it = self.current
        have = it is not None
        # something to decide: this cheque's result is on screen and no job is changing it
        decidable = (have and it.verification is not None and not it.busy and self.results.can_decide_now()
                     and self.results.verification is it.verification)  # fmt: skip
        self.act_identify.setEnabled(have and not it.busy and it.error is None and "identify" in self.rights)
        locked = self._locked(it)
        self.act_reverify.setEnabled(have and not it.busy and bool(it.account) and not locked)
        self.act_reset_box.setEnabled(have and it.box is not None and not it.busy and not locked)
        for a in (self.act_accept, self.act_refer, self.act_reject):
            a.setEnabled(bool(decidable) and "decide" in self.rights)
        self.act_zoom_box.setEnabled(have)
        self.act_add_specimen.setEnabled(self._specimen_signatory(it) is not None and "register" in self.rights)

    def _locked(self, it: QueueItem | None) -> bool:
        """``it`` has a final (or refused) decision this user may not change: it is not verified again
        (no Verify again, box, amount or account change), since a new record of it would ask for a decision."""
        return it is not None and it.verification is not None and self.results.closed_for_me(it.verification)

    def _refuse_locked(self, it: QueueItem) -> bool:
        """True (and say why) when ``it`` may not be verified again by this user."""
        if not self._locked(it):
            return False
        self.picker.set_account(it.account, it.amount)  # undo what was typed
        self.statusBar().showMessage(f"{it.name} is decided: only a supervisor can change it; it is not verified "
                                     "again.", 6000)  # fmt: skip
        return True

    @staticmethod
    def _specimen_signatory(it: QueueItem | None):
        """The signatory whose new specimen this cheque's signature can be: one signature, attributed to
        one signatory, and a person's final decision to pay (ACCEPT) — never the model's alone."""
        v = it.verification if it is not None and not it.busy else None
        if v is None or v.final is None or str(v.final_decision) != "ACCEPT":
            return None
        attributed = [s for s in v.signatories if s.attributed]
        return attributed[0] if len(attributed) == 1 else None

    # =========================================================================
    # the clerk's changes: account, amount, box
    # =========================================================================
    def _account_chosen(self, number: str) -> None:
        it = self.current
        if it is None or it.account == number or self._refuse_locked(it):
            return
        it.account = number
        self.model.changed(it)
        self._reprocess(it)

    def _amount_edited(self, text: str) -> None:
        it = self.current
        if it is None or self._refuse_locked(it):
            return
        it.amount = text or None
        if it.account:
            self._reprocess(it)

    def _box_edited(self, box) -> None:
        it = self.current
        if it is None or box is None:
            return
        if self._refuse_locked(it):
            self._show_item(it)  # the box back where it was
            return
        it.box = tuple(int(v) for v in box)
        self._reprocess(it)

    def reset_box(self) -> None:
        it = self.current
        if it is None or it.box is None or self._refuse_locked(it):
            return
        it.box = None
        self._reprocess(it)

    def reverify(self) -> None:
        if self.current is not None and self.current.account and not self._refuse_locked(self.current):
            self._reprocess(self.current)

    def _reprocess(self, it: QueueItem) -> None:
        if it.busy:
            # the running job answers for the old input; ask again once it lands
            self._retry_items.append(it)
            self._retry.start()
            return
        self._process(it, name="interactive")

    def _retry_reprocess(self) -> None:
        waiting, self._retry_items = self._retry_items, []
        for it in dict.fromkeys(waiting):  # once each, in order
            if not self._closing:
                self._reprocess(it)

    def _focus_account(self) -> None:
        self.picker.combo.setFocus()
        self.picker.combo.lineEdit().selectAll()

    def _focus_reason(self) -> None:
        self.results.reason.setFocus()

    # =========================================================================
    # decisions
    # =========================================================================
    def _request(self, decision: str) -> None:
        """A decision's shortcut or menu entry."""
        it = self.current
        if it is not None and it.busy:
            self.statusBar().showMessage(f"{it.name}: your decision is being recorded." if it.deciding else
                                         f"{it.name} is being verified: decide once its result is shown.", 5000)  # fmt: skip
            return
        self.results.request(decision)

    def decide(self, decision: str, reason: str) -> None:
        it = self.current
        if it is None or it.verification is None or it.busy:
            return
        v = it.verification
        if self.results.verification is not v:  # the panel shows another result: never decide on what is not shown
            return
        it.busy = it.deciding = True
        self.model.changed(it)
        for b in self.results.buttons.values():
            b.setEnabled(False)
        self._update_actions()
        self.runner.submit(jobs.decide, self.session, v.cheque_id, decision, reason, name="decide",
                           on_done=lambda d, it=it: self._decided(it, d),
                           on_error=lambda e, dt, it=it: self._decide_failed(it, e, dt))  # fmt: skip

    def _decided(self, it: QueueItem, decision) -> None:
        it.busy = it.deciding = False
        it.reason_draft = ""  # used: it never comes back, on this cheque or another
        if it.verification is not None and it.verification.cheque_id == decision.cheque_id:
            it.verification = dataclasses.replace(it.verification, final=decision)
        self.model.changed(it)
        msg = (f"{it.name}: override to {decision.decision} sent for a second supervisor's approval."
               if decision.status == "awaiting_approval" else f"{it.name}: {decision.decision}.")  # fmt: skip
        self.statusBar().showMessage(msg, 6000)
        self._update_progress()
        if decision.status == "awaiting_approval":
            self.refresh_approvals()
        if it is self.current:
            self.results.reason.clear()
            self._show_item(it)
            self.next_cheque(undecided=True)
        self.updated.emit()

    def _decide_failed(self, it: QueueItem, exc: BaseException, details: str) -> None:
        it.busy = it.deciding = False
        self.model.changed(it)
        if it is self.current:
            self._show_item(it)  # the reason the clerk typed is kept in the field
        self.show_error(exc, details)
        self.updated.emit()

    # =========================================================================
    # identification and the other windows
    # =========================================================================
    def identify(self) -> None:
        it = self.current
        if it is None:
            return
        self.statusBar().showMessage(f"Searching the workspace for the signer of {it.name}…")
        self.runner.submit(jobs.identify, self.session, it.path, it.box, name="identify", on_done=self._identified)

    def _identified(self, result) -> None:
        from chequeverify.gui.identify import IdentifyDialog

        ident, images = result
        self.statusBar().clearMessage()
        dlg = IdentifyDialog(ident, images, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs["identify"] = dlg
        dlg.open()
        self.updated.emit()

    def _singleton(self, key: str, factory) -> QWidget:
        """Raise the open dialog ``key`` or create it with ``factory()`` (which also connects it)."""
        dlg = self._dialogs.get(key)
        try:
            if dlg is not None and dlg.isVisible():
                dlg.raise_()
                dlg.activateWindow()
                return dlg
        except RuntimeError:  # deleted
            pass
        dlg = factory()
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs[key] = dlg
        dlg.show()
        return dlg

    def open_registration(self, *, tab: str = "accounts") -> QWidget:
        from chequeverify.gui.registration import RegistrationDialog

        def create():
            name = self.user.name if self.user is not None else ""
            dlg = RegistrationDialog(self.session, self.runner, self.rights, self.settings, self, user_name=name)
            dlg.changed.connect(self.refresh_accounts)
            dlg.changed.connect(self.refresh_approvals)
            return dlg

        dlg = self._singleton("registration", create)
        dlg.show_tab(tab)
        return dlg

    def open_approvals(self) -> QWidget:
        return self.open_registration(tab="approvals")

    def open_audit(self) -> QWidget:
        from chequeverify.gui.audit import AuditDialog

        return self._singleton("audit", lambda: AuditDialog(self.session, self.runner, self.settings, self,
                                                                       rights=self.rights))

    def open_users(self) -> QWidget:
        from chequeverify.gui.users import UsersDialog

        name = self.user.name if self.user is not None else ""
        return self._singleton("users", lambda: UsersDialog(self.session, self.runner, self, user_name=name))

    def add_specimen(self, *, ask: bool = True) -> None:
        """A supervisor adds the signature of an accepted cheque as a new specimen of its signatory.

        The service checks it like any specimen (ink, size, duplicate, agreement with the approved ones)
        and it waits for a second supervisor's approval (maker-checker) before it counts.
        """
        it = self.current
        sig = self._specimen_signatory(it)
        if sig is None:
            return
        v = it.verification
        if ask:
            answer = QMessageBox.question(
                self, "Add as a specimen",
                f"Add the signature on {it.name} as a new specimen of {sig.name} (account {v.account.number})?\n\n"
                "It is checked like any specimen and compared with the approved ones, and it counts only once "
                "a second supervisor approves it. More specimens let the model accept more of this signer's "
                "genuine cheques.")  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.statusBar().showMessage(f"Adding the signature on {it.name} as a specimen of {sig.name}…")

        def done(refs) -> None:
            ref = refs[0]
            warning = f" Note: {ref.agreement_note}" if ref.agreement_note else ""
            self.statusBar().showMessage(f"Reference {ref.id} of {sig.name} added from {it.name}: it waits for a "
                                         f"second supervisor's approval.{warning}", 15000)  # fmt: skip
            self.refresh_accounts()

        self.runner.submit(self.session.add_references, v.account.number, sig.signatory_id, [it.path],
                           source="cheque", boxes=[tuple(v.located.box)], name="add-specimen", on_done=done,
                           on_error=self.show_error)  # fmt: skip

    def re_embed_references(self, *, ask: bool = True) -> None:
        """After a model upgrade: recompute every reference's embedding from its stored image (supervisors)."""
        if self.runner.running("re-embed"):
            return
        if ask:
            answer = QMessageBox.question(
                self, "Re-embed references",
                f"Recompute the embedding of every reference signature in this workspace with the model "
                f"{self.model_id or 'now installed'}?\n\nNeeded after the signature model changes: until then "
                "cheques of accounts enrolled with the old model cannot be verified. The stored specimen images "
                "are not changed, and the change is written in one transaction and to the audit trail.")  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.statusBar().showMessage("Re-embedding the reference signatures…")

        def done(summary) -> None:
            self.statusBar().showMessage(
                f"{summary.references} reference signature{'s' if summary.references != 1 else ''} re-embedded "
                f"with {summary.model_id} in {summary.seconds:.1f} s.", 10000)  # fmt: skip
            self.refresh_accounts()

        self.runner.submit(self.session.re_embed_references, name="re-embed", on_done=done)

    def back_up_workspace(self, parent_folder: str | None = None) -> None:
        """Copy the workspace into a new dated folder inside the one the user picks (supervisors, admins)."""
        if self.runner.running("backup"):
            return
        if parent_folder is None:
            start = self.settings.value("backup/folder", str(Path.home()))
            parent_folder = QFileDialog.getExistingDirectory(self, "Back up the workspace into…", start)
            if not parent_folder:
                return
        self.settings.setValue("backup/folder", parent_folder)
        target = Path(parent_folder) / f"chequeverify-backup-{dt.datetime.now():%Y-%m-%d-%H%M%S}"
        self.statusBar().showMessage(f"Backing up the workspace to {target}…")

        def done(summary) -> None:
            self.statusBar().showMessage(f"Workspace backed up to {summary.path}.", 15000)
            self.refresh_last_backup()
            ok = summary.chain_ok
            box = QMessageBox(
                QMessageBox.Icon.Information if ok else QMessageBox.Icon.Warning, "Workspace backed up",
                f"<b>{'Backed up' if ok else 'Backed up, but its audit log does not verify'}</b><br><br>"
                f"{summary.path}<br>{summary.bytes / 1e6:.1f} MB · {summary.rows} audit rows<br>"
                f"SHA-256 <tt>{summary.sha256}</tt><br>"
                + (f"Audit head <tt>{summary.anchor}</tt><br><br>Keep the head with the backup's record, outside the "
                   "workspace: the live log must go on holding that row." if ok else
                   f"<br>{summary.problem}.<br>The copy is kept as evidence; investigate the workspace."),
                QMessageBox.StandardButton.Close, self)  # fmt: skip
            box.setTextFormat(Qt.TextFormat.RichText)
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.open()
            self._dialogs["backup"] = box

        def failed(exc: BaseException, details: str = "") -> None:
            self.statusBar().clearMessage()
            self.show_error(exc, details)

        self.runner.submit(self.session.backup, target, name="backup", on_done=done, on_error=failed)

    def open_settings(self) -> QWidget:
        from chequeverify.gui.settings import ThresholdsDialog

        def create():
            dlg = ThresholdsDialog(self.session, self.runner, self)
            dlg.saved.connect(lambda _info: self.refresh_approvals())  # a looser change waits: count it
            return dlg

        return self._singleton("settings", create)

    def show_shortcuts(self) -> None:
        rows = [(a.text().replace("&", ""), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
                for a in self.actions() if not a.shortcut().isEmpty() and a.isVisible()]  # fmt: skip
        html = "<table cellspacing=6>" + "".join(f"<tr><td><b>{k}</b></td><td>{t}</td></tr>" for t, k in rows) + "</table>"
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", html, QMessageBox.StandardButton.Close, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.open()
        self._dialogs["shortcuts"] = box

    def show_about(self) -> None:
        from chequeverify import __version__

        box = QMessageBox(QMessageBox.Icon.NoIcon, "About chequeverify",
                          f"<b>chequeverify {__version__}</b><br>Handwritten signature verification on scanned "
                          f"cheques.<br><br>Workspace: {self.session.workspace.path}<br>"
                          f"Model: {self.model_id or 'not loaded'}", QMessageBox.StandardButton.Close, self)  # fmt: skip
        box.setIconPixmap(icons.app_icon().pixmap(48, 48))
        box.open()
        self._dialogs["about"] = box

    # =========================================================================
    # errors, logout, close
    # =========================================================================
    def show_error(self, exc: BaseException, details: str = "") -> None:
        if self._closing:
            return
        self.statusBar().showMessage(describe(exc), 10000)
        previous = self._dialogs.get("error")
        try:
            if previous is not None and previous.isVisible() and previous.property("message") == describe(exc):
                return  # the same failure again (a folder of cheques hitting one bug): one dialog is enough
        except RuntimeError:  # that dialog was deleted
            pass
        box = show_error(self, exc, details)
        box.setProperty("message", describe(exc))
        self._dialogs["error"] = box

    def logout(self) -> None:
        self._logging_out = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self._closing = True
        self._save_settings()
        for dlg in list(self._dialogs.values()):
            try:
                dlg.close()
            except RuntimeError:
                pass
        self.runner.wait(30000)
        self.runner.discard_callbacks()  # their results would land on this window's deleted widgets
        try:
            self.session.logout()
        except ChequeVerifyError as exc:  # the log-out event could not be written; nothing else to do
            log.warning("logout not recorded: %s", exc)
        event.accept()
        if getattr(self, "_logging_out", False):
            self.logoutRequested.emit()
        else:
            self.closed.emit()

