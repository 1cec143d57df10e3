"""Registration (supervisors): accounts, signatories, mandates, reference signatures, approvals.

Maker-checker: every reference a supervisor adds waits for a *second*
supervisor, who finds it under "Pending approvals" (with the overrides of
a model REJECT that wait for the same). References come from image files,
or from a box drawn on a loaded cheque or specimen card; each gets a
thumbnail and the quality check's verdict.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QDate, QRect, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QImageReader
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from chequeverify.errors import ChequeVerifyError
from chequeverify.gui import confirm, icons, theme
from chequeverify.gui.errors import ShowsJobErrors, show_error
from chequeverify.gui.qtimage import grey_to_qimage, qimage_to_grey
from chequeverify.gui.queue import SCAN_FILTER
from chequeverify.gui.settings import effect_html
from chequeverify.gui.viewer import ChequeViewer
from chequeverify.gui.widgets import EmptyState, Panel, SignatureTile
from chequeverify.gui.workers import Runner

MANDATE_EXAMPLES = (
    "any one",
    "any two",
    "all",
    "any 1 of panel A and any 1 of panel B",
    "up to 10000: any one; above 10000: any two",
)
STATUS_COLOURS = {"active": theme.ACCEPT, "pending": theme.REFER, "retiring": theme.REFER, "rejected": theme.REJECT}

Box = tuple[int, int, int, int]


# --- worker functions -------------------------------------------------------------------


def _ref_images(refs) -> dict[int, QImage]:
    return {r.id: grey_to_qimage(r.image) for r in refs}


def _load_account(session, number: str):
    detail = session.get_account(number)
    images = _ref_images([r for s in detail.signatories for r in s.references])
    # the account's changes waiting for a second supervisor (get_account does not list them)
    waiting = tuple(c for c in session.pending_changes() if c.account == detail.account.number)
    return detail, images, waiting


def _save_account(session, number: str, mandate: str | None, status: str | None, reason: str):
    """Change the mandate and/or status; the account as the service returns it (with its waiting changes)."""
    info = None
    if mandate is not None:
        info = session.set_mandate(number, mandate, reason=reason)
    if status is not None:
        info = session.set_account_status(number, status, reason=reason)
    return info


#: a settings change's kind, in the account list's words ("mandate change waiting")
CHANGE_KINDS = {"mandate": "mandate change", "account_status": "status change", "signatory": "signatory change"}


def waiting_change_html(change, *, me: str = "") -> str:
    """One settings change waiting for a second supervisor, in words: what, who, when, why (rich text)."""
    who = "you" if me and change.requested_by.lower() == me.lower() else html.escape(change.requested_by, quote=False)
    reason = f" — “{html.escape(change.reason, quote=False)}”" if change.reason else ""
    return (f"{html.escape(change.summary, quote=False)}<br><span style='color:{theme.MUTED}'>change {change.id}, "
            f"asked by {who} at {theme.when(change.requested_at)}{reason}</span>")  # fmt: skip


def effect_words(effect) -> str:
    """A thresholds change's effect on recent cheques, as a sentence (for the confirmation); "" for none."""
    if effect is None or not effect.cheques:
        return ""
    return (f"Of the last {effect.cheques} cheques, {effect.now_accepted} would now be accepted without a person "
            f"looking at them; {effect.people_rejected_now_accepted} of them are cheques people rejected. "
            f"{effect.no_longer_rejected} rejected would no longer be rejected.")  # fmt: skip


def change_consequence(change, effect=None) -> str:
    """What approving a settings change does, in words (for the confirmation)."""
    if change.kind == "thresholds":
        then = "Every cheque verified from now on is decided with the new thresholds."
    elif change.kind == "mandate":
        then = f"Cheques on account {change.account} are judged by the new signing rule from now on."
    else:
        then = f"Cheques on account {change.account} can be accepted and paid again."
    reason = f": “{change.reason}”" if change.reason else " (no reason given)"
    effect = effect_words(effect)
    return (f"{change.summary}\n\nAsked by {change.requested_by} at {theme.when(change.requested_at)}{reason}."
            + (f"\n\n{effect}" if effect else "") + f"\n\nApproving puts it in force at once. {then}")  # fmt: skip


#: fewer specimens than this get advice to enrol more (with one, the model refers most genuine cheques)
FEW_SPECIMENS = 3
#: approved specimens shown beside a pending one, for the checker to compare
APPROVED_SHOWN = 4


def _load_pending(session, with_overrides: bool):
    refs = session.pending_references()
    # beside each new specimen, the signatory's approved ones: what "unlike the others" is measured against
    approved: dict[int, list[QImage]] = {}
    details: dict[str, object] = {}
    for r in refs:
        if r.status != "pending":
            continue
        try:
            if r.account not in details:
                details[r.account] = session.get_account(r.account)
        except ChequeVerifyError:
            continue
        detail = details[r.account]
        sig = next((s for s in detail.signatories if s.id == r.signatory_id), None)  # type: ignore[attr-defined]
        if sig is not None:
            approved[r.id] = [grey_to_qimage(a.image) for a in sig.references if a.status in ("active", "retiring")
                              ][:APPROVED_SHOWN]  # fmt: skip
    overrides = session.pending_overrides() if with_overrides else []
    changes = session.pending_changes()
    cheques: dict[int, OverrideEvidence] = {}
    for o in overrides:
        try:
            cheques[o.cheque_id] = _override_evidence(session.get_cheque(o.cheque_id))
        except ChequeVerifyError as exc:
            cheques[o.cheque_id] = OverrideEvidence(None, None, (), (), (), error=str(exc))
    # a thresholds change's effect on recent cheques, computed now: the checker sees what its maker saw
    effects = {}
    for c in changes:
        if c.kind == "thresholds":
            try:
                effects[c.id] = session.thresholds_change_effect(c.id)
            except ChequeVerifyError:
                effects[c.id] = None  # the summary still says what the change is
    return refs, _ref_images(refs), overrides, cheques, approved, changes, effects


@dataclass
class SignatoryEvidence:
    """One signatory the cheque was scored against, with its specimens as the checker compares them."""

    name: str
    panel: str | None
    score: float
    decision: str
    accept: float
    reject: float
    valid: bool
    attributed: bool
    references: list[tuple[float, QImage]]  # (the query's score against this specimen, its image)
    note: str = ""


@dataclass
class OverrideEvidence:
    """What a checker needs to see before paying a cheque the model rejected (built on a worker)."""

    verification: object | None
    query: QImage | None
    signatories: tuple[SignatoryEvidence, ...]
    reasons: tuple[str, ...]
    watchlist_hits: tuple
    error: str = ""


#: specimens shown per signatory beside the cheque's signature
EVIDENCE_REFERENCES = 5


def _override_evidence(v) -> OverrideEvidence:
    """The cheque's signature, the signatories it was scored against (attributed ones, else the best), reasons."""
    shown = [s for s in v.signatories if s.attributed] or list(v.signatories[:1])
    sigs = tuple(
        SignatoryEvidence(s.name, s.panel, s.score, str(s.decision), s.accept, s.reject, s.valid, s.attributed,
                          [(r.score, grey_to_qimage(r.image)) for r in s.references[:EVIDENCE_REFERENCES]], s.note)
        for s in shown
    )  # fmt: skip
    return OverrideEvidence(v, grey_to_qimage(v.query_image), sigs, tuple(v.reasons),
                            tuple(getattr(v, "watchlist_hits", ()) or ()))  # fmt: skip


