"""How failures reach the clerk (qutebrowser's split).

A :class:`~chequeverify.errors.ChequeVerifyError` is the environment's
fault (a bad scan, an unknown account, a wrong password): its message is
written for the clerk and is shown plainly, with its hint. Anything else
is a bug: the dialog says so and offers the details to copy into a
report. Neither closes a window or throws away what the clerk typed.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from chequeverify.errors import AuthenticationFailed, ChequeVerifyError, PermissionDenied

log = logging.getLogger(__name__)

#: titles per error kind, in a clerk's words
_TITLES = {
    "UnreadableScan": "The scan cannot be read",
    "SignatureNotFound": "No signature found",
    "ReferenceRejected": "Reference signature refused",
    "UnknownAccount": "Not found",
    "PermissionDenied": "Not allowed",
    "AuthenticationFailed": "Sign-in failed",
    "MandateError": "Signing rule problem",
    "ModelError": "Signature model unavailable",
    "StorageError": "Workspace problem",
    "AuditTampered": "Audit log does not verify",
    "InvalidInput": "Please check the input",
}


def describe(exc: BaseException) -> str:
    """One line for a status bar or a queue row's tooltip."""
    if isinstance(exc, ChequeVerifyError):
        return str(exc)
    return f"Unexpected error: {type(exc).__name__}: {exc}"


def show_error(parent: QWidget | None, exc: BaseException, details: str = "") -> QMessageBox:
    """Show ``exc`` in a dialog (non-blocking: ``open()``; the box is returned for tests)."""
    box = QMessageBox(parent)
    if isinstance(exc, ChequeVerifyError):
        box.setIcon(QMessageBox.Icon.Warning if not isinstance(exc, (PermissionDenied, AuthenticationFailed))
                    else QMessageBox.Icon.Information)  # fmt: skip
        box.setWindowTitle(_TITLES.get(type(exc).__name__, "chequeverify"))
        box.setText(exc.message)
        if exc.hint:
            box.setInformativeText(exc.hint)
    else:
        log.error("unexpected error: %s\n%s", exc, details)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Unexpected error")
        box.setText("Something went wrong inside chequeverify. This is a bug, not something you did.")
        box.setInformativeText(
            "Your work so far is kept. Please send the details below to your IT support.\n\n"
            f"{type(exc).__name__}: {exc}"
        )
        box.setDetailedText(details or f"{type(exc).__name__}: {exc}")
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setObjectName("ErrorDialog")
    box.setModal(True)
    box.open()
    return box


class ShowsJobErrors:
    """For a dialog that runs service calls on a ``runner``: a failed job is shown over the dialog.

    The dialog sets ``self.runner`` and ``self.last_error = None`` (tests
    read the last failure from it).
    """

    runner: object
    last_error: BaseException | None

    def _submit(self, fn, *args, **kwargs) -> int:
        """Run on the pool; a failure (a bad date, a folder that cannot be written) is shown over this dialog."""
        kwargs.setdefault("on_error", self._failed)
        return self.runner.submit(fn, *args, **kwargs)

    def _failed(self, exc: BaseException, details: str) -> None:
        self.last_error = exc
        show_error(self, exc, details)  # type: ignore[arg-type]
