"""The account of the cheque: typed, or picked from a searchable list; and its amount."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QRegularExpression, QStringListModel, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QGridLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from chequeverify.gui import theme

#: digits and a decimal point only: a decimal comma ("250,50") is ambiguous with a thousands separator
_AMOUNT_RE = QRegularExpression(r"^\s*\d{0,12}(\.\d{0,2})?\s*$")


def mandate_uses_amount(mandate: str) -> bool:
    """Whether a mandate's canonical text has amount tiers (``up to X: …; above X: …``)."""
    return bool(re.search(r"\b(up to|above|otherwise)\b", mandate or "", re.IGNORECASE))


class AccountPicker(QWidget):
    """An editable combo over the workspace's accounts (search by number, holder or signatory) and an amount field.

    ``accountChosen(number)`` when the clerk settles on a known account
    (Enter, a pick from the list, or leaving the field); ``amountEdited(text)``
    when the amount is changed and confirmed.
    """

    accountChosen = Signal(str)
    amountEdited = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._accounts: dict[str, object] = {}
        self._current: str | None = None
        self._amount_text = ""
        self._locked = False
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(3)
        self.account_label = QLabel("&Account")
        self.account_label.setObjectName("Muted")
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMinimumContentsLength(16)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.lineEdit().setPlaceholderText("Number or holder…")
        self.combo.setAccessibleName("Account")
        self._completion = QStringListModel(self)
        completer = QCompleter(self._completion, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.combo.setCompleter(completer)
        self.account_label.setBuddy(self.combo)
        self.amount_label = QLabel("A&mount")
        self.amount_label.setObjectName("Muted")
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.00")
        self.amount.setValidator(QRegularExpressionValidator(_AMOUNT_RE, self))
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.setMaximumWidth(130)
        self.amount.setAccessibleName("Amount")
        self.amount_label.setBuddy(self.amount)
        self.holder = QLabel("")
        self.holder.setObjectName("Muted")
        self.holder.setWordWrap(True)
        grid.addWidget(self.account_label, 0, 0)
        grid.addWidget(self.amount_label, 0, 1)
        grid.addWidget(self.combo, 1, 0)
        grid.addWidget(self.amount, 1, 1)
        grid.addWidget(self.holder, 2, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        self.combo.activated.connect(self._picked)
        self.combo.lineEdit().editingFinished.connect(self._typed)
        completer.activated.connect(lambda text: self._settle(text))
        self.amount.editingFinished.connect(self._amount_done)

    # --- content ------------------------------------------------------------------
    def set_accounts(self, accounts: list) -> None:
        """``accounts``: service ``AccountInfo`` objects (watch-lists are left out: nobody pays from them)."""
        current = self.combo.currentText()
        self._accounts = {a.number: a for a in accounts if not a.watchlist}
        labels = [self._label(a) for a in self._accounts.values()]
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(labels)
        self.combo.setEditText(current)
        self.combo.blockSignals(False)
        self._completion.setStringList(labels)

    def known_numbers(self) -> set[str]:
        return set(self._accounts)

    def account_info(self, number: str | None):
        return self._accounts.get(number or "")

    @staticmethod
    def _label(a) -> str:
        return f"{a.number} — {a.holder}"

    def set_account(self, number: str | None, amount: str | None = None) -> None:
        """Show ``number`` (and ``amount``) without emitting anything (selecting another cheque)."""
        self._current = number
        self.combo.blockSignals(True)
        info = self._accounts.get(number or "")
        self.combo.setEditText(self._label(info) if info else (number or ""))
        self.combo.blockSignals(False)
        self.amount.blockSignals(True)
        self.amount.setText(amount or "")
        self._amount_text = amount or ""
        self.amount.blockSignals(False)
        self._show_holder(info)
        self._mark_invalid(False)

    def current(self) -> str | None:
        return self._current

    def amount_text(self) -> str:
        return self.amount.text().strip().replace(",", ".")

    def _show_holder(self, info) -> None:
        if info is None:
            self.holder.setText("")
            self._highlight_amount(False)
            return
        needs = mandate_uses_amount(info.mandate)
        self.holder.setText(f"Mandate: {info.mandate}" + ("  ·  the amount decides the rule" if needs else ""))
        self._highlight_amount(needs)

    def _highlight_amount(self, needed: bool) -> None:
        self.amount_label.setText("A&mount (needed)" if needed else "A&mount")
        self.amount_label.setStyleSheet(f"color: {theme.REFER}; font-weight: 600;" if needed else "")

    def _mark_invalid(self, invalid: bool) -> None:
        self.combo.lineEdit().setProperty("invalid", invalid)
        self.combo.lineEdit().style().unpolish(self.combo.lineEdit())
        self.combo.lineEdit().style().polish(self.combo.lineEdit())
        if invalid:
            self.holder.setText("No such account. Pick one from the list.")
            self.holder.setStyleSheet(f"color: {theme.REJECT};")
        else:
            self.holder.setStyleSheet("")

    def resolve(self, text: str) -> str | None:
        """The account number ``text`` stands for: an exact number, a list label, or a unique match."""
        text = text.strip()
        if not text:
            return None
        number = text.split(" — ")[0].strip()
        for k in self._accounts:
            if k.lower() == number.lower():
                return k
        hits = [k for k, a in self._accounts.items()
                if text.lower() in k.lower() or text.lower() in a.holder.lower()]  # fmt: skip
        return hits[0] if len(hits) == 1 else None

    def set_locked(self, locked: bool, why: str = "") -> None:
        """Lock the account and the amount (the cheque shown may not be verified again by this user)."""
        self._locked = locked
        for w in (self.combo, self.amount):
            w.setEnabled(not locked)
            w.setToolTip(why if locked else "")

    @property
    def locked(self) -> bool:
        return self._locked

    # --- events ---------------------------------------------------------------------
    def _picked(self, index: int) -> None:
        self._settle(self.combo.itemText(index))

    def _typed(self) -> None:
        self._settle(self.combo.currentText())

    def _settle(self, text: str) -> None:
        if not text.strip() or self.locked:
            return
        number = self.resolve(text)
        if number is None:
            self._mark_invalid(True)
            return
        self._mark_invalid(False)
        info = self._accounts[number]
        self.combo.blockSignals(True)
        self.combo.setEditText(self._label(info))
        self.combo.blockSignals(False)
        self._show_holder(info)
        if number != self._current:
            self._current = number
            self.accountChosen.emit(number)

    def _amount_done(self) -> None:
        text = self.amount_text()
        if text == self._amount_text or self.locked:
            return
        if text:
            try:
                Decimal(text)
            except InvalidOperation:
                return
        self._amount_text = text
        self.amountEdited.emit(text)