@dataclass
class Verdict:
    """The quality check's verdict on one candidate specimen, ready to show."""

    label: str
    image: QImage | None
    ok: bool
    text: str
    warning: bool = False  # passes, but unlike the signatory's other specimens


def _preview(src) -> QImage | None:
    """The file itself, small (when the check could not make a cleaned crop of it)."""
    if not isinstance(src, (str, Path)):
        return None
    reader = QImageReader(str(src))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and size.width() > 800:
        reader.setScaledSize(size.scaled(QSize(800, 400), Qt.AspectRatioMode.KeepAspectRatio))
    img = reader.read()
    return None if img.isNull() else img


def _check(session, account: str, signatory: int, sources: list, source: str, boxes: list | None,
           labels: list[str]) -> list[Verdict]:  # fmt: skip
    """The service's quality check of each candidate, writing nothing."""
    out = []
    for c in session.check_references(account, signatory, sources, source=source, boxes=boxes):
        image = grey_to_qimage(c.image) if c.image is not None else _preview(sources[c.index])
        if c.ok:
            text = f"passes the quality check: {c.ink_pixels} ink pixels, {c.width}×{c.height}"
            if c.agreement_note:
                text = f"passes the quality check, but is {c.agreement_note}"
        else:
            text = c.reason or "refused"
        out.append(Verdict(labels[c.index], image, c.ok, text, bool(c.ok and c.agreement_note)))
    return out


def _read_page(session, path: Path, as_cheque: bool):
    """A cheque (located by the service) or a specimen card (just the image)."""
    if as_cheque:
        from chequeverify.gui.qtimage import pil_to_qimage

        try:
            r = session.read_cheque(path)
            return pil_to_qimage(r.image), tuple(r.located.box)
        except ChequeVerifyError as exc:
            if type(exc).__name__ != "SignatureNotFound":
                raise
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    img = reader.read()
    if img.isNull():
        from chequeverify.errors import UnreadableScan

        raise UnreadableScan(f"{path.name} is not an image that can be read ({reader.errorString()}).")
    return img, None


# --- small widgets ---------------------------------------------------------------------


class ReferenceTile(SignatureTile):
    """A reference thumbnail with its status under it; right-click to ask for its retirement."""

    retireRequested = Signal(int)

    def __init__(self, ref, image: QImage | None, parent: QWidget | None = None) -> None:
        super().__init__(parent, size=QSize(128, 58))
        self.ref = ref
        self.set_image(image)
        self.set_footer(ref.status, STATUS_COLOURS.get(ref.status, theme.MUTED))
        src = ref.source_name or ref.source
        self.setMaximumWidth(160)
        self.setToolTip(f"reference {ref.id} · {ref.status} · from {src}\nadded by {ref.added_by} at {theme.when(ref.added_at)}"
                        + (f"\nreviewed by {ref.reviewed_by}" if ref.reviewed_by else ""))  # fmt: skip
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)

    def _menu(self, pos) -> None:
        if self.ref.status != "active":
            return
        menu = QMenu(self)
        act = menu.addAction("Retire this reference…")
        act.triggered.connect(lambda: self.retireRequested.emit(self.ref.id))
        menu.popup(self.mapToGlobal(pos))


