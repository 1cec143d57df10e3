"""service: the use cases of the bank's side (see DESIGN.md) — the API the GUI and the CLI use.

::

    from chequeverify.service import Workspace

    ws = Workspace.open(folder)              # creates and migrates on first use
    ws.init("root", "admin-password")        # first run only
    s = ws.login("alice", "password")        # -> Session
    v = s.verify("cheque.png", "12345", amount="250.00")
    s.decide(v.cheque_id, "ACCEPT", "checked the customer's ID")

Everything returned is a frozen dataclass from :mod:`chequeverify.service.types`
(images as numpy arrays or PIL images); nothing below ``service`` needs to be
imported by a caller. Errors are :class:`chequeverify.errors.ChequeVerifyError`
subclasses; each method's docstring says which.
"""

from chequeverify.policy import Decision
from chequeverify.service.types import (
    AUDIT_EVENT_KINDS,
    ROLES,
    AccountDetail,
    AccountInfo,
    AuditCheck,
    AuditEvent,
    BackupSummary,
    Box,
    Candidate,
    ChequeReading,
    ChequeRecord,
    ClerkDecision,
    ExportSummary,
    Identification,
    Located,
    MandateCheck,
    PendingChange,
    ReEmbedSummary,
    ReferenceCheck,
    ReferenceInfo,
    ReferenceScore,
    RestoreSummary,
    ScoreHistory,
    SignatoryInfo,
    SignatoryScore,
    ThresholdInfo,
    ThresholdsEffect,
    UserInfo,
    Verification,
    WatchlistHit,
)
from chequeverify.imaging import SUPPORTED_SUFFIXES as SCAN_SUFFIXES
from chequeverify.service.workspace import ROLE_RIGHTS, Session, Workspace

__all__ = [
    "AUDIT_EVENT_KINDS", "ROLES", "ROLE_RIGHTS", "SCAN_SUFFIXES", "AccountDetail", "AccountInfo", "AuditCheck", "AuditEvent", "BackupSummary", "Box", "Candidate",
    "ChequeReading", "ChequeRecord", "ClerkDecision", "Decision", "ExportSummary", "Identification", "Located",
    "MandateCheck", "PendingChange", "ReEmbedSummary", "ReferenceCheck", "ReferenceInfo", "ReferenceScore", "RestoreSummary", "ScoreHistory", "Session",
    "SignatoryInfo", "SignatoryScore", "ThresholdInfo", "ThresholdsEffect", "UserInfo", "Verification", "WatchlistHit", "Workspace",
]  # fmt: skip
