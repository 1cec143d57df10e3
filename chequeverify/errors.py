"""The exceptions a clerk, a supervisor or a script can meet.

Every error the product raises on purpose derives from
:class:`ChequeVerifyError` and carries a message a clerk can act on. The
split follows qutebrowser: these are "the environment's fault" (a bad scan,
an unknown account, a wrong password) and are shown plainly; any other
exception is a bug and is shown with details.

Nothing is half-written when one of these is raised: the service raises
them before it writes, or inside a transaction that is then rolled back.
"""

from __future__ import annotations


class ChequeVerifyError(Exception):
    """Root of every error the product raises on purpose.

    ``message`` says what happened in words a clerk understands; ``hint``
    (optional) says what to do about it.
    """

    #: exit status the CLI uses for this kind of error
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} {self.hint}"
        return self.message


class InvalidInput(ChequeVerifyError):
    """An argument or a value typed by the user is malformed."""

    exit_code = 2


class UnreadableScan(ChequeVerifyError):
    """An image file cannot be read: corrupt, truncated, unsupported or too large."""

    exit_code = 3


class SignatureNotFound(ChequeVerifyError):
    """No handwritten signature was found (blank or unsigned cheque, empty crop)."""

    exit_code = 4


class ReferenceRejected(ChequeVerifyError):
    """A specimen signature failed the quality check (blank, tiny, duplicate...)."""

    exit_code = 5


class UnknownAccount(ChequeVerifyError):
    """The account, signatory, cheque or user named does not exist in the workspace."""

    exit_code = 6


class PermissionDenied(ChequeVerifyError):
    """The logged-in user's role does not allow the action."""

    exit_code = 7


class AuthenticationFailed(ChequeVerifyError):
    """Wrong user name or password, or a disabled user."""

    exit_code = 8


class MandateError(ChequeVerifyError):
    """A signing rule (mandate) is malformed or cannot be applied."""

    exit_code = 9


class ModelError(ChequeVerifyError):
    """The signature model cannot be loaded or used (missing, corrupt, wrong version)."""

    exit_code = 10


class StorageError(ChequeVerifyError):
    """The workspace database cannot be opened, migrated or written."""

    exit_code = 11


class AuditTampered(ChequeVerifyError):
    """The audit chain does not verify: a row was altered or removed."""

    exit_code = 12


class DatasetError(ChequeVerifyError):
    """A training or evaluation folder is not in the ``<set>/<writer>/{genuine,forged}`` layout."""

    exit_code = 13
