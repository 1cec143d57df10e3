"""What the service hands out: frozen dataclasses, nothing below ``service`` leaks.

The GUI and the CLI see only these objects. Conventions:

* a *signature image* is ``H×W uint8``, dark ink on white paper (0 = ink,
  255 = paper): the cleaned crop the embedding was computed from;
* a *cheque image* is a ``PIL.Image.Image`` (RGB or L) of the page as read;
* a *box* is ``(x0, y0, x1, y1)`` in the cheque image's pixels, ``x1, y1``
  exclusive;
* a *score* is the model's decision score (larger = more likely genuine);
  thresholds are on the same scale;
* times are ISO-8601 strings in UTC (``2025-01-31T14:02:11Z``); dates are
  ``datetime.date``; amounts are ``decimal.Decimal``.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from chequeverify.policy import Decision

Box = tuple[int, int, int, int]

#: roles, from least to most privileged in the bank's sense (they are not nested: see ``ROLE_RIGHTS``)
ROLES = ("clerk", "supervisor", "admin")

#: every kind of audit event the service writes, grouped as the audit window lists them
AUDIT_EVENT_KINDS = (
    "workspace_initialised", "login", "login_failed", "logout", "permission_denied",
    "user_added", "user_enabled", "user_disabled", "password_changed",
    "account_added", "account_status_changed", "mandate_changed", "signatory_added", "signatory_changed",
    "reference_added", "reference_approved", "reference_refused", "reference_retirement_requested",
    "reference_retired", "reference_retirement_refused", "references_reembedded",
    "verified", "identified", "decided", "overridden", "override_requested", "override_approved", "override_refused",
    "thresholds_changed", "thresholds_reset", "change_requested", "change_approved", "change_refused",
    "change_withdrawn",
    "export", "audit_checked", "backup", "restored",
)  # fmt: skip


@dataclass(frozen=True)
class UserInfo:
    """A user of the workspace. ``role`` is one of :data:`ROLES`."""

    name: str
    role: str
    active: bool
    created_at: str
    created_by: str | None = None


@dataclass(frozen=True)
class PendingChange:
    """A change to the bank's risk settings waiting for a second supervisor (maker-checker).

    ``kind``: ``thresholds`` (made looser), ``mandate`` (an account's signing
    rule, once the account is in use) or ``account_status`` (an account made
    active again). ``status``: ``pending``, ``applied`` (approved and in
    force), ``refused`` or ``withdrawn`` (by its maker). ``summary`` says
    in words what it changes.
    """

    id: int
    kind: str
    account: str | None
    summary: str
    reason: str | None
    status: str
    requested_by: str
    requested_at: str
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    review_note: str | None = None


@dataclass(frozen=True)
class AccountInfo:
    """An account as listed. ``status``: ``active``, ``frozen`` or ``closed``.

    ``mandate`` is the canonical text of the signing rule; ``watchlist`` marks
    a pseudo-account of known forgers (its signatories are found by
    :meth:`Session.identify`, never accepted by :meth:`Session.verify`).
    """

    number: str
    holder: str
    status: str
    mandate: str
    watchlist: bool
    signatories: int
    active_references: int
    pending_references: int
    created_at: str
    created_by: str | None = None
    #: changes to this account waiting for a second supervisor (filled by ``list_accounts`` and when one
    #: account is asked for)
    pending_changes: tuple[PendingChange, ...] = ()


@dataclass(frozen=True)
class ReferenceInfo:
    """One reference (specimen) signature.

    ``status``: ``pending`` (waiting for a second supervisor), ``active``,
    ``rejected`` (refused by the checker), ``retiring`` (removal waiting for
    approval) or ``retired``. Only ``active`` and ``retiring`` ones are used
    for scoring. ``image``: ``H×W uint8`` cleaned signature, dark ink on
    white. ``source``: ``image``, ``cheque`` or ``card``.

    ``agreement`` (new and pending references): the specimen scored the way
    a cheque would be against the signatory's approved specimens — or, while
    it has none, against its other new ones (None when there are none, or
    they were embedded by another model);
    ``agreement_note``: a warning when that score is below the reject
    threshold — another person's signature, or a different kind of
    specimen, which lowers the bar for every cheque of the signatory.
    """

    id: int
    account: str
    signatory_id: int
    signatory: str
    status: str
    source: str
    source_name: str | None
    image: np.ndarray = field(repr=False, compare=False)
    model_id: str
    added_by: str
    added_at: str
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    review_note: str | None = None
    agreement: float | None = None
    agreement_note: str | None = None
    #: who asked for the reference's retirement, and why (while ``retiring``, and after)
    retire_requested_by: str | None = None
    retire_reason: str | None = None

    @property
    def change_by(self) -> str:
        """The maker of the change waiting for approval: who asked to retire it, else who added it."""
        return (self.retire_requested_by if self.status == "retiring" else None) or self.added_by


@dataclass(frozen=True)
class ReferenceCheck:
    """The quality check's verdict on one candidate specimen (:meth:`Session.check_references`).

    ``index``: position in the batch; ``ok``: it would be accepted;
    ``reason``: why not; ``image``: the cleaned crop (``H×W uint8``) when it
    could be made; ``duplicate_of``: the stored reference it repeats, or
    ``duplicate_of_index``: the earlier image of the batch it repeats.
    ``agreement`` / ``agreement_note``: as :class:`ReferenceInfo`'s (against
    the approved specimens, else the pending ones and the batch's other
    images that pass).
    """

    index: int
    source_name: str
    ok: bool
    reason: str | None
    image: np.ndarray | None = field(repr=False, compare=False, default=None)
    ink_pixels: int | None = None
    width: int | None = None
    height: int | None = None
    duplicate_of: int | None = None
    duplicate_of_index: int | None = None
    agreement: float | None = None
    agreement_note: str | None = None


@dataclass(frozen=True)
class SignatoryInfo:
    """A person who may sign for an account, with the references that stand for them.

    ``valid_from`` / ``valid_until``: inclusive dates of the signing
    authority (None = open-ended). ``valid_today``: whether today is inside.
    ``references``: every non-retired reference (active, pending, retiring).
    """

    id: int
    account: str
    name: str
    panel: str | None
    valid_from: _dt.date | None
    valid_until: _dt.date | None
    valid_today: bool
    references: tuple[ReferenceInfo, ...] = field(repr=False, default=())

    @property
    def active_references(self) -> tuple[ReferenceInfo, ...]:
        return tuple(r for r in self.references if r.status in ("active", "retiring"))


@dataclass(frozen=True)
class AccountDetail:
    """An account with its signatories (and their references)."""

    account: AccountInfo
    signatories: tuple[SignatoryInfo, ...]


@dataclass(frozen=True)
class ThresholdInfo:
    """The decision thresholds in force.

    ``accept`` / ``reject``: the workspace's global thresholds (the model's
    defaults unless a supervisor changed them: ``source`` = ``model`` or
    ``workspace``); ``model_accept`` / ``model_reject``: the model's own.
    ``adapt_per_signatory``: whether thresholds are adapted to each
    signatory from the spread of its references.
    """

    accept: float
    reject: float
    source: str
    model_id: str
    model_accept: float
    model_reject: float
    adapt_per_signatory: bool
    changed_by: str | None = None
    changed_at: str | None = None
    #: a change of the thresholds waiting for a second supervisor (a looser one does not apply at once)
    pending: PendingChange | None = None
    #: the model's own thresholds per number of references, ``(K, accept, reject)`` rows; while ``source`` is
    #: ``model`` a signatory with k active references is decided by the row of the largest K ≤ k
    by_references: tuple[tuple[int, float, float], ...] = ()
    #: a supervisor's own thresholds per number of references, ``(K, accept, reject)`` rows (``source`` is
    #: ``workspace``; made from the rows in force, one value changed at a time). Empty while one workspace
    #: pair decides every signatory; ``accept`` / ``reject`` are then only the pooled pair shown beside them
    workspace_by_references: tuple[tuple[int, float, float], ...] = ()

    def rows_in_force(self) -> tuple[tuple[int, float, float], ...]:
        """The ``(K, accept, reject)`` rows deciding signatories now; empty when one pair decides them all."""
        return self.workspace_by_references if self.source == "workspace" else self.by_references

    def for_references(self, k: int) -> tuple[float, float]:
        """``(accept, reject)`` in force for a signatory with ``k`` active references."""
        rows = self.rows_in_force()
        if not rows:
            return self.accept, self.reject
        below = [r for r in rows if r[0] <= k] or [rows[0]]
        return below[-1][1], below[-1][2]


@dataclass(frozen=True)
class Located:
    """Where the signature is on the cheque.

    ``confidence`` in [0, 1] (1 for a box the clerk drew); ``layout``: the
    cheque layout recognised (e.g. ``cts2010``) or ``unknown``;
    ``rotated``: degrees the page was turned to read it; ``px_per_mm``: the
    image's resolution as measured on the cheque (0: unknown, e.g. re-read
    from the workspace); ``bitonal``: a black-and-white image.
    """

    box: Box
    confidence: float
    layout: str
    rotated: int
    corrected: bool = False
    px_per_mm: float = 0.0
    bitonal: bool = False


@dataclass(frozen=True)
class ChequeReading:
    """A cheque read without writing anything (:meth:`Session.read_cheque`)."""

    file_name: str | None
    file_sha256: str
    image: Image.Image = field(repr=False, compare=False)
    located: Located
    signature: np.ndarray = field(repr=False, compare=False)
    pages: int = 1


@dataclass(frozen=True)
class ReferenceScore:
    """The query against one reference: its score and the reference's image."""

    reference_id: int
    score: float
    image: np.ndarray = field(repr=False, compare=False)


