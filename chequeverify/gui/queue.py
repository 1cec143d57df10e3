"""The cheque queue: one row per scanned file, its state, filterable.

A row's ``state`` is the decision in force, for its colour: ``pending``
(not verified yet: waiting, being read, or waiting for its account),
``accepted``, ``referred``, ``rejected`` (the clerk's once made, else the
model's) or ``error`` (the file could not be read or verified; the whole
message is the row's tooltip).

A row's ``status`` says who decided, and is what the clerk filters and
counts on: a model's proposal nobody confirmed yet (``to_decide``) never
reads as a decision, nor does an override waiting for a second supervisor
(``awaiting``); ``accepted`` / ``referred`` / ``rejected`` are a person's
final decisions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from chequeverify.gui import theme
from chequeverify.service import SCAN_SUFFIXES as SUPPORTED_SUFFIXES

#: file suffixes the queue takes from a folder or a drop
#: what a folder of scans is listed by: the formats the cheque reader opens
SCAN_SUFFIXES = frozenset(SUPPORTED_SUFFIXES)
#: the file dialogs' filter for them
SCAN_FILTER = " ".join(f"*{s}" for s in SUPPORTED_SUFFIXES)

#: who decided: what the queue's filter and counts are by (``QueueItem.status``)
STATUSES = ("pending", "to_decide", "awaiting", "accepted", "referred", "rejected", "error")
STATUS_LABELS = {"pending": "Pending", "to_decide": "To decide", "awaiting": "Awaiting approval",
                 "accepted": "Accepted", "referred": "Referred", "rejected": "Rejected", "error": "Error"}  # fmt: skip
#: an override waiting for a second supervisor: neither the model's colour nor a decision's
AWAITING_COLOUR = theme.FOCUS
AWAITING_TINT = "#dbe7f6"
MODEL_SAYS = {"ACCEPT": "model: accept", "REFER": "model: refer", "REJECT": "model: reject"}

Box = tuple[int, int, int, int]


@dataclass(eq=False)
class QueueItem:
    """One cheque file in the queue and what is known of it so far (UI thread only)."""

    path: Path
    account: str | None = None
    amount: str | None = None
    box: Box | None = None  # a box the clerk corrected (None: the reader's)
    verification: Any = None  # service Verification
    located_box: Box | None = None  # from a read without account
    signature: Any = None  # QImage of the cleaned signature (read without account)
    error: BaseException | None = None
    busy: bool = False
    deciding: bool = False  # busy recording the clerk's decision (not verifying)
    processed: bool = False  # the background pass has been over it
    note: str = ""
    history: list[int] = field(default_factory=list)  # cheque ids verified for this file, oldest first
    #: the reason the clerk typed for this cheque and has not used yet (the field is per cheque)
    reason_draft: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def state(self) -> str:
        if self.error is not None:
            return "error"
        if self.verification is not None:
            return theme.DECISION_STATE[str(self.verification.final_decision)]
        return "pending"

    @property
    def status(self) -> str:
        """One of :data:`STATUSES`: who decided (the model alone, a person, a person waiting for approval)."""
        if self.error is not None:
            return "error"
        v = self.verification
        if v is None:
            return "pending"
        f = v.final
        if f is None:
            return "to_decide"
        if f.status == "awaiting_approval":
            return "awaiting"
        # final, or an override refused by a supervisor: a person's word, the model's decision standing
        return theme.DECISION_STATE[str(v.final_decision)]

    @property
    def detail(self) -> str:
        if self.busy:
            return "recording the decision…" if self.deciding else ("verifying…" if self.account else "reading…")
        if self.error is not None:
            return str(self.error)
        v = self.verification
        if v is not None:
            if v.final is None:
                return f"to decide: the model proposes {v.decision}; nobody has confirmed it yet"
            if v.final.status == "awaiting_approval":
                return (f"override to {v.final.decision} by {v.final.decided_by}, awaiting a second supervisor's "
                        f"approval (the model said {v.decision})")  # fmt: skip
            if v.final.status == "refused":
                return f"override refused by {v.final.reviewed_by}: the model's {v.decision} stands"
            return f"{v.final.decision} by {v.final.decided_by}"
        if not self.account:
            return "account needed"
        return "waiting"

    @property
    def decided(self) -> bool:
        v = self.verification
        return v is not None and v.final is not None and v.final.status in ("final", "awaiting_approval", "refused")

    @property
    def watchlist_hits(self) -> tuple:
        """The verification's matches with known forgers (empty when none, or before the service has them)."""
        return tuple(getattr(self.verification, "watchlist_hits", ()) or ())

    def short_error(self) -> str:
        """The error's message alone (no hint), without the file name the row already shows."""
        exc = self.error
        if exc is None:
            return ""
        text = str(getattr(exc, "message", None) or exc)
        for prefix in (f"{self.name}: ", f"{self.path}: "):
            if text.startswith(prefix):
                text = text[len(prefix):]
                text = text[:1].upper() + text[1:]
        return text