class SignatoryCard(QFrame):
    addFiles = Signal(int)
    addFromPage = Signal(int)

    def __init__(self, sig, images: dict[int, QImage], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sig = sig
        self.setObjectName("RegCard")
        self.setStyleSheet(f"QFrame#RegCard {{ border: 1px solid {theme.BORDER}; border-radius: 6px; background: #fbfcfd; }}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        head = QHBoxLayout()
        name = QLabel(f"<b>{sig.name}</b>" + (f" · panel {sig.panel}" if sig.panel else ""))
        head.addWidget(name)
        validity = []
        if sig.valid_from:
            validity.append(f"from {sig.valid_from}")
        if sig.valid_until:
            validity.append(f"until {sig.valid_until}")
        v = QLabel(("valid " + " ".join(validity)) if validity else "no time limit")
        v.setObjectName("Muted" if sig.valid_today else "InlineError")
        head.addWidget(v)
        head.addStretch(1)
        self.add_files = QPushButton("Add from files…")
        self.add_files.clicked.connect(lambda: self.addFiles.emit(sig.id))
        self.add_page = QPushButton("From a cheque or card…")
        self.add_page.clicked.connect(lambda: self.addFromPage.emit(sig.id))
        head.addWidget(self.add_files)
        head.addWidget(self.add_page)
        lay.addLayout(head)
        grid = QGridLayout()
        grid.setSpacing(6)
        self.tiles: list[ReferenceTile] = []
        for k, ref in enumerate(sig.references):
            t = ReferenceTile(ref, images.get(ref.id))
            grid.addWidget(t, k // 5, k % 5)
            self.tiles.append(t)
        if not sig.references:
            none = QLabel("No references yet: add 3 to 10 specimen signatures.")
            none.setObjectName("Muted")
            grid.addWidget(none, 0, 0, 1, 5)
        grid.setColumnStretch(5, 1)
        lay.addLayout(grid)
        active = len(sig.active_references)
        pending = sum(1 for r in sig.references if r.status == "pending")
        foot = QLabel(f"{active} in force · {pending} waiting for approval · at most 10")
        foot.setObjectName("Faint")
        foot.setFont(theme.font(-1.5))
        lay.addWidget(foot)
        self.advice = None
        if 0 < active + pending < FEW_SPECIMENS:
            # the model's thresholds for one or two specimens accept few genuine cheques (model card)
            self.advice = QLabel(f"With {active + pending} specimen{'s' * (active + pending != 1)}, most genuine cheques "
                                 f"will be referred to a clerk: enrol {FEW_SPECIMENS} or more.")  # fmt: skip
            self.advice.setObjectName("Muted")
            self.advice.setWordWrap(True)
            lay.addWidget(self.advice)


class PagePicker(QDialog):
    """Take a reference from a cheque or a specimen card: load it, draw (or adjust) the box, add."""

    def __init__(self, session, runner: Runner, parent: QWidget | None = None, *, start_dir: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Reference from a cheque or specimen card")
        self.resize(900, 560)
        self.session = session
        self.runner = runner
        self.path: Path | None = None
        self.start_dir = start_dir
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.kind_cheque = QRadioButton("Cheque")
        self.kind_card = QRadioButton("Specimen card")
        self.kind_cheque.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.kind_cheque)
        group.addButton(self.kind_card)
        self.open_button = QPushButton(icons.icon("open-file"), "Open image…")
        self.open_button.clicked.connect(self.choose_file)
        self.file_label = QLabel("No image loaded.")
        self.file_label.setObjectName("Muted")
        top.addWidget(self.kind_cheque)
        top.addWidget(self.kind_card)
        top.addSpacing(12)
        top.addWidget(self.open_button)
        top.addWidget(self.file_label, 1)
        lay.addLayout(top)
        self.viewer = ChequeViewer()
        self.viewer.drawing = True
        self.viewer.boxEdited.connect(lambda _b: self._update())
        lay.addWidget(self.viewer, 1)
        hint = QLabel("Drag on the image to draw a box around one signature; drag its handles to adjust it.")
        hint.setObjectName("Faint")
        lay.addWidget(hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.addButton("Add reference", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setObjectName("Primary")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self._update()

    def choose_file(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Open a cheque or specimen card", self.start_dir,
                                           f"Images ({SCAN_FILTER})")  # fmt: skip
        if f:
            self.load(Path(f))

    def load(self, path: Path) -> None:
        self.path = Path(path)
        self.file_label.setText(f"Reading {self.path.name}…")
        self.runner.submit(_read_page, self.session, self.path, self.kind_cheque.isChecked(), name="page",
                           on_done=self._loaded, on_error=self._failed)  # fmt: skip

    def _loaded(self, result) -> None:
        image, box = result
        self.viewer.set_image(image)
        self.viewer.set_box(box, label="reference")
        self.file_label.setText(self.path.name + ("" if box else " — draw a box around the signature"))
        self._update()

    def _failed(self, exc, details) -> None:
        self.file_label.setText(str(exc))
        show_error(self, exc, details)

    def _update(self) -> None:
        self.add_button.setEnabled(self.viewer.box() is not None and self.path is not None)

    def source(self) -> tuple[object, str, Box | None, str]:
        """(what to hand to ``add_references``, its source kind, box, label)."""
        box = self.viewer.box()
        assert self.path is not None and box is not None
        if self.kind_cheque.isChecked():
            return self.path, "cheque", box, self.path.name
        x0, y0, x1, y1 = box
        crop = self.viewer.image().copy(QRect(x0, y0, x1 - x0, y1 - y0))
        return qimage_to_grey(crop), "card", None, f"{self.path.name} (card crop)"


# --- the dialog -----------------------------------------------------------------------------


class RegistrationDialog(ShowsJobErrors, QDialog):
    """``changed`` after anything was written (the main window reloads its account list)."""

    changed = Signal()
    loaded = Signal()

    def __init__(self, session, runner: Runner, rights: frozenset, settings: QSettings,
                 parent: QWidget | None = None, *, user_name: str = "") -> None:  # fmt: skip
        super().__init__(parent)
        self.user_name = user_name
        self.setWindowTitle("Registration — chequeverify")
        self.setWindowIcon(icons.app_icon())
        self.session = session
        self.runner = runner
        self.rights = rights
        self.settings = settings
        self.detail = None
        self.images: dict[int, QImage] = {}
        self.verdicts: list[Verdict] = []
        self.last_error: BaseException | None = None
        self.resize(1120, 760)
        geo = settings.value("registration/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs)
        self._build_accounts_tab()
        self._build_approvals_tab()
        self.refresh_accounts()
        self.refresh_pending()

    def _failed(self, exc: BaseException, details: str) -> None:
        """A failed job is shown over this window, and its buttons come back."""
        super()._failed(exc, details)
        good = bool(self.chosen()) and self._batch is not None
        self.add_checked_button.setEnabled(good)
        self.discard_button.setEnabled(bool(self.verdicts))

    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(1 if name == "approvals" else 0)

    def done(self, result: int) -> None:
        self.settings.setValue("registration/geometry", self.saveGeometry())
        super().done(result)

    # =====================================================================
    # accounts tab
    # =====================================================================
    def _build_accounts_tab(self) -> None:
        page = QWidget()
        split = QSplitter(Qt.Orientation.Horizontal, page)
        pl = QHBoxLayout(page)
        pl.setContentsMargins(10, 10, 10, 10)
        pl.addWidget(split)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self.account_search = QLineEdit()
        self.account_search.setPlaceholderText("Search number, holder or signatory")
        self.account_search.setClearButtonEnabled(True)
        self.account_search.textChanged.connect(self.refresh_accounts)
        ll.addWidget(self.account_search)
        self.account_list = QListWidget()
        self.account_list.currentItemChanged.connect(self._account_selected)
        ll.addWidget(self.account_list, 1)
        self.new_button = QPushButton("New account")
        self.new_button.setObjectName("Primary")
        self.new_button.clicked.connect(self.new_account)
        ll.addWidget(self.new_button)
        left.setMinimumWidth(260)
        split.addWidget(left)

        right = QScrollArea()
        right.setWidgetResizable(True)
        self.detail_scroll = right
        body = QWidget()
        self.detail_layout = QVBoxLayout(body)
        self.detail_layout.setContentsMargins(4, 0, 4, 0)
        self.detail_layout.setSpacing(10)
        right.setWidget(body)
        split.addWidget(right)
        split.setSizes([280, 820])

        # account form
        form_panel = Panel("Account")
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        self.number = QLineEdit()
        self.number.setPlaceholderText("e.g. 1002-334-55")
        self.holder = QLineEdit()
        self.holder.setPlaceholderText("Account holder's name")
        self.mandate = QComboBox()
        self.mandate.setEditable(True)
        self.mandate.addItems(MANDATE_EXAMPLES)
        self.mandate.setToolTip("The signing rule: any one, any two, all, by panel, by amount "
                                "(e.g. 'up to 10000: any one; above 10000: any two').")  # fmt: skip
        self.status = QComboBox()
        self.status.addItems(["active", "frozen", "closed"])
        self.watchlist = QCheckBox("Watch-list of known forgers (searched by “Who signed this?”, never paid from)")
        form.addRow("Number", self.number)
        form.addRow("Holder", self.holder)
        form.addRow("Mandate", self.mandate)
        form.addRow("Status", self.status)
        form.addRow("", self.watchlist)
        self.change_reason = QLineEdit()
        self.change_reason.setPlaceholderText("Why change the mandate or status (optional; shown to the second "
                                              "supervisor)")  # fmt: skip
        self.change_reason.setClearButtonEnabled(True)
        form.addRow("Reason", self.change_reason)
        self._reason_label = form.labelForField(self.change_reason)
        form_panel.body.addLayout(form)
        #: "Saved and in force" after a "Save mandate and status" that applied at once (a change that waits is
        #: said in the waiting box below instead)
        self.account_outcome = QLabel("")
        self.account_outcome.setObjectName("AccountOutcome")
        self.account_outcome.setWordWrap(True)
        self.account_outcome.setTextFormat(Qt.TextFormat.RichText)
        self.account_outcome.setVisible(False)
        form_panel.body.addWidget(self.account_outcome)
        #: the account's changes waiting for a second supervisor
        self.account_waiting = QLabel("")
        self.account_waiting.setObjectName("AccountWaiting")
        self.account_waiting.setWordWrap(True)
        self.account_waiting.setTextFormat(Qt.TextFormat.RichText)
        self.account_waiting.setStyleSheet(
            f"QLabel#AccountWaiting {{ background: {theme.TINTS['referred']}; color: {theme.INK}; "
            f"border: 1px solid {theme.REFER}; border-radius: 6px; padding: 8px; }}")  # fmt: skip
        self.account_waiting.setVisible(False)
        form_panel.body.addWidget(self.account_waiting)
        self.account_changes: tuple = ()
        #: ids of the changes the last save asked for (they wait for a second supervisor)
        self._just_asked: set[int] = set()
        row = QHBoxLayout()
        row.addStretch(1)
        self.save_button = QPushButton("Create account")
        self.save_button.setObjectName("Primary")
        self.save_button.clicked.connect(self.save_account)
        row.addWidget(self.save_button)
        form_panel.body.addLayout(row)
        self.detail_layout.addWidget(form_panel)

        # signatories
        self.sig_panel = Panel("Signatories and reference signatures")
        self.sig_box = QVBoxLayout()
        self.cards: list[SignatoryCard] = []
        self.sig_panel.body.addLayout(self.sig_box)
        add = QHBoxLayout()
        self.sig_name = QLineEdit()
        self.sig_name.setPlaceholderText("New signatory's name")
        self.sig_panel_edit = QLineEdit()
        self.sig_panel_edit.setPlaceholderText("Panel (optional)")
        self.sig_panel_edit.setFixedWidth(self.sig_panel_edit.fontMetrics().horizontalAdvance("Panel (optional)") + 24)
        # an open-ended authority is the common case: a date is only taken when its box is ticked,
        # and the calendar then opens at today (not at some minimum date standing for "none")
        self.sig_from_on = QCheckBox("from")
        self.sig_until_on = QCheckBox("until")
        self.sig_from = QDateEdit()
        self.sig_until = QDateEdit()
        for on, d in ((self.sig_from_on, self.sig_from), (self.sig_until_on, self.sig_until)):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.setEnabled(False)
            d.setStyleSheet(f"QDateEdit:disabled {{ color: {theme.FAINT}; }}")  # unticked: the date is not used
            on.toggled.connect(d.setEnabled)
        self.sig_from_on.setToolTip("Tick to give the date the signing authority starts (unticked: no start)")
        self.sig_until_on.setToolTip("Tick to give the last day of the signing authority (unticked: no end)")
        self._reset_signatory_form()
        self.add_sig_button = QPushButton("Add signatory")
        self.add_sig_button.clicked.connect(self.add_signatory)
        # two lines: who, then the signing authority's dates and the button
        add.addWidget(self.sig_name, 1)
        add.addWidget(self.sig_panel_edit)
        self.sig_panel.body.addLayout(add)
        dates = QHBoxLayout()
        validity = QLabel("Signing authority:")
        validity.setObjectName("Muted")
        dates.addWidget(validity)
        dates.addWidget(self.sig_from_on)
        dates.addWidget(self.sig_from)
        dates.addSpacing(6)
        dates.addWidget(self.sig_until_on)
        dates.addWidget(self.sig_until)
        dates.addStretch(1)
        dates.addWidget(self.add_sig_button)
        self.sig_panel.body.addLayout(dates)
        self.detail_layout.addWidget(self.sig_panel)

        # verdicts of the last additions
        self.verdict_panel = Panel("Quality check of the new specimens")
        self.verdict_grid = QGridLayout()
        self.verdict_grid.setSpacing(8)
        self.verdict_panel.body.addLayout(self.verdict_grid)
        row = QHBoxLayout()
        self.verdict_note = QLabel("")
        self.verdict_note.setObjectName("Muted")
        self.verdict_note.setWordWrap(True)
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.discard_checked)
        self.add_checked_button = QPushButton("Add references")
        self.add_checked_button.setObjectName("Primary")
        self.add_checked_button.clicked.connect(self.add_checked)
        row.addWidget(self.verdict_note, 1)
        row.addWidget(self.discard_button)
        row.addWidget(self.add_checked_button)
        self.verdict_panel.body.addLayout(row)
        self._batch = None
        self.verdict_panel.setVisible(False)
        self.detail_layout.addWidget(self.verdict_panel)
        self.detail_layout.addStretch(1)
        self.tabs.addTab(page, "Accounts")
        self.new_account()

    def refresh_accounts(self) -> None:
        text = self.account_search.text()
        self._submit(lambda s, t: s.list_accounts(t, limit=2000), self.session, text, name="reg-accounts",
                           on_done=self._accounts_listed)  # fmt: skip

    def _accounts_listed(self, accounts) -> None:
        current = self.detail.account.number if self.detail else None
        self.account_list.blockSignals(True)
        self.account_list.clear()
        for a in accounts:
            pending = f" · {a.pending_references} pending" if a.pending_references else ""
            waiting = tuple(getattr(a, "pending_changes", ()) or ())
            # a change waiting for a second supervisor is marked, so a supervisor sees it before opening the account
            flag = f"   ·   {CHANGE_KINDS.get(waiting[0].kind, 'change') if len(waiting) == 1 else 'changes'} waiting" \
                if waiting else ""  # fmt: skip
            item = QListWidgetItem(f"{a.number}{flag}\n{a.holder} · {a.signatories} signator{'y' if a.signatories == 1 else 'ies'}"
                                   f"{pending}{' · watch-list' if a.watchlist else ''}")  # fmt: skip
            item.setData(Qt.ItemDataRole.UserRole, a.number)
            item.setSizeHint(QSize(200, 46))
            if waiting:
                item.setBackground(theme.tint("referred"))
                item.setToolTip("Waiting for a second supervisor (not in force yet):\n"
                                + "\n".join(f"• {c.summary} — asked by {c.requested_by}" for c in waiting))  # fmt: skip
            self.account_list.addItem(item)
            if a.number == current:
                self.account_list.setCurrentItem(item)
        self.account_list.blockSignals(False)
        self.loaded.emit()

    def _account_selected(self, item, _previous=None) -> None:
        if item is None:
            return
        self.load_account(item.data(Qt.ItemDataRole.UserRole))

    def load_account(self, number: str) -> None:
        self._submit(_load_account, self.session, number, name="reg-account", on_done=self._account_loaded)

    def _account_loaded(self, result) -> None:
        previous = self.detail.account.number if self.detail is not None else None
        self.detail, images, waiting = result
        self.images.update(images)
        a = self.detail.account
        if a.number != previous:  # the last save's outcome was about another account
            self.account_outcome.setVisible(False)
            self._just_asked = set()
            self.change_reason.clear()
        self._show_account_changes(waiting)
        self.number.setText(a.number)
        self.number.setReadOnly(True)
        self.holder.setText(a.holder)
        self.holder.setReadOnly(True)
        self.mandate.setEditText(a.mandate)
        self.status.setCurrentText(a.status)
        self.status.setEnabled(True)
        self.watchlist.setChecked(a.watchlist)
        self.watchlist.setEnabled(False)
        self.save_button.setText("Save mandate and status")
        self.change_reason.setVisible(True)
        self._reason_label.setVisible(True)
        self.sig_panel.setEnabled(True)
        self._fill_signatories()
        self.loaded.emit()

    def new_account(self) -> None:
        self.detail = None
        self.account_list.clearSelection()
        for w in (self.number, self.holder):
            w.clear()
            w.setReadOnly(False)
        self.mandate.setEditText("any one")
        self.status.setCurrentText("active")
        self.status.setEnabled(False)
        self.watchlist.setChecked(False)
        self.watchlist.setEnabled(True)
        self.save_button.setText("Create account")
        self.change_reason.clear()
        self.change_reason.setVisible(False)
        self._reason_label.setVisible(False)
        self.account_outcome.setVisible(False)
        self._just_asked = set()
        self._show_account_changes(())
        self.sig_panel.setEnabled(False)
        self._fill_signatories()
        self.number.setFocus()

    def _fill_signatories(self) -> None:
        self.cards: list[SignatoryCard] = []
        while self.sig_box.count():
            w = self.sig_box.takeAt(0).widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        if self.detail is None:
            empty = QLabel("Create the account first, then add its signatories and their specimen signatures.")
            empty.setObjectName("Muted")
            self.sig_box.addWidget(empty)
            return
        if not self.detail.signatories:
            empty = QLabel("No signatories yet. Add one below.")
            empty.setObjectName("Muted")
            self.sig_box.addWidget(empty)
        for sig in self.detail.signatories:
            card = SignatoryCard(sig, self.images)
            card.addFiles.connect(self.add_reference_files)
            card.addFromPage.connect(self.add_reference_from_page)
            for t in card.tiles:
                t.retireRequested.connect(self.retire_reference)
            self.sig_box.addWidget(card)
            self.cards.append(card)

    def _written(self, _result=None) -> None:
        self.changed.emit()
        self.refresh_accounts()
        self.refresh_pending()
        if self.detail is not None:
            self.load_account(self.detail.account.number)

    def save_account(self) -> None:
        number, holder, mandate = self.number.text().strip(), self.holder.text().strip(), self.mandate.currentText().strip()
        if self.detail is None:
            self._submit(lambda s: s.add_account(number, holder, mandate, watchlist=self.watchlist.isChecked()),
                               self.session, name="reg-write", on_done=self._created)  # fmt: skip
        else:
            a = self.detail.account
            status = self.status.currentText()
            before = {c.id for c in self.account_changes}
            self._submit(_save_account, self.session, a.number, mandate if mandate != a.mandate else None,
                         status if status != a.status else None, self.change_reason.text().strip(),
                         name="reg-write", on_done=lambda info: self._account_saved(info, before))  # fmt: skip

    def _account_saved(self, info, before: set[int]) -> None:
        """Say plainly when the change was only asked for (it waits for a second supervisor)."""
        new = [c for c in (getattr(info, "pending_changes", ()) or ()) if c.id not in before] if info else []
        # asked for, not applied: the waiting box says so (shown as the account reloads); else it is in force
        self._just_asked = {c.id for c in new}
        if info is not None and not new:
            self.account_outcome.setText(f"<span style='color:{theme.ACCEPT}; font-weight:600'>Saved and in force."
                                         "</span>")  # fmt: skip
        self.account_outcome.setVisible(info is not None and not new)
        self.change_reason.clear()
        self._show_account_changes(getattr(info, "pending_changes", ()) or () if info else self.account_changes)
        self._written()

    def _show_account_changes(self, waiting) -> None:
        self.account_changes = tuple(waiting)
        if not waiting:
            self.account_waiting.setVisible(False)
            self.account_waiting.setText("")
            return
        items = "".join(f"<li>{waiting_change_html(c, me=self.user_name)}</li>" for c in waiting)
        if any(c.id in self._just_asked for c in waiting):
            head = (f"<span style='color:{theme.REFER}; font-weight:600'>Not changed yet: this waits for a second "
                    "supervisor's approval.</span> Until another supervisor approves it under Pending approvals, "
                    "the account keeps the mandate and status shown above.")  # fmt: skip
        else:
            head = "<b>Waiting for a second supervisor</b> (not in force yet):"
        self.account_waiting.setText(f"{head}<ul style='margin-top:2px; margin-bottom:0'>{items}</ul>")
        self.account_waiting.setVisible(True)

    def _created(self, info) -> None:
        self.detail = None
        self.changed.emit()
        self.load_account(info.number)
        self.refresh_accounts()

    def _reset_signatory_form(self) -> None:
        """Empty name and panel, no dates (the next signatory inherits nothing from the last one)."""
        self.sig_name.clear()
        self.sig_panel_edit.clear()
        today = QDate.currentDate()
        for on, d in ((self.sig_from_on, self.sig_from), (self.sig_until_on, self.sig_until)):
            on.setChecked(False)
            d.setDate(today)

    def signatory_dates(self) -> tuple[str | None, str | None]:
        """(valid from, valid until) as ``yyyy-MM-dd``, None where its box is not ticked."""
        return tuple(d.date().toString("yyyy-MM-dd") if on.isChecked() else None  # type: ignore[return-value]
                     for on, d in ((self.sig_from_on, self.sig_from), (self.sig_until_on, self.sig_until)))  # fmt: skip

    def add_signatory(self) -> None:
        if self.detail is None:
            return
        number = self.detail.account.number
        name, panel = self.sig_name.text().strip(), self.sig_panel_edit.text().strip() or None
        start, end = self.signatory_dates()
        if end is not None and self.sig_until.date() < QDate.currentDate():
            who = name or "This signatory"
            if not confirm.ask(self, "Signing authority already ended",
                               f"{who}'s signing authority ended on {end}. Add the signatory anyway?",
                               "A signatory whose authority has ended is scored for evidence only: they never count "
                               "for the mandate, so cheques they sign are not accepted. Untick “until” or change "
                               "the date if this is a mistake.", action="Add anyway"):  # fmt: skip
                return
        self._submit(lambda s: s.add_signatory(number, name, panel=panel, valid_from=start, valid_until=end),
                           self.session, name="reg-write", on_done=self._signatory_added)  # fmt: skip

    def _signatory_added(self, _info) -> None:
        self._reset_signatory_form()
        self._written()

    def _last_dir(self) -> str:
        return str(self.settings.value("registration/last_dir", str(Path.home())))

    def add_reference_files(self, signatory_id: int) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Specimen signatures", self._last_dir(),
                                                f"Images ({SCAN_FILTER})")  # fmt: skip
        if files:
            self.settings.setValue("registration/last_dir", str(Path(files[0]).parent))
            self.add_references(signatory_id, [Path(f) for f in files])

    def add_references(self, signatory_id: int, sources: list, *, source: str = "image", boxes=None,
                       labels: list[str] | None = None) -> None:  # fmt: skip
        """Check candidate specimens (nothing is written): each gets its verdict, then the good ones can be added."""
        if self.detail is None:
            return
        number = self.detail.account.number
        labels = labels or [Path(s).name if isinstance(s, (str, Path)) else f"image {i + 1}" for i, s in enumerate(sources)]
        self._batch = (number, signatory_id, list(sources), source, list(boxes) if boxes is not None else None)
        self._submit(_check, self.session, number, signatory_id, list(sources), source, boxes, labels,
                           name="reg-check", on_done=self._verdicts)  # fmt: skip

    def add_reference_from_page(self, signatory_id: int) -> None:
        picker = PagePicker(self.session, self.runner, self, start_dir=self._last_dir())
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        picker.accepted.connect(lambda: self._page_picked(picker, signatory_id))
        self._picker = picker
        picker.open()

    def _page_picked(self, picker: PagePicker, signatory_id: int) -> None:
        src, kind, box, label = picker.source()
        self.add_references(signatory_id, [src], source=kind, boxes=[box] if kind == "cheque" else None, labels=[label])

    def _verdicts(self, verdicts: list[Verdict]) -> None:
        self.verdicts = verdicts
        while self.verdict_grid.count():
            w = self.verdict_grid.takeAt(0).widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        #: one box per verdict (None for a refused one): what "Add N references" adds
        self.verdict_checks: list[QCheckBox | None] = []
        per_row = 4
        for i, v in enumerate(verdicts):
            tile = SignatureTile(size=QSize(170, 64), caption=v.label)
            tile.set_image(v.image, "no preview")
            footer = ("passes, unlike the others", theme.REFER) if v.warning else ("passes", theme.ACCEPT)
            tile.set_footer(*(footer if v.ok else ("refused", theme.REJECT)))
            tile.setMaximumWidth(220)
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(4)
            text = QLabel(v.text)
            text.setWordWrap(True)
            text.setMaximumWidth(220)
            text.setFont(theme.font(-1))
            text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            text.setStyleSheet(f"color: {theme.REFER if v.warning else theme.MUTED if v.ok else theme.REJECT};")
            column.addWidget(text)
            check = None
            if v.ok:
                # a specimen unlike the others is left out unless the supervisor ticks it (and confirms)
                check = QCheckBox("Add anyway" if v.warning else "Add")
                check.setChecked(not v.warning)
                check.setToolTip("Untick to leave this specimen out of the batch.")
                check.toggled.connect(lambda _on: self._update_add_button())
                column.addWidget(check)
            column.addStretch(1)
            self.verdict_checks.append(check)
            row, col = (i // per_row) * 2, i % per_row
            self.verdict_grid.addWidget(tile, row, col)
            self.verdict_grid.addWidget(cell, row + 1, col, Qt.AlignmentFlag.AlignTop)
        self.verdict_grid.setColumnStretch(per_row, 1)
        self.discard_button.setEnabled(True)
        self._update_add_button()
        self.verdict_panel.setVisible(bool(verdicts))
        if verdicts:
            QTimer.singleShot(0, self, lambda: self.detail_scroll.ensureWidgetVisible(self.verdict_panel))
        self.loaded.emit()

    def chosen(self) -> list[int]:
        """Indexes of the candidates ticked to be added (only ones that pass can be)."""
        checks = getattr(self, "verdict_checks", [])
        return [i for i, (v, c) in enumerate(zip(self.verdicts, checks)) if v.ok and c is not None and c.isChecked()]

    def _update_add_button(self) -> None:
        n = len(self.chosen())
        passing = sum(v.ok for v in self.verdicts)
        flagged = sum(v.ok and v.warning for v in self.verdicts)
        self.add_checked_button.setText(f"Add {n} reference{'s' if n != 1 else ''}")
        self.add_checked_button.setEnabled(n > 0 and self._batch is not None)
        if not passing:
            note = "None of these can be used: give clearer or different specimens."
        else:
            note = ("Only the ticked specimens are added; they then wait for a second supervisor's approval.")
            if flagged:
                note += (f" {flagged} unlike the signatory's other specimens {'is' if flagged == 1 else 'are'} "
                         "left out unless you tick it.")  # fmt: skip
        self.verdict_note.setText(note)

    def add_checked(self) -> None:
        """Add the ticked candidates, in one go (all or nothing); a flagged one needs a confirmation."""
        if self._batch is None or not self.verdicts:
            return
        number, sig_id, sources, source, boxes = self._batch
        keep = self.chosen()
        if not keep:
            return
        flagged = [self.verdicts[i].label for i in keep if self.verdicts[i].warning]
        if flagged and not confirm.ask(
            self, "Specimens unlike the others",
            f"Add {len(flagged)} specimen{'s' if len(flagged) != 1 else ''} unlike the signatory's others "
            f"({', '.join(flagged)})?",
            "A specimen that is another person's signature, or a different kind of signing, lowers the bar for "
            "every cheque of this signatory. Add it only if you have checked it is this person's signature.",
            action="Add anyway",
        ):  # fmt: skip
            return
        good = [sources[i] for i in keep]
        good_boxes = [boxes[i] for i in keep] if boxes is not None else None
        self.add_checked_button.setEnabled(False)
        self.discard_button.setEnabled(False)
        self._submit(lambda s: s.add_references(number, sig_id, good, source=source, boxes=good_boxes),
                           self.session, name="reg-write", on_done=self._added)  # fmt: skip

    def _added(self, refs) -> None:
        self._batch = None
        self.verdict_note.setText(f"Added {len(refs)} reference{'s' if len(refs) != 1 else ''}: "
                                  "they wait for a second supervisor's approval.")  # fmt: skip
        self.add_checked_button.setEnabled(False)
        for c in self.verdict_checks:
            if c is not None:
                c.setEnabled(False)
        self._written()

    def discard_checked(self) -> None:
        self._batch = None
        self.verdicts = []
        self.verdict_panel.setVisible(False)

    def retire_reference(self, reference_id: int) -> None:
        reason, ok = QInputDialog.getText(self, "Retire reference", f"Why retire reference {reference_id}? "
                                          "(a second supervisor must approve)")  # fmt: skip
        if ok and reason.strip():
            self._submit(lambda s: s.retire_reference(reference_id, reason.strip()), self.session,
                               name="reg-write", on_done=self._written)  # fmt: skip

    # =====================================================================
    # approvals tab
    # =====================================================================
    def _build_approvals_tab(self) -> None:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(10, 10, 10, 10)
        intro = QLabel("Changes made by another supervisor wait here for your approval (maker-checker): new "
                       "references, overrides of a model REJECT, and settings changes that make paying easier "
                       "(looser thresholds, a new mandate, an account made active again). You cannot approve your "
                       "own changes.")  # fmt: skip
        intro.setObjectName("Muted")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.pending_area = QScrollArea()
        self.pending_area.setWidgetResizable(True)
        body = QWidget()
        self.pending_layout = QVBoxLayout(body)
        self.pending_layout.setSpacing(8)
        self.pending_area.setWidget(body)
        lay.addWidget(self.pending_area, 1)
        self.tabs.addTab(page, "Pending approvals")
        self.pending_rows: list[QWidget] = []
        #: notes typed in the rows, by (kind, id): the list is rebuilt after every review, the notes stay
        self._notes: dict[tuple[str, int], str] = {}
        #: the evidence of each override shown, by cheque id (for the confirmation)
        self._evidence: dict[int, OverrideEvidence] = {}
        #: the settings changes shown, by id (for the confirmation)
        self._changes: dict[int, object] = {}
        #: the effect on recent cheques of each thresholds change shown, by id (None: not computed)
        self._effects: dict[int, object] = {}

    def refresh_pending(self) -> None:
        self._submit(_load_pending, self.session, "approve_override" in self.rights, name="reg-pending",
                           on_done=self._pending_loaded)  # fmt: skip

    def _pending_loaded(self, result) -> None:
        refs, images, overrides, cheques, approved, changes, effects = result
        self._changes = {c.id: c for c in changes}
        self._effects = dict(effects)
        self.images.update(images)
        self._evidence = dict(cheques)
        # keep what is typed in rows still pending; forget the notes of rows that are gone
        for row in self.pending_rows:
            key = (row.property("kind"), row.property("ident"))
            try:
                self._notes[key] = row.note_edit.text()  # type: ignore[attr-defined]
            except RuntimeError:  # the row was deleted already
                pass
        pending = ({("reference", r.id) for r in refs} | {("override", o.cheque_id) for o in overrides}
                   | {("change", c.id) for c in changes})  # fmt: skip
        self._notes = {k: t for k, t in self._notes.items() if k in pending and t}
        while self.pending_layout.count():
            item = self.pending_layout.takeAt(0)
            w = item.widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        self.pending_rows = []
        me = self.session_user_name()
        n = len(refs) + len(overrides) + len(changes)
        self.tabs.setTabText(1, f"Pending approvals ({n})" if n else "Pending approvals")
        if not n:
            self.pending_layout.addWidget(EmptyState("Nothing waits for approval", "New references, overrides "
                                                     "of a model REJECT and looser settings will appear here."))  # fmt: skip
        if refs:
            self.pending_layout.addWidget(self._section("Reference signatures"))
        for r in refs:
            what = "new reference" if r.status == "pending" else "retirement"
            sub = f"by {r.added_by} at {theme.when(r.added_at)} · from {r.source_name or r.source}"
            if r.agreement_note:
                sub += f"<br><span style='color:{theme.REFER}'>⚠ {html.escape(r.agreement_note[0].upper() + r.agreement_note[1:], quote=False)}</span>"
            elif r.agreement is not None:
                sub += f" · agrees with the other specimens (score {r.agreement:.2f})"
            row = self._approval_row(images.get(r.id), f"<b>{r.account}</b> · {r.signatory} — {what} {r.id}", sub,
                                     own=(r.added_by == me), kind="reference", ident=r.id,
                                     compare=approved.get(r.id))  # fmt: skip
            self.pending_layout.addWidget(row)
        if overrides:
            self.pending_layout.addWidget(self._section("Overrides of a model REJECT"))
        for o in overrides:
            ev = cheques.get(o.cheque_id)
            v = ev.verification if ev is not None else None
            title = (f"<b>cheque {o.cheque_id}</b> — {html.escape(o.decided_by)} overrode the model's "
                     f"<span style='color:{theme.REJECT}; font-weight:600'>REJECT</span> to "
                     f"<span style='color:{theme.decision_colour(str(o.decision)).name()}; font-weight:600'>"
                     f"{o.decision}</span>")  # fmt: skip
            sub = f"“{html.escape(o.reason)}” · at {theme.when(o.decided_at)}"
            if v is not None:
                sub += (f" · account {html.escape(v.account.number)} ({html.escape(v.account.holder)}), "
                        f"model score {v.score:.3f}")  # fmt: skip
                if v.file_name:
                    sub += f" · {html.escape(v.file_name)}"
            row = self._approval_row(None, title, sub, own=(o.decided_by == me), kind="override", ident=o.cheque_id,
                                     evidence=self._override_widget(ev))  # fmt: skip
            if ev is None or ev.verification is None:
                # nothing to judge by: paying is not offered (refusing still is)
                row.approve_button.setEnabled(False)  # type: ignore[attr-defined]
                row.approve_button.setToolTip("The cheque's evidence could not be loaded; refresh, or refuse.")  # type: ignore[attr-defined]
            self.pending_layout.addWidget(row)
        if changes:
            self.pending_layout.addWidget(self._section("Settings changes"))
        for c in changes:
            mine = bool(me) and c.requested_by.lower() == me.lower()
            kind = {"thresholds": "Thresholds", "mandate": f"Mandate of {c.account}",
                    "account_status": f"Status of account {c.account}"}.get(c.kind, c.kind)  # fmt: skip
            title = f"<b>{html.escape(kind, quote=False)}</b> — change {c.id}<br>{html.escape(c.summary, quote=False)}"
            reason = f"“{html.escape(c.reason, quote=False)}”" if c.reason else "no reason given"
            sub = f"{reason} · asked by {html.escape(c.requested_by, quote=False)} at {theme.when(c.requested_at)}"
            effect = effects.get(c.id)
            if effect is not None:
                against = ("what the model decided with the rows per number of references"
                           if effect.compared_with == "model decisions" else "the thresholds in force")  # fmt: skip
                sub += "<br>" + effect_html(effect.cheques, effect.after, effect.before, against,
                                            effect.people_rejected_now_accepted, lead="with this change")  # fmt: skip
            if mine:
                sub += (f"<br><span style='color:{theme.REFER}; font-weight:600'>You asked for this — another "
                        "supervisor must approve it.</span>")  # fmt: skip
            self.pending_layout.addWidget(self._approval_row(None, title, sub, own=mine, kind="change", ident=c.id))
        self.pending_layout.addStretch(1)
        self.loaded.emit()

    def session_user_name(self) -> str:
        return self.user_name

    def _section(self, text: str) -> QLabel:
        label = QLabel(text.upper())
        label.setObjectName("PanelTitle")
        return label

    def _override_widget(self, ev: OverrideEvidence | None) -> QWidget:
        """The evidence under an override: watch-list alert, the cheque's signature beside the specimens, reasons."""
        box = QWidget()
        box.setObjectName("OverrideEvidence")
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.setSpacing(6)
        if ev is None or ev.verification is None:
            err = QLabel("The cheque's evidence could not be loaded" + (f": {ev.error}" if ev and ev.error else "."))
            err.setObjectName("InlineError")
            err.setWordWrap(True)
            lay.addWidget(err)
            return box
        if ev.watchlist_hits:
            names = "; ".join(f"{h.signatory} ({h.account}{', ' + h.holder if getattr(h, 'holder', '') else ''}) "
                              f"score {h.score:.3f} ≥ {h.accept:.3f}" for h in ev.watchlist_hits)  # fmt: skip
            alert = QLabel(f"⚠  This signature matches a known forger on a watch-list: {html.escape(names)}. "
                           "Do not pay it without checking with the account holder.")  # fmt: skip
            alert.setObjectName("WatchlistAlert")
            alert.setWordWrap(True)
            alert.setStyleSheet(f"background: {theme.TINTS['rejected']}; color: {theme.REJECT}; font-weight: 600;"
                                "border-radius: 6px; padding: 8px;")  # fmt: skip
            lay.addWidget(alert)
        strip = QHBoxLayout()
        strip.setSpacing(10)
        query = SignatureTile(size=QSize(230, 92), caption="Signature on the cheque")
        query.set_image(ev.query)
        query.setObjectName("OverrideQuery")
        strip.addWidget(query, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout()
        column.setSpacing(4)
        if not ev.signatories:
            none = QLabel("The account has no specimens it could be compared with.")
            none.setObjectName("Muted")
            column.addWidget(none)
        for sig in ev.signatories:
            colour = theme.decision_colour(sig.decision).name()
            who = html.escape(sig.name) + (f" · panel {html.escape(sig.panel)}" if sig.panel else "")
            head = QLabel(f"Scored against <b>{who}</b>'s specimens: score <b>{sig.score:.3f}</b> — "
                          f"<span style='color:{colour}; font-weight:600'>{sig.decision}</span> "
                          f"<span style='color:{theme.MUTED}'>(accept ≥ {sig.accept:.3f}, reject below "
                          f"{sig.reject:.3f}{'' if sig.valid else '; signing authority not valid today'})</span>")  # fmt: skip
            head.setTextFormat(Qt.TextFormat.RichText)
            head.setWordWrap(True)
            column.addWidget(head)
            refs = QHBoxLayout()
            refs.setSpacing(6)
            for score, img in sig.references:
                tile = SignatureTile(size=QSize(150, 60))
                tile.set_image(img)
                tile.set_footer(f"score {score:.2f}", theme.MUTED)
                tile.setObjectName("OverrideReference")
                refs.addWidget(tile)
            refs.addStretch(1)
            column.addLayout(refs)
        strip.addLayout(column, 1)
        lay.addLayout(strip)
        if ev.reasons:
            items = "".join(f"<li>{html.escape(r)}</li>" for r in ev.reasons)
            reasons = QLabel(f"<b>Why the model rejected it:</b><ul style='margin-top:2px; margin-bottom:0'>{items}</ul>")
            reasons.setObjectName("OverrideReasons")
            reasons.setTextFormat(Qt.TextFormat.RichText)
            reasons.setWordWrap(True)
            lay.addWidget(reasons)
        return box

    def _approval_row(self, image, title: str, sub: str, *, own: bool, kind: str, ident: int,
                      compare: list | None = None, evidence: QWidget | None = None) -> QWidget:  # fmt: skip
        row = QFrame()
        row.setObjectName("ApprovalRow")
        row.setStyleSheet(f"QFrame#ApprovalRow {{ background: white; border: 1px solid {theme.BORDER}; border-radius: 6px; }}")
        outer = QVBoxLayout(row)
        lay = QHBoxLayout()
        outer.addLayout(lay)
        if kind not in ("override", "change"):
            tile = SignatureTile(size=QSize(150, 60))
            tile.set_image(image)
            lay.addWidget(tile)
        text = QLabel(f"{title}<br><span style='color:{theme.MUTED}'>{sub}</span>")
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        if compare:
            column = QVBoxLayout()
            column.addWidget(text)
            strip = QHBoxLayout()
            label = QLabel("approved specimens:")
            label.setObjectName("Muted")
            strip.addWidget(label)
            for img in compare:
                small = SignatureTile(size=QSize(96, 38))
                small.set_image(img)
                strip.addWidget(small)
            strip.addStretch(1)
            column.addLayout(strip)
            lay.addLayout(column, 1)
        else:
            lay.addWidget(text, 1)
        note = QLineEdit()
        placeholder = "Note (required to refuse)"
        note.setPlaceholderText(placeholder)
        note.setToolTip("A note for the audit log; a reason is required to refuse.")
        # wide enough for the whole placeholder, whatever the font
        note.setMinimumWidth(note.fontMetrics().horizontalAdvance(placeholder) + 28)
        note.setText(self._notes.get((kind, ident), ""))
        note.textChanged.connect(lambda t, k=(kind, ident): self._notes.__setitem__(k, t))
        approve = QPushButton("Approve")
        approve.setObjectName("Accept")
        refuse = QPushButton("Refuse")
        refuse.setObjectName("Reject")
        if kind == "change" and own:
            # its maker may withdraw a settings change (with a reason), not approve it
            approve.setVisible(False)
            refuse.setText("Withdraw")
            refuse.setObjectName("")
            placeholder = "Reason (required to withdraw)"
            note.setToolTip("Why you withdraw your change (kept in the audit log).")
            note.setPlaceholderText(placeholder)
            note.setMinimumWidth(note.fontMetrics().horizontalAdvance(placeholder) + 28)
        elif own:
            for w in (note, approve, refuse):
                w.setEnabled(False)
            approve.setToolTip("You made this change: a second supervisor must review it.")
            refuse.setToolTip(approve.toolTip())
        elif kind == "change":
            approve.setToolTip("Put this change in force now. You are asked to confirm.")
        elif kind == "override":
            approve.setToolTip("Make the clerk's decision final: the cheque will be paid. You are asked to confirm.")
        if kind == "change" or not own:
            # a refusal (or a withdrawal) always needs a reason: the maker and the auditors read it. The button
            # waits for one, whatever is refused
            hint = "Give a reason first." if own else "Give a reason in the note first."

            def need_reason(text: str, b=refuse, h=hint) -> None:
                b.setEnabled(bool(text.strip()))
                b.setToolTip("" if text.strip() else h)

            note.textChanged.connect(need_reason)
            need_reason(note.text())
        approve.clicked.connect(lambda: self.review(kind, ident, True, note.text()))
        refuse.clicked.connect(lambda: self.review(kind, ident, False, note.text()))
        lay.addWidget(note, 0, Qt.AlignmentFlag.AlignTop if evidence is not None else Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(approve, 0, Qt.AlignmentFlag.AlignTop if evidence is not None else Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(refuse, 0, Qt.AlignmentFlag.AlignTop if evidence is not None else Qt.AlignmentFlag.AlignVCenter)
        if evidence is not None:
            outer.addWidget(evidence)
        row.setProperty("kind", kind)
        row.setProperty("ident", ident)
        row.approve_button = approve  # type: ignore[attr-defined]
        row.refuse_button = refuse  # type: ignore[attr-defined]
        row.note_edit = note  # type: ignore[attr-defined]
        row.evidence = evidence  # type: ignore[attr-defined]
        self.pending_rows.append(row)
        return row

    def _confirm_payment(self, cheque_id: int) -> bool:
        """The checker says, once more and knowingly, that a cheque the model rejected is to be paid."""
        ev = self._evidence.get(cheque_id)
        v = ev.verification if ev is not None else None
        if v is None:
            return False
        lines = [f"Cheque {cheque_id}, account {v.account.number} ({v.account.holder}): the model REJECTED it "
                 f"(score {v.score:.3f})."]  # fmt: skip
        for sig in ev.signatories:
            lines.append(f"Against {sig.name}'s specimens it scores {sig.score:.3f}; a score below {sig.reject:.3f} "
                         "is rejected.")  # fmt: skip
        if ev.watchlist_hits:
            lines.append("WARNING: the signature matches a known forger on a watch-list ("
                         + ", ".join(f"{h.signatory}, {h.account}" for h in ev.watchlist_hits) + ").")
        lines.append("Approving makes the clerk's ACCEPT final: the cheque will be paid.")
        return confirm.ask(self, "Approve the override", "Pay this cheque against the model's REJECT?",
                           "\n\n".join(lines), action="Approve and pay")  # fmt: skip

    def _confirm_change(self, change_id: int) -> bool:
        """The checker says, knowingly, that a looser setting is to be put in force."""
        change = getattr(self, "_changes", {}).get(change_id)
        if change is None:
            return False
        return confirm.ask(self, "Approve the settings change", f"Put change {change_id} in force now?",
                           change_consequence(change, getattr(self, "_effects", {}).get(change_id)),
                           action="Approve and apply")  # fmt: skip

    def review(self, kind: str, ident: int, approve: bool, note: str) -> None:
        note = note.strip()
        if kind == "override" and approve and not self._confirm_payment(ident):
            return
        if kind == "change" and approve and not self._confirm_change(ident):
            return
        if kind == "change":
            fn = (lambda s: s.approve_change(ident, note)) if approve else (lambda s: s.refuse_change(ident, note))
        elif kind == "reference":
            fn = (lambda s: s.approve_reference(ident, note)) if approve else (lambda s: s.reject_reference(ident, note))
        else:
            fn = (lambda s: s.approve_override(ident, note)) if approve else (lambda s: s.refuse_override(ident, note))

        def reviewed(_result) -> None:
            self._notes.pop((kind, ident), None)
            self._written()

        self._submit(fn, self.session, name="reg-write", on_done=reviewed)