@dataclass(frozen=True)
class SignatoryScore:
    """The query against one signatory's reference set.

    ``score``: the model's score against all the signatory's references
    together (what decides); ``decision``: that score against this
    signatory's thresholds; ``thresholds``: (accept, reject) after
    adaptation; ``valid``: the signatory may sign today (an expired one is
    scored for evidence but never counts for the mandate); ``attributed``:
    the cheque's signature was attributed to this signatory.
    """

    signatory_id: int
    name: str
    panel: str | None
    score: float
    decision: Decision
    accept: float
    reject: float
    valid: bool
    attributed: bool
    references: tuple[ReferenceScore, ...] = field(repr=False, default=())
    note: str = ""


@dataclass(frozen=True)
class MandateCheck:
    """How the account's mandate applied: ``rule`` (the tier used), whether ``met``, ``required`` signatories."""

    mandate: str
    rule: str
    met: bool
    required: int


@dataclass(frozen=True)
class ClerkDecision:
    """A human decision on a cheque (the model's is kept beside it).

    ``status``: ``final``, ``awaiting_approval`` (a clerk overrode a model
    REJECT to ACCEPT: a supervisor other than the maker must approve),
    ``refused`` (the approver said no; the model's decision stands).
    """

    id: int
    cheque_id: int
    decision: Decision
    reason: str
    decided_by: str
    decided_at: str
    status: str
    is_override: bool
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    review_note: str | None = None