def account_from_name(name: str, known: set[str]) -> str | None:
    """The account a file name names, if any: a known account number as a token of the name.

    Scans from a capture desk are often named after the account (the
    MICR line's account field); ``ACC-1001_0003.png`` → ``ACC-1001``.
    """
    stem = Path(name).stem
    if not known:
        return None
    lowered = {k.lower(): k for k in known}
    tokens = [t for t in re.split(r"[_\s]+|__", stem) if t]
    for token in tokens:
        hit = lowered.get(token.lower())
        if hit:
            return hit
    for k_low, k in sorted(lowered.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"(^|[^0-9a-z]){re.escape(k_low)}($|[^0-9a-z])", stem.lower()):
            return k
    return None


def item_at(index: QModelIndex | QPersistentModelIndex) -> QueueItem | None:
    """The queue item of an index of the model or of a proxy over it.

    Looked up in Python rather than passed through ``data()``: PySide
    mishandles reference counts of arbitrary Python objects carried in a
    QVariant, which crashes the interpreter sooner or later.
    """
    if not index.isValid():
        return None
    model = index.model()
    while isinstance(model, QSortFilterProxyModel):
        index = model.mapToSource(index)
        model = model.sourceModel()
    if isinstance(model, ChequeQueueModel) and 0 <= index.row() < model.rowCount():
        return model.item(index.row())
    return None