@dataclass(frozen=True)
class Verification:
    """The result of verifying one cheque (also re-read later with :meth:`Session.get_cheque`).

    ``query_image``: the cleaned signature (``H×W uint8``); ``cheque_image``:
    the page as read (None when re-read from the workspace, which keeps
    only the signature crop and the file's hash). ``signatories``: every
    signatory of the account that has references, best first.
    ``decision``: the model's decision under the mandate; ``final``: the
    latest human decision, if any. ``seen_before``: ids of earlier
    verifications of a file with the same SHA-256 (a cheque presented
    twice).
    """

    cheque_id: int
    account: AccountInfo
    file_name: str | None
    file_sha256: str
    amount: Decimal | None
    located: Located
    query_image: np.ndarray = field(repr=False, compare=False)
    cheque_image: Image.Image | None = field(repr=False, compare=False)
    signatories: tuple[SignatoryScore, ...]
    mandate: MandateCheck
    thresholds: ThresholdInfo
    decision: Decision
    score: float
    reasons: tuple[str, ...]
    model_id: str
    verified_by: str
    verified_at: str
    final: ClerkDecision | None = None
    seen_before: tuple[int, ...] = ()
    elapsed_ms: float = 0.0
    #: the cheque's signatures that match a watch-list of known forgers (a model ACCEPT is then referred)
    watchlist_hits: tuple[WatchlistHit, ...] = ()

    @property
    def final_decision(self) -> Decision:
        """The human decision in force, else the model's."""
        if self.final is not None and self.final.status == "final":
            return self.final.decision
        return self.decision


@dataclass(frozen=True)
class ChequeRecord:
    """One verified cheque as listed in history and reports.

    ``scores``: (signatory name, score) pairs, best first. ``final_decision``
    is the decision in force: the human decision once final, the model's
    REJECT after a refused override (None while undecided or awaiting approval);
    ``decision_status``: ``undecided``, ``final``, ``awaiting_approval``,
    ``refused``.
    """

    cheque_id: int
    account: str
    holder: str
    file_name: str | None
    file_sha256: str
    amount: Decimal | None
    model_decision: Decision
    score: float
    scores: tuple[tuple[str, float], ...]
    final_decision: Decision | None
    decision_status: str
    reason: str | None
    decided_by: str | None
    decided_at: str | None
    verified_by: str
    verified_at: str
    model_id: str


@dataclass(frozen=True)
class WatchlistHit:
    """A signature on a verified cheque that matches a watch-list entry (a known forger's hand).

    ``signature``: index of the signature on the cheque; ``score`` ≥
    ``accept``, the watch-list signatory's accept threshold.
    """

    signature: int
    account: str
    holder: str
    signatory: str
    score: float
    accept: float


@dataclass(frozen=True)
class Candidate:
    """One signatory found by :meth:`Session.identify` (``rank`` 1 = best).

    ``accept`` / ``reject``: the thresholds for this signatory (the model's
    row for its number of references, or the workspace's), as verification
    would apply them; ``references``: its active references.
    """

    rank: int
    score: float
    account: str
    holder: str
    signatory_id: int
    signatory: str
    watchlist: bool
    accept: float = math.inf
    reject: float = -math.inf
    references: int = 0
    reference_image: np.ndarray | None = field(repr=False, compare=False, default=None)


@dataclass(frozen=True)
class Identification:
    """Who signed this? The top signatories over the whole workspace.

    ``located`` is set when the input was a cheque. ``references_searched``:
    active references compared; ``watchlist_hits``: candidates at or above
    their accept threshold that belong to a watch-list account; ``accept``:
    the global (pooled) accept threshold.
    """

    query_image: np.ndarray = field(repr=False, compare=False)
    located: Located | None
    candidates: tuple[Candidate, ...]
    references_searched: int
    signatories_searched: int
    model_id: str
    accept: float
    watchlist_hits: tuple[Candidate, ...] = ()
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class AuditEvent:
    """One row of the append-only audit log.

    ``kind`` e.g. ``login``, ``login_failed``, ``account_added``,
    ``reference_added``, ``reference_approved``, ``verified``, ``decided``,
    ``override_approved``, ``export``, ``permission_denied``…; ``details``
    is the event's JSON payload.
    """

    seq: int
    at: str
    user: str | None
    kind: str
    account: str | None
    subject: str | None
    details: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class AuditCheck:
    """Result of checking the audit chain.

    ``ok``: every row's hash matches its content and its predecessor, and
    every anchor given still matches; ``first_bad_seq``: the first row
    altered, inserted or removed (for a removal, the seq that is missing;
    None when only an anchor tells, as it cannot say which row up to it was
    rewritten); ``problem``: what is wrong, in words.

    ``head_seq``, ``head_hash``: the last row verified (when ``ok`` and the
    log is not empty); :attr:`anchor` writes them as ``SEQ:HASH``, to keep
    outside the workspace and give back later to ``audit verify --anchor``.
    ``anchors``: the anchors checked, all of which matched (when ``ok``).
    ``unaccounted``: state the (intact) log does not account for — a
    decision, a reference's review, an account's mandate or status, a
    user's role or the thresholds edited in the database directly (see
    :attr:`state_ok`).
    """

    ok: bool
    rows: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_seq: int | None = None
    head_hash: str | None = None
    anchors: tuple[str, ...] = ()
    unaccounted: tuple[str, ...] = ()

    @property
    def state_ok(self) -> bool:
        """The chain is intact and accounts for every decision, review and setting in the workspace."""
        return self.ok and not self.unaccounted

    @property
    def anchor(self) -> str | None:
        """The head as an anchor, ``SEQ:HASH``, or None (broken or empty log)."""
        return f"{self.head_seq}:{self.head_hash}" if self.head_seq and self.head_hash else None