class ChequeQueueModel(QAbstractTableModel):
    """Rows: :class:`QueueItem`. Columns: state, cheque (file name over account), score."""

    COLUMNS = ("State", "Cheque", "Score")
    StateRole = Qt.ItemDataRole.UserRole + 1
    StatusRole = Qt.ItemDataRole.UserRole + 2

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[QueueItem] = []

    # --- access ---------------------------------------------------------------------
    def items(self) -> list[QueueItem]:
        return list(self._items)

    def item(self, row: int) -> QueueItem:
        return self._items[row]

    def row_of(self, item: QueueItem) -> int:
        for i, it in enumerate(self._items):
            if it is item:
                return i
        return -1

    def paths(self) -> set[Path]:
        return {it.path for it in self._items}

    def add(self, paths: list[Path]) -> list[QueueItem]:
        """Append the files not queued yet; returns the new items."""
        known = self.paths()
        fresh = []
        for p in paths:
            p = Path(p)
            if p in known:
                continue
            known.add(p)
            fresh.append(QueueItem(p))
        if fresh:
            start = len(self._items)
            self.beginInsertRows(QModelIndex(), start, start + len(fresh) - 1)
            self._items.extend(fresh)
            self.endInsertRows()
        return fresh

    def clear(self) -> None:
        self.beginResetModel()
        self._items.clear()
        self.endResetModel()

    def changed(self, item: QueueItem) -> None:
        row = self.row_of(item)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def counts(self) -> dict[str, int]:
        """Rows per :data:`STATUSES` (a proposal is counted apart from a person's decision)."""
        out = dict.fromkeys(STATUSES, 0)
        for it in self._items:
            out[it.status] += 1
        return out

    # --- Qt model -------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        it = self._items[index.row()]
        col = index.column()
        if role == self.StateRole:
            return it.state
        if role == self.StatusRole:
            return it.status
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return STATUS_LABELS[it.status]
            if col == 1:
                return it.name
            if col == 2:
                v = it.verification
                return f"{v.score:.3f}" if v is not None and math.isfinite(v.score) else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            text = f"{it.path}\n{STATUS_LABELS[it.status]}: {it.detail}"
            for hit in it.watchlist_hits:
                text += f"\n⚠ {theme.watchlist_text(hit)}"
            return text
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class QueueFilter(QSortFilterProxyModel):
    """Filters the queue by status (:data:`STATUSES`; None = all) and by text in the file name or account."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._state: str | None = None
        self._text = ""

    def _refilter(self, change) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9: invalidateRowsFilter is deprecated
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            change()
            self.invalidateRowsFilter()

    def set_state(self, state: str | None) -> None:
        self._refilter(lambda: setattr(self, "_state", state))

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_text", text.strip().lower()))

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:  # noqa: N802
        model: ChequeQueueModel = self.sourceModel()  # type: ignore[assignment]
        it = model.item(row)
        if self._state is not None and it.status != self._state:
            return False
        if self._text and self._text not in it.name.lower() and self._text not in (it.account or "").lower():
            return False
        return True


class StateDelegate(QStyledItemDelegate):
    """Paints the status column: a chip, with a caption under it where it says more.

    The three kinds never look alike: a model's proposal is an outlined
    chip "To decide" over "model: accept" in the proposal's colour; a
    person's final decision is a chip filled in the decision's colour
    ("Accepted ✓") over who made it; an override waiting for a second
    supervisor is a blue chip "Awaiting" over "approval: accept". A row
    being worked on shows "Working" with a blue dot.
    """

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        option.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        item = item_at(index)
        if item is None:
            return
        chip, caption, caption_colour, kind = self.describe(item)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        f = theme.font(-1.5, bold=True)
        small = theme.font(-2)
        fm, sfm = QFontMetrics(f), QFontMetrics(small)
        w = fm.horizontalAdvance(chip) + 22 + (10 if kind == "final" else 0)
        h = 18.0
        if caption:
            top = option.rect.center().y() - (h + 1 + sfm.height()) / 2
        else:
            top = option.rect.center().y() - h / 2
        r = QRectF(option.rect.left() + 6, top, w, h)
        state = item.state
        colour = theme.state_colour(state)
        if kind == "final":  # a person's decision: filled, white text
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            fg, dot = QColor("white"), QColor("white")
        elif kind == "proposal":  # the model's alone: outlined, nothing filled in the decision's colour
            painter.setPen(QPen(colour, 1.2, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(theme.PANEL))
            fg, dot = QColor(theme.INK), colour
        elif kind == "awaiting":  # (outlined too: its tint is the selected row's)
            painter.setPen(QPen(QColor(AWAITING_COLOUR), 1.2))
            painter.setBrush(QColor(AWAITING_TINT))
            fg = dot = QColor(AWAITING_COLOUR)
        else:  # pending, error, working
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.tint(state))
            fg = dot = colour
        if kind == "working":
            dot = QColor(theme.FOCUS)
        painter.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), 9, 9)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(dot)
        painter.drawEllipse(QPointF(r.left() + 9, r.center().y()), 3, 3)
        painter.setFont(f)
        painter.setPen(QPen(fg))
        painter.drawText(r.adjusted(15, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, chip)
        if kind == "final":  # a tick: a person said so
            painter.setPen(QPen(fg, 1.6))
            x, y = r.right() - 14, r.center().y()
            painter.drawPolyline([QPointF(x, y), QPointF(x + 3, y + 3), QPointF(x + 8, y - 3)])
        if caption:
            painter.setFont(small)
            painter.setPen(QColor(caption_colour))
            cap = sfm.elidedText(caption, Qt.TextElideMode.ElideRight, option.rect.width() - 8)
            painter.drawText(QRectF(option.rect.left() + 7, r.bottom() + 1, option.rect.width() - 8, sfm.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, cap)  # fmt: skip
        painter.restore()

    @staticmethod
    def describe(item: QueueItem) -> tuple[str, str, str, str]:
        """(chip text, caption, caption colour, kind) for ``item``; kind: proposal, final, awaiting, working, other."""
        if item.busy:
            return "Working", "", theme.MUTED, "working"
        status = item.status
        v = item.verification
        if status == "to_decide":
            return "To decide", MODEL_SAYS.get(str(v.decision), ""), theme.state_colour(item.state).name(), "proposal"
        if status == "awaiting":
            return "Awaiting", f"approval: {str(v.final.decision).lower()}", AWAITING_COLOUR, "awaiting"
        if status in ("accepted", "referred", "rejected"):
            f = v.final
            if f.status == "refused":
                caption = "override refused"
            else:
                caption = ("override · " if f.is_override else "by ") + f.decided_by
            return STATUS_LABELS[status], caption, theme.MUTED, "final"
        return STATUS_LABELS[status], "", theme.MUTED, "other"

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(118, 36)


class FileDelegate(QStyledItemDelegate):
    """The file name, with the account (or "account needed") under it in a quieter colour."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        self.initStyleOption(option, index)
        option.text = ""
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        item = item_at(index)
        if item is None:
            return
        painter.save()
        r = QRectF(option.rect).adjusted(4, 3, -4, -3)
        warn = bool(item.watchlist_hits)
        f = theme.font(0, bold=True)
        painter.setFont(f)
        painter.setPen(QColor(theme.INK))
        shown = item.path.stem if item.path.suffix.lower() in SCAN_SUFFIXES else item.name
        name = QFontMetrics(f).elidedText(shown, Qt.TextElideMode.ElideMiddle, int(r.width()))
        painter.drawText(QRectF(r.left(), r.top(), r.width(), r.height() / 2 + 1),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, name)
        small = theme.font(-1.5)
        painter.setFont(small)
        painter.setPen(QColor(theme.MUTED if item.account else theme.REFER))
        sub = item.account or "account needed"
        if item.error is not None:
            # the short form; the row's tooltip and the result panel carry the whole message and its hint
            painter.setPen(QColor(theme.ERROR))
            sub = item.short_error()
        elif warn:
            # a known forger's hand: a red warning mark before anything else on the row's second line
            side = 11.0
            top = r.center().y() + 2
            cx = r.left() + side / 2
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.REJECT))
            painter.drawPolygon(QPolygonF([QPointF(cx, top), QPointF(cx + side / 2, top + side),
                                           QPointF(cx - side / 2, top + side)]))  # fmt: skip
            painter.setPen(QPen(QColor("white"), 1.4))
            painter.drawLine(QPointF(cx, top + 3.5), QPointF(cx, top + side - 4))
            painter.drawPoint(QPointF(cx, top + side - 2))
            r = r.adjusted(side + 4, 0, 0, 0)
            painter.setFont(theme.font(-1.5, bold=True))
            small = painter.font()
            painter.setPen(QColor(theme.REJECT))
            sub = "Watch-list match"
        painter.drawText(QRectF(r.left(), r.center().y() + 1, r.width(), r.height() / 2),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         QFontMetrics(small).elidedText(sub, Qt.TextElideMode.ElideRight, int(r.width())))
        painter.restore()