@dataclass(frozen=True)
class BackupSummary:
    """A backup written by :meth:`Session.backup`: a workspace folder of its own.

    ``path``: the database file in it (open it with ``--workspace`` on its
    folder, or copy it back to restore); ``sha256`` and ``bytes`` of that
    file; ``rows`` and ``anchor`` (``SEQ:HASH``): the audit log in the copy,
    checked there; ``chain_ok`` False with ``problem`` when the copy's audit
    chain does not verify (the copy is kept: it is evidence).
    """

    folder: Path
    path: Path
    bytes: int
    sha256: str
    rows: int
    anchor: str | None
    chain_ok: bool = True
    problem: str | None = None


@dataclass(frozen=True)
class RestoreSummary:
    """A workspace put back to a backup by :meth:`Session.restore`.

    ``backup_anchor``: the backup's audit head, which the restored log now
    ends at before the ``restored`` event; ``replaced_anchor``: the head of
    the log that was replaced; ``kept``: where the replaced state was kept
    (a backup beside the workspace folder) and ``kept_sha256`` its hash.
    """

    source: Path
    sha256: str
    backup_anchor: str | None
    replaced_anchor: str | None
    kept: Path
    kept_sha256: str
    migrations: tuple[int, ...] = ()


@dataclass(frozen=True)
class ExportSummary:
    """An audit report written by :meth:`Session.export`.

    ``anchor``: the audit log's head when the report was written, ``SEQ:HASH``
    (also recorded in the export's audit event), to file with the report.
    """

    path: Path
    format: str
    cheques: int
    since: _dt.date | None
    until: _dt.date | None
    account: str | None
    anchor: str | None = None


@dataclass(frozen=True)
class ScoreHistory:
    """Recent verification scores for a histogram.

    ``scores``: ``N float32``, newest first; ``decisions``: the model's
    decision for each; ``final``: the human decision or None, for each.
    """

    scores: np.ndarray = field(repr=False, compare=False)
    decisions: tuple[Decision, ...]
    final: tuple[Decision | None, ...]
    accept: float
    reject: float


@dataclass(frozen=True)
class ThresholdsEffect:
    """What a thresholds change would have done to recent cheques (what its maker saw before asking).

    ``cheques``: recent cheques with a score; ``before`` / ``after``:
    ``{"ACCEPT": n, "REFER": n, "REJECT": n}`` with what is in force (the
    model's recorded decisions while rows per number of references decide)
    and with the change's pair; ``now_accepted``: cheques accepted after
    that were not before, ``people_rejected_now_accepted`` of them a person
    rejected; ``no_longer_rejected``: REJECTs that would not be.
    """

    cheques: int
    before: dict[str, int]
    after: dict[str, int]
    now_accepted: int
    people_rejected_now_accepted: int
    no_longer_rejected: int
    #: the in-force side: ``"model decisions"`` (recorded) or ``"thresholds"`` (recomputed with the pair)
    compared_with: str


@dataclass(frozen=True)
class ReEmbedSummary:
    """What :meth:`Session.re_embed_references` did."""

    model_id: str
    references: int
    seconds: float
