"""The use cases: :class:`Workspace` (open, first-run init, login) and :class:`Session`.

The only place that combines imaging, model, storage, policy and reports.
Every use case:

1. checks the logged-in user's role (a refusal writes a ``permission_denied``
   audit event, then raises :class:`PermissionDenied`);
2. validates its input and does the slow work (reading scans, embedding)
   before touching the database, so a bad input changes nothing;
3. writes everything — rows and the audit event — in one transaction.

Thread-safety: a :class:`Workspace` and its sessions may be used from
worker threads (the GUI's); database access is serialised by a lock, the
model is loaded once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import os
import tempfile
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from chequeverify import config, policy
from chequeverify.errors import (
    AuditTampered,
    AuthenticationFailed,
    InvalidInput,
    MandateError,
    ModelError,
    PermissionDenied,
    ReferenceRejected,
    SignatureNotFound,
    StorageError,
    UnknownAccount,
    UnreadableScan,
)
from chequeverify.policy import Decision, Thresholds
from chequeverify.service import images as im
from chequeverify.service.passwords import check_password_rules, hash_password, needs_rehash, verify_password
from chequeverify.service.types import (
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
from chequeverify.storage import DB_NAME, Store

log = logging.getLogger(__name__)

#: what each role may do (roles are not nested: an admin manages users, not cheques)
ROLE_RIGHTS: dict[str, frozenset[str]] = {
    "clerk": frozenset({"view", "read_cheque", "verify", "decide", "identify", "history"}),
    "supervisor": frozenset({
        "view", "read_cheque", "verify", "decide", "identify", "history",
        "register", "approve", "thresholds", "approve_override", "re_embed", "audit", "export", "backup",
    }),  # fmt: skip
    "admin": frozenset({"view", "users", "audit", "export", "backup", "restore"}),
}

#: references per signatory (active, pending or retiring), as the issue asks
MIN_REFERENCES, MAX_REFERENCES = 1, 10
#: quality floor of a specimen: ink pixels and ink box size (pixels at scan resolution)
MIN_REFERENCE_INK_PIXELS = 150
MIN_REFERENCE_WIDTH, MIN_REFERENCE_HEIGHT = 40, 12
#: two specimens whose normalised images differ by less than this (mean |a-b|, ink in [0, 1]) are one
DUPLICATE_MEAN_DIFFERENCE = 0.015
#: consecutive failed logins that disable a user until an admin re-enables it
MAX_FAILED_LOGINS = 5
#: the workspace's last active admin is locked this long after those failures instead (nobody could enable it)
ADMIN_LOCK_MINUTES = 15
ACCOUNT_STATUSES = ("active", "frozen", "closed")
REFERENCE_SOURCES = ("image", "cheque", "card")
EXPORT_FORMATS = ("csv", "pdf")

_SETTING_THRESHOLDS = "thresholds"
_SETTING_ADAPT = "adapt_per_signatory"


# =============================================================================
# Workspace
# =============================================================================


class Workspace:
    """A workspace folder: the SQLite database and the model that scores in it.

    ``Workspace.open(folder)`` creates the folder and database on first use
    (default folder: :func:`chequeverify.config.default_workspace`); the
    schema is migrated on open. ``model``: an already loaded model (tests,
    the GUI's warm-up); ``model_path``: weights to load instead of the
    default. The model loads on first use (:meth:`load_model` to do it
    early on a worker thread).
    """

    def __init__(self, folder: str | Path | None = None, *, model: Any = None,
                 model_path: str | Path | None = None) -> None:  # fmt: skip
        self.path = Path(folder).expanduser() if folder else config.default_workspace()
        if self.path.exists() and not self.path.is_dir():
            raise StorageError(f"{self.path} is a file, not a workspace folder.")
        self._store = Store(self.path / DB_NAME)
        self._model = model
        self._model_path = Path(model_path) if model_path else None
        self._model_lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._index: IdentificationIndex | None = None
        self._image_cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def open(cls, folder: str | Path | None = None, *, model: Any = None,
             model_path: str | Path | None = None) -> Workspace:  # fmt: skip
        """Open (creating if needed) the workspace in ``folder``. Raises :class:`StorageError`."""
        return cls(folder, model=model, model_path=model_path)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._store.close()

    @property
    def db_path(self) -> Path:
        return self._store.path

    @property
    def initialised(self) -> bool:
        """True once :meth:`init` has created the first admin."""
        return self._store.count_users() > 0

    # --- model --------------------------------------------------------------------

    def load_model(self) -> Any:
        """Load the model now (idempotent). Raises :class:`ModelError`."""
        with self._model_lock:
            if self._model is None:
                try:
                    from chequeverify.model import load_model
                except ImportError as exc:
                    raise ModelError(f"The signature model is not available: {exc}.") from exc
                self._model = load_model(self._model_path)
            return self._model

    @property
    def model_id(self) -> str:
        """The id of the model that scores in this workspace (loads it). Raises :class:`ModelError`."""
        return str(self.load_model().model_id)

    # --- first run and login -------------------------------------------------------

    def init(self, admin: str, password: str) -> UserInfo:
        """First run: create the first user, an admin. Raises :class:`InvalidInput` if already done or the name/password is unfit."""
        name = _clean_name(admin, "user name")
        check_password_rules(password)
        hashed = hash_password(password)
        with self._store.transaction():
            if self._store.count_users():
                raise InvalidInput("This workspace is already initialised.", hint="Log in as its admin instead.")
            row = self._store.add_user(name, "admin", hashed, created_by=None)
            self._store.append_audit("workspace_initialised", user=name, subject=name,
                                     details={"admin": name, "path": str(self.path)})  # fmt: skip
        return _user_info(row)

    def login(self, user: str, password: str) -> Session:
        """Check the password and open a :class:`Session`.

        Raises :class:`AuthenticationFailed` for an unknown user, a wrong
        password, a disabled or a locked user, with one message for all of
        them (which one is in the audit log, not on the screen, so the
        message is no oracle for guessing). Every failure is audited; after
        ``MAX_FAILED_LOGINS`` in a row the user is disabled until an admin
        enables it; the workspace's last active admin, whom nobody could
        enable, is locked for ``ADMIN_LOCK_MINUTES`` instead. A disabled or
        locked user's password is not even checked. Raises
        :class:`StorageError` for a workspace nobody initialised.
        """
        if not self.initialised:
            raise AuthenticationFailed(
                "This workspace has no users yet.", hint="Run `chequeverify init --admin NAME` first."
            )
        name = str(user or "").strip()
        row = self._store.get_user(name) if name else None
        usable = row is not None and row["active"] and not self._locked(row)
        # the KDF runs whatever the outcome, so that timing tells nothing either
        ok = verify_password(password or "", row["password_hash"] if usable else None)
        with self._store.transaction():
            fresh = self._store.get_user(name) if row is not None else None
            if ok and fresh is not None and fresh["active"]:
                update: dict[str, Any] = {"failed_logins": 0}
                if needs_rehash(fresh["password_hash"]):
                    update["password_hash"] = hash_password(password)
                self._store.update_user(fresh["id"], **update)
                self._store.append_audit("login", user=fresh["name"], subject=fresh["name"],
                                         details={"role": fresh["role"]})  # fmt: skip
                return Session(self, fresh["name"])
            details: dict[str, Any]
            if fresh is None:
                # what was typed may be a password typed into the wrong field: keep only a fingerprint of it
                typed = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16] if name else None
                details = {"reason": "unknown user", "typed_name_sha256": typed}
                self._store.append_audit("login_failed", user=None, subject=None, details=details)
            else:
                details = {"reason": "disabled user" if not fresh["active"] else
                           ("locked user" if not usable else "wrong password")}  # fmt: skip
                if fresh["active"] and usable:
                    # counted inside the write transaction: parallel guesses cannot overwrite each other's count
                    failures = int(fresh["failed_logins"]) + 1
                    changes: dict[str, Any] = {"failed_logins": failures}
                    if failures >= MAX_FAILED_LOGINS:
                        if self._last_active_admin(fresh):
                            details["locked_minutes"] = ADMIN_LOCK_MINUTES
                        else:
                            changes["active"] = 0
                            details["disabled"] = True
                    self._store.update_user(fresh["id"], **changes)
                self._store.append_audit("login_failed", user=fresh["name"], subject=fresh["name"], details=details)
        raise AuthenticationFailed(
            "Wrong user name or password, or the user is disabled or locked.",
            hint=f"After {MAX_FAILED_LOGINS} failed logins in a row a user is disabled until an admin enables it "
            f"(the last admin is locked for {ADMIN_LOCK_MINUTES} minutes instead).",
        )

    def _last_active_admin(self, row: dict[str, Any]) -> bool:
        admins = [u for u in self._store.list_users() if u["role"] == "admin" and u["active"]]
        return len(admins) == 1 and admins[0]["id"] == row["id"]

    def _locked(self, row: dict[str, Any]) -> bool:
        """The last active admin after ``MAX_FAILED_LOGINS`` failures, until ``ADMIN_LOCK_MINUTES`` after the last one."""
        if int(row["failed_logins"]) < MAX_FAILED_LOGINS or not row["active"]:
            return False
        # from the wrong password that locked it: guesses during the lock do not prolong it
        recent = self._store.audit_events(kind="login_failed", subject=row["name"], limit=4 * MAX_FAILED_LOGINS)
        last = [e for e in recent if json.loads(e["details"] or "{}").get("reason") == "wrong password"][:1]
        if not last:
            return False
        try:
            at = dt.datetime.fromisoformat(str(last[0]["at"]).replace("Z", "+00:00"))
        except ValueError:
            return True
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.timezone.utc)
        return dt.datetime.now(dt.timezone.utc) - at < dt.timedelta(minutes=ADMIN_LOCK_MINUTES)

    # --- caches -------------------------------------------------------------------

    def _forget_caches(self) -> None:
        """Drop the reference images and the identification index (after the database was replaced)."""
        with self._cache_lock:
            self._image_cache.clear()
        with self._index_lock:
            self._index = None

    def _reference_image(self, reference_id: int, png: bytes | None = None) -> np.ndarray:
        """A stored reference's image, ``H×W uint8`` read-only, through a small LRU cache (thread-safe)."""
        cache = self._image_cache
        with self._cache_lock:
            if reference_id in cache:
                cache.move_to_end(reference_id)
                return cache[reference_id]
        if png is None:
            png = self._store.reference_images([reference_id]).get(reference_id)
            if png is None:
                raise UnknownAccount(f"There is no reference {reference_id}.")
        image = im.png_grey(png)
        image.setflags(write=False)
        with self._cache_lock:
            cache[reference_id] = image
            while len(cache) > 2048:
                cache.popitem(last=False)
        return image

    def _identification_index(self, model: Any) -> IdentificationIndex:
        """Every scoring reference of the workspace, prepared for one-to-many search; cached until references change.

        The model's score of a signatory depends on its references only
        through their statistics (mean embedding, and the normalisation the
        model's score function derives from them: see
        ``chequeverify.model.scoring``), computed here once for every
        signatory, so a query costs one ``G×D`` product.
        """
        version = self._store.references_version()
        key = (version, str(model.model_id))
        with self._index_lock:
            if self._index is not None and self._index.key == key:
                return self._index
            ids, groups, blobs, models = self._store.scoring_embeddings()
            dim = int(model.embedding_dim)
            stale = sorted(m for m, d in models if (m, d) != (str(model.model_id), dim))
            if stale:
                raise ModelError(
                    f"Some references were embedded by model {stale[0]}, not {model.model_id}.",
                    hint="A supervisor must re-embed the references: Workspace ▸ Re-embed references… in the app, "
                         "or `chequeverify references re-embed`.",
                )
            group_ids = np.asarray(groups, np.int64)
            ref_ids = np.asarray(ids, np.int64)
            if len(group_ids):
                matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim).astype(np.float32)
                stats = model.group_stats(matrix, group_ids)
                starts = np.r_[0, np.flatnonzero(np.diff(group_ids)) + 1]  # rows come sorted by signatory
                first_reference = ref_ids[starts]
            else:
                stats, first_reference = None, np.zeros(0, np.int64)
            self._index = IdentificationIndex(key, len(ref_ids), stats, first_reference)
            return self._index


class IdentificationIndex:
    """The cached search structure of :meth:`Session.identify` (internal)."""

    def __init__(self, key: tuple, references: int, stats: Any, first_reference: np.ndarray) -> None:
        self.key = key
        self.references = references
        self.stats = stats  # the model's GroupStats of every signatory (None when there are none)
        self.signatories = stats.ids if stats is not None else np.zeros(0, np.int64)
        self.first_reference = first_reference

    #: signatories scored exactly per query at least (the rest are ranked by centroid cosine only)
    SHORTLIST = 2000

    def search(self, model: Any, query: np.ndarray, top: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """(positions into :attr:`signatories`, scores) of the best candidates for ``query``.

        Past :data:`SHORTLIST` signatories, the centroid cosine shortlists
        the ``max(SHORTLIST, 50·top)`` nearest and only those are scored: the
        score is the centroid cosine shifted and scaled per signatory within
        a narrow range, so with a shortlist this long the best candidates are
        the same (tests/test_service_identify_index.py).
        """
        n = len(self.signatories)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        q = np.asarray(query, np.float32)
        size = max(self.SHORTLIST, 50 * top)
        rows = None
        if n > size:
            rows = np.argpartition(-(self.stats.centroids @ q), size - 1)[:size]
            rows.sort()
        scores = model.score_against(q, self.stats, rows)
        positions = rows if rows is not None else np.arange(n)
        return np.asarray(positions, np.int64), np.asarray(scores, np.float64)


# =============================================================================
# Session
# =============================================================================


class Session:
    """What one logged-in user can do. Obtain it from :meth:`Workspace.login`.

    Every method checks the user's role first (see ``ROLE_RIGHTS``) and
    raises :class:`PermissionDenied` when it does not allow the use case;
    the user's role and active flag are re-read each time, so a change by
    an admin takes effect at once (a disabled user gets
    :class:`AuthenticationFailed`). Every method may raise
    :class:`StorageError` when the database cannot be written.
    """

    def __init__(self, workspace: Workspace, user: str) -> None:
        self.workspace = workspace
        self._store = workspace._store
        self._name = user

    # --- who ----------------------------------------------------------------------

    @property
    def user(self) -> UserInfo:
        """The logged-in user, as stored now."""
        row = self._store.get_user(self._name)
        if row is None:
            raise AuthenticationFailed(f"User {self._name} no longer exists.")
        return _user_info(row)

    def can(self, right: str) -> bool:
        """Whether the user's role allows ``right`` (for the GUI to grey out actions); no audit."""
        row = self._store.get_user(self._name)
        return bool(row and row["active"] and right in ROLE_RIGHTS.get(row["role"], ()))

    def _require(self, right: str, action: str, *, account: str | None = None, subject: str | None = None) -> dict:
        row = self._store.get_user(self._name)
        if row is None or not row["active"]:
            raise AuthenticationFailed(f"User {self._name} is disabled or was removed.")
        if right not in ROLE_RIGHTS.get(row["role"], ()):
            with self._store.transaction():
                self._store.append_audit("permission_denied", user=row["name"], account=account, subject=subject,
                                         details={"action": action, "role": row["role"]})  # fmt: skip
            who = {"register": "a supervisor", "approve": "a supervisor", "thresholds": "a supervisor",
                   "approve_override": "a supervisor", "re_embed": "a supervisor", "users": "an admin",
                   "audit": "a supervisor or an admin", "export": "a supervisor or an admin",
                   "backup": "a supervisor or an admin", "restore": "an admin"}.get(right, "another role")  # fmt: skip
            article = "An" if row["role"][0] in "aeiou" else "A"
            raise PermissionDenied(f"{article} {row['role']} may not {action}.", hint=f"This needs {who}.")
        return row

    def logout(self) -> None:
        """Record the end of the session (the object should not be used afterwards)."""
        with self._store.transaction():
            self._store.append_audit("logout", user=self._name, subject=self._name)

    # --- users (admin) ------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str) -> UserInfo:
        """Create a user. Admin only. Raises :class:`InvalidInput` (bad name, role, short password, name taken)."""
        self._require("users", "add users", subject=str(name))
        name = _clean_name(name, "user name")
        if role not in ROLES:
            raise InvalidInput(f"Unknown role {role!r}.", hint=f"Use one of: {', '.join(ROLES)}.")
        check_password_rules(password)
        hashed = hash_password(password)
        with self._store.transaction():
            if self._store.get_user(name):
                raise InvalidInput(f"User {name} already exists.")
            row = self._store.add_user(name, role, hashed, created_by=self._name)
            self._store.append_audit("user_added", user=self._name, subject=name, details={"role": role})
        return _user_info(row)

    def list_users(self) -> list[UserInfo]:
        """Every user. Admin only."""
        self._require("users", "list users")
        return [_user_info(r) for r in self._store.list_users()]

    def set_user_active(self, name: str, active: bool) -> UserInfo:
        """Enable or disable a user (enabling also clears failed logins). Admin only; not oneself.

        Raises :class:`UnknownAccount` (no such user), :class:`InvalidInput` (oneself).
        """
        self._require("users", "enable or disable users", subject=str(name))
        with self._store.transaction():
            row = self._user_row(name)
            if row["name"].lower() == self._name.lower():
                raise InvalidInput("You cannot disable or enable yourself.")
            self._store.update_user(row["id"], active=int(bool(active)), failed_logins=0)
            self._store.append_audit("user_enabled" if active else "user_disabled", user=self._name, subject=row["name"])
            return _user_info(self._store.get_user(row["name"]))  # type: ignore[arg-type]

    def set_password(self, name: str, password: str) -> None:
        """Set another user's password (admin) or one's own (anyone). Raises :class:`UnknownAccount`, :class:`InvalidInput`."""
        if str(name).lower() != self._name.lower():
            self._require("users", "set other users' passwords", subject=str(name))
        else:
            self._require("view", "change your password", subject=str(name))  # a disabled user's open session may not
        check_password_rules(password)
        hashed = hash_password(password)
        with self._store.transaction():
            row = self._user_row(name)
            self._store.update_user(row["id"], password_hash=hashed, failed_logins=0)
            self._store.append_audit("password_changed", user=self._name, subject=row["name"])

    def _user_row(self, name: str) -> dict[str, Any]:
        row = self._store.get_user(str(name))
        if row is None:
            raise UnknownAccount(f"There is no user {name}.")
        return row

    # --- accounts -----------------------------------------------------------------

    def add_account(self, number: str, holder: str, mandate: str = "any one", *, watchlist: bool = False) -> AccountInfo:
        """Register an account. Supervisor only.

        ``mandate``: signing rule text (see :mod:`chequeverify.policy.mandate`);
        ``watchlist``: a pseudo-account of known forgers, searched by
        :meth:`identify`. Raises :class:`InvalidInput` (bad or taken number,
        empty holder), :class:`MandateError` (malformed mandate).
        """
        number = _clean_account_number(number)
        self._require("register", "register accounts", account=number)
        holder = _clean_name(holder, "holder name")
        rule = str(policy.parse_mandate(mandate))
        with self._store.transaction():
            self._add_account_rows(number, holder, rule, watchlist)
        return self._account_info(number)

    def _add_account_rows(self, number: str, holder: str, rule: str, watchlist: bool) -> int:
        if self._store.get_account(number):
            raise InvalidInput(f"Account {number} already exists.")
        account_id = self._store.add_account(number, holder, rule, watchlist, created_by=self._name)
        self._store.append_audit("account_added", user=self._name, account=number, subject=number,
                                 details={"holder": holder, "mandate": rule, "watchlist": bool(watchlist)})  # fmt: skip
        return account_id

    def register_account(
        self,
        number: str,
        holder: str,
        mandate: str = "any one",
        signatories: Mapping[str, Sequence[im.ImageSource]] | None = None,
        *,
        watchlist: bool = False,
        source: str = "image",
    ) -> AccountDetail:
        """Register an account, its signatories and their references in ONE transaction.

        ``signatories``: name → 1-10 signature images (paths, bytes, images).
        Either everything is written or nothing (a refused reference, a
        crash). The references wait for a second supervisor's approval.
        Raises what :meth:`add_account`, :meth:`add_signatory` and
        :meth:`add_references` raise.
        """
        number = _clean_account_number(number)
        self._require("register", "register accounts", account=number)
        holder = _clean_name(holder, "holder name")
        rule = str(policy.parse_mandate(mandate))
        prepared = []
        for name, sources in (signatories or {}).items():
            name = _clean_name(name, "signatory name")
            prepared.append((name, self._prepare_references(sources, source, existing=[])))
        names = [n.lower() for n, _ in prepared]
        if len(set(names)) != len(names):
            raise InvalidInput("Two signatories have the same name.")
        with self._store.transaction():
            account_id = self._add_account_rows(number, holder, rule, watchlist)
            for name, refs in prepared:
                sid = self._add_signatory_row(account_id, number, name, None, None, None)
                self._insert_references(sid, number, name, refs, source)
        return self.get_account(number)

    def list_accounts(self, search: str = "", *, watchlist: bool | None = None, status: str | None = None,
                      limit: int = 200, offset: int = 0) -> list[AccountInfo]:  # fmt: skip
        """Accounts whose number, holder or a signatory's name contains ``search`` (case-insensitive), by number.

        ``watchlist``: only watch-list (True) or only real (False) accounts.
        Each lists its changes waiting for a second supervisor (``pending_changes``).
        """
        self._require("view", "list accounts")
        rows = self._store.list_accounts(str(search or "").strip(), watchlist=watchlist, status=status, limit=limit,
                                         offset=offset)  # fmt: skip
        waiting: dict[str, list[PendingChange]] = {}
        for c in self._store.changes():  # few at a time: one query for the whole list
            if c["account"]:
                waiting.setdefault(c["account"], []).append(_pending_change(c))
        return [dataclasses.replace(_account_info(r), pending_changes=tuple(waiting.get(r["number"], ()))) for r in rows]

    def get_account(self, number: str) -> AccountDetail:
        """An account with its signatories and their non-retired references. Raises :class:`UnknownAccount`."""
        self._require("view", "view accounts", account=str(number))
        row = self._account_row(number)
        return AccountDetail(_account_info(row), tuple(self._signatory_infos(row["id"])))

    def set_mandate(self, number: str, mandate: str, *, reason: str = "") -> AccountInfo:
        """Change an account's signing rule. Supervisor only.

        While the account has no active references (still being set up) the
        change applies at once; afterwards it waits for a second supervisor
        (:meth:`approve_change`; the returned account lists it in
        ``pending_changes``). Raises :class:`UnknownAccount`,
        :class:`MandateError`, :class:`InvalidInput` (a change already waiting).
        """
        self._require("register", "change mandates", account=str(number))
        rule = str(policy.parse_mandate(mandate))
        row = self._account_row(number)
        if rule == row["mandate"]:
            return self._account_info(row["number"])
        if not row["active_references"]:
            with self._store.transaction():
                self._apply_mandate(self._account_row(number), rule, by=self._name)
        else:
            self._request_change("mandate", row["number"], {"mandate": rule, "before": row["mandate"]},
                                 f"Mandate of {row['number']}: '{row['mandate']}' → '{rule}'", reason)  # fmt: skip
        return self._account_info(row["number"])

    def _apply_mandate(self, row: dict[str, Any], rule: str, *, by: str, approved_by: str | None = None) -> None:
        self._store.update_account(row["id"], mandate=rule)
        self._store.append_audit("mandate_changed", user=by, account=row["number"], subject=row["number"],
                                 details={"from": row["mandate"], "to": rule,
                                          **_approval(approved_by)})  # fmt: skip

    def set_account_status(self, number: str, status: str, *, reason: str = "") -> AccountInfo:
        """``active``, ``frozen`` or ``closed`` (cheques on a non-active account are refused). Supervisor only.

        A stricter status (active → frozen → closed) applies at once; a looser
        one (an account made active again, or a closed one frozen) waits for
        a second supervisor (:meth:`approve_change`).
        """
        self._require("register", "change account status", account=str(number))
        if status not in ACCOUNT_STATUSES:
            raise InvalidInput(f"Unknown account status {status!r}.", hint=f"Use one of: {', '.join(ACCOUNT_STATUSES)}.")
        row = self._account_row(number)
        if status == row["status"]:
            return self._account_info(row["number"])
        if ACCOUNT_STATUSES.index(status) > ACCOUNT_STATUSES.index(row["status"]):  # stricter: active < frozen < closed
            with self._store.transaction():
                self._apply_status(self._account_row(number), status, by=self._name)
        else:
            self._request_change("account_status", row["number"], {"status": status, "before": row["status"]},
                                 f"Account {row['number']}: {row['status']} → {status}", reason)  # fmt: skip
        return self._account_info(row["number"])

    def _apply_status(self, row: dict[str, Any], status: str, *, by: str, approved_by: str | None = None) -> None:
        self._store.update_account(row["id"], status=status)
        self._store.append_audit("account_status_changed", user=by, account=row["number"], subject=row["number"],
                                 details={"from": row["status"], "to": status,
                                          **_approval(approved_by)})  # fmt: skip

    def _account_row(self, number: str) -> dict[str, Any]:
        row = self._store.get_account(str(number).strip())
        if row is None:
            raise UnknownAccount(f"There is no account {number}.", hint="Check the number or list accounts.")
        return row

    def _account_info(self, number: str) -> AccountInfo:
        row = self._account_row(number)
        waiting = tuple(_pending_change(r) for r in self._store.changes(account=row["number"]))
        return dataclasses.replace(_account_info(row), pending_changes=waiting)

    # --- signatories --------------------------------------------------------------

    def add_signatory(self, account: str, name: str, *, panel: str | None = None,
                      valid_from: dt.date | str | None = None, valid_until: dt.date | str | None = None) -> SignatoryInfo:  # fmt: skip
        """Add a person who may sign for ``account``. Supervisor only.

        ``valid_from`` / ``valid_until``: inclusive dates (``YYYY-MM-DD``).
        Raises :class:`UnknownAccount`, :class:`InvalidInput` (empty or taken
        name, bad dates, until before from).
        """
        self._require("register", "register signatories", account=str(account))
        name = _clean_name(name, "signatory name")
        start, end = _parse_date(valid_from, "valid from"), _parse_date(valid_until, "valid until")
        if start and end and end < start:
            raise InvalidInput(f"The signatory's authority ends ({end}) before it starts ({start}).")
        panel = _clean_panel(panel)
        with self._store.transaction():
            row = self._account_row(account)
            sid = self._add_signatory_row(row["id"], row["number"], name, panel, start, end)
        return self._signatory_info(sid)

    def _add_signatory_row(self, account_id: int, number: str, name: str, panel: str | None,
                           start: dt.date | None, end: dt.date | None) -> int:  # fmt: skip
        if self._store.find_signatory(account_id, name):
            raise InvalidInput(f"Account {number} already has a signatory named {name}.")
        sid = self._store.add_signatory(account_id, name, panel, _iso(start), _iso(end), created_by=self._name)
        self._store.append_audit("signatory_added", user=self._name, account=number, subject=f"signatory {sid}",
                                 details={"name": name, "panel": panel, "valid_from": _iso(start),
                                          "valid_until": _iso(end)})  # fmt: skip
        return sid

    def update_signatory(self, signatory_id: int, *, panel: str | None = None,
                         valid_from: dt.date | str | None = None, valid_until: dt.date | str | None = None,
                         clear_panel: bool = False, reason: str = "") -> SignatoryInfo:  # fmt: skip
        """Change a signatory's panel or validity dates (None keeps a value; ``""`` clears a date). Supervisor only.

        On an account in use (with active references), a change that widens
        the signatory's authority (an earlier start, a later or no end, another
        panel) waits for a second supervisor (:meth:`approve_change`); a
        narrower one applies at once. Raises :class:`UnknownAccount` (no such
        signatory), :class:`InvalidInput` (bad dates, a change already waiting).
        """
        self._require("register", "change signatories", subject=f"signatory {signatory_id}")
        row = self._signatory_row(signatory_id)
        fields: dict[str, Any] = {}
        if panel is not None or clear_panel:
            fields["panel"] = None if clear_panel else _clean_panel(panel)
        if valid_from is not None:
            fields["valid_from"] = _iso(_parse_date(valid_from, "valid from")) if valid_from != "" else None
        if valid_until is not None:
            fields["valid_until"] = _iso(_parse_date(valid_until, "valid until")) if valid_until != "" else None
        fields = {k: v for k, v in fields.items() if v != row[k]}
        start = fields.get("valid_from", row["valid_from"])
        end = fields.get("valid_until", row["valid_until"])
        if start and end and end < start:
            raise InvalidInput(f"The signatory's authority ends ({end}) before it starts ({start}).")
        if not fields:
            return self._signatory_info(signatory_id)
        wider = ("panel" in fields
                 or ("valid_from" in fields and (fields["valid_from"] is None or
                                                 (row["valid_from"] is not None and fields["valid_from"] < row["valid_from"])))
                 or ("valid_until" in fields and row["valid_until"] is not None and
                     (fields["valid_until"] is None or fields["valid_until"] > row["valid_until"])))  # fmt: skip
        in_use = bool(self._store.get_account(row["account"])["active_references"])  # type: ignore[index]
        if wider and in_use:
            said = ", ".join(f"{k.replace('_', ' ')} {row[k] or '(none)'} → {v or '(none)'}" for k, v in fields.items())
            self._request_change("signatory", row["account"], {"signatory_id": row["id"], "fields": fields,
                                                               "before": {k: row[k] for k in fields}},
                                 f"Signatory {row['name']} of {row['account']}: {said}", reason)  # fmt: skip
        else:
            with self._store.transaction():
                self._apply_signatory(self._signatory_row(signatory_id), fields, by=self._name)
        return self._signatory_info(signatory_id)

    def _apply_signatory(self, row: dict[str, Any], fields: dict[str, Any], *, by: str,
                         approved_by: str | None = None) -> None:  # fmt: skip
        self._store.update_signatory(row["id"], **fields)
        self._store.append_audit("signatory_changed", user=by, account=row["account"], subject=f"signatory {row['id']}",
                                 details={**fields, **_approval(approved_by)})  # fmt: skip

    def list_signatories(self, account: str) -> list[SignatoryInfo]:
        """The signatories of ``account`` with their references. Raises :class:`UnknownAccount`."""
        self._require("view", "view signatories", account=str(account))
        return self._signatory_infos(self._account_row(account)["id"])

    def _signatory_row(self, signatory_id: int) -> dict[str, Any]:
        row = self._store.get_signatory(int(signatory_id))
        if row is None:
            raise UnknownAccount(f"There is no signatory {signatory_id}.")
        return row

    def _resolve_signatory(self, account: str, signatory: int | str) -> dict[str, Any]:
        acc = self._account_row(account)
        row = None
        if isinstance(signatory, str):  # a name first: a signatory may well be called "9"
            row = self._store.find_signatory(acc["id"], signatory.strip())
        if row is None and (isinstance(signatory, int) or (isinstance(signatory, str) and signatory.strip().isdigit())):
            row = self._store.get_signatory(int(signatory))
            if row is not None and row["account_id"] != acc["id"]:
                row = None
        if row is None:
            raise UnknownAccount(f"Account {acc['number']} has no signatory {signatory}.",
                                 hint="Add it first with `chequeverify signatory add`.")  # fmt: skip
        return row

    def _signatory_info(self, signatory_id: int) -> SignatoryInfo:
        row = self._signatory_row(signatory_id)
        refs = self._store.references(signatory_id=row["id"], statuses=("pending", "active", "retiring"))
        return _signatory_info(row, [self._reference_info(r) for r in refs])

    def _signatory_infos(self, account_id: int) -> list[SignatoryInfo]:
        refs = self._store.references(account_id=account_id, statuses=("pending", "active", "retiring"))
        by_sig: dict[int, list[ReferenceInfo]] = {}
        for r in refs:
            by_sig.setdefault(r["signatory_id"], []).append(self._reference_info(r))
        return [_signatory_info(s, by_sig.get(s["id"], [])) for s in self._store.signatories(account_id)]

    # --- references ---------------------------------------------------------------

    def add_references(self, account: str, signatory: int | str, sources: Sequence[im.ImageSource], *,
                       source: str = "image", boxes: Sequence[Box | None] | None = None) -> list[ReferenceInfo]:  # fmt: skip
        """Add 1-10 reference signatures for a signatory; they wait for a second supervisor's approval.

        ``sources``: signature images (``source="image"``), cheques whose
        signature the cheque reader crops (``"cheque"``; ``boxes`` may give
        a clerk-drawn box per cheque) or specimen cards (``"card"``).
        ``signatory``: its id or name. All or nothing: if one is refused,
        none is added. Supervisor only.

        Raises :class:`UnknownAccount` (account/signatory),
        :class:`UnreadableScan` (a file cannot be read),
        :class:`ReferenceRejected` (blank, too little ink, tiny, duplicate,
        more than 10, expired signatory — the message names the file and
        the reason), :class:`ModelError`.
        """
        self._require("register", "register reference signatures", account=str(account))
        sig = self._resolve_signatory(account, signatory)
        if sig["valid_until"] and sig["valid_until"] < dt.date.today().isoformat():
            raise ReferenceRejected(
                f"Signatory {sig['name']}'s authority expired on {sig['valid_until']}; no references can be added.",
                hint="Extend the signatory's validity first if this is a mistake.",
            )
        existing = self._store.references(signatory_id=sig["id"], statuses=("pending", "active", "retiring"))
        prepared = self._prepare_references(sources, source, existing=existing, boxes=boxes)
        model = self.workspace.load_model()
        vectors = np.stack([p["vector"] for p in prepared])
        agreements = self._agreements(model, vectors, *self._trusted_and_peers(existing, model))
        for p, (score, note) in zip(prepared, agreements):
            p["agreement"], p["agreement_note"] = score, note
        with self._store.transaction():
            now = self._store.references(signatory_id=sig["id"], statuses=("pending", "active", "retiring"),
                                         with_images=False)  # fmt: skip
            if len(now) + len(prepared) > MAX_REFERENCES:
                raise ReferenceRejected(
                    f"Signatory {sig['name']} would have {len(now) + len(prepared)} references; at most "
                    f"{MAX_REFERENCES} are kept.", hint="Retire some first.")  # fmt: skip
            ids = self._insert_references(sig["id"], sig["account"], sig["name"], prepared, source)
        return [dataclasses.replace(self._reference_info(self._store.get_reference(i)),  # type: ignore[arg-type]
                                    agreement=p["agreement"], agreement_note=p["agreement_note"])
                for i, p in zip(ids, prepared)]  # fmt: skip

    def check_references(self, account: str, signatory: int | str, sources: Sequence[im.ImageSource], *,
                         source: str = "image", boxes: Sequence[Box | None] | None = None) -> list[ReferenceCheck]:  # fmt: skip
        """The quality check of :meth:`add_references`, one verdict per image, writing nothing.

        For the registration screen: the supervisor sees every verdict (the
        cleaned crop, its ink, a duplicate of which reference or which
        other image of the batch) and then adds the good ones together.
        Supervisor only. Raises :class:`UnknownAccount` (account/signatory),
        :class:`InvalidInput` (source kind, boxes); a refused image is a
        verdict, not an exception.
        """
        self._require("register", "check reference signatures", account=str(account))
        sig = self._resolve_signatory(account, signatory)
        existing = self._store.references(signatory_id=sig["id"], statuses=("pending", "active", "retiring"))
        self._check_batch_shape(sources, source, boxes, limit=False)
        known = self._known_specimens(existing)
        out: list[ReferenceCheck] = []
        for i, src in enumerate(sources):
            label = im.source_name(src) or f"image {i + 1}"
            try:
                item = self._check_specimen(src, i, source, boxes[i] if boxes is not None else None, known)
            except (ReferenceRejected, UnreadableScan) as exc:
                dup = getattr(exc, "duplicate_of", (None, None))
                out.append(ReferenceCheck(i, label, False, exc.message, getattr(exc, "image", None), None, None,
                                          None, dup[0], dup[1]))  # fmt: skip
                continue
            h, w = item["grey"].shape
            out.append(ReferenceCheck(i, label, True, None, item["grey"], item["ink"], w, h))
        passed = [c for c in out if c.ok]
        if passed:
            model = self.workspace.load_model()
            vectors = np.asarray(model.embed([c.image for c in passed]), dtype=np.float32)
            agreements = self._agreements(model, vectors, *self._trusted_and_peers(existing, model))
            for c, (score, note) in zip(passed, agreements):
                out[c.index] = dataclasses.replace(c, agreement=score, agreement_note=note)
        return out

    @staticmethod
    def _embeddings(rows: Sequence[dict[str, Any]], model: Any) -> np.ndarray:
        """``K×D`` stored embeddings of reference rows made by ``model`` (rows of another model are left out)."""
        vectors = [im.bytes_embedding(r["embedding"], r["embedding_dim"]) for r in rows
                   if r["model_id"] == str(model.model_id) and r["embedding_dim"] == int(model.embedding_dim)]  # fmt: skip
        return np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, int(model.embedding_dim)), np.float32)

    @classmethod
    def _trusted_and_peers(cls, rows: Sequence[dict[str, Any]], model: Any) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of a signatory's approved specimens (active, retiring) and of those still pending."""
        trusted = [r for r in rows if r["status"] in ("active", "retiring")]
        return cls._embeddings(trusted, model), cls._embeddings([r for r in rows if r["status"] == "pending"], model)

    def _agreements(self, model: Any, vectors: np.ndarray, trusted: np.ndarray,
                    peers: np.ndarray) -> list[tuple[float | None, str | None]]:  # fmt: skip
        """Each new specimen scored as a cheque against the signatory's other specimens.

        Against the approved specimens (``trusted``) when there are some —
        new ones must not vouch for each other — else against the pending
        ones (``peers``) and the rest of ``vectors``.

        A specimen unlike the others is another person's signature — a
        forger's specimen slipped into an account is the fraud maker-checker
        guards against — or a different kind of specimen (cut from a cheque
        among scans); either way it widens the spread the score measures and
        lowers the bar for every cheque of the signatory. One that a cheque
        would be rejected with (below the reject threshold for that number
        of references) gets a note for the supervisors; it is not refused,
        since a hand changes over the years.
        """
        info = self._thresholds_info(model)
        global_t = Thresholds(info.accept, info.reject)
        out: list[tuple[float | None, str | None]] = []
        for i, v in enumerate(vectors):
            rest = trusted if len(trusted) else np.concatenate([peers, np.delete(vectors, i, axis=0)])
            if not len(rest):
                out.append((None, None))
                continue
            score = float(model.score(v, rest))
            t, _ = self._signatory_base(model, len(rest), info, global_t)
            note = None
            if score < t.reject:
                n = len(rest)
                note = (f"unlike the signatory's other {n} specimen{'s' * (n != 1)}: it scores {score:.2f} against "
                        f"them, below the reject threshold ({t.reject:.2f}). Check that it is this person's signature; "
                        "a specimen unlike the others lowers the bar for every cheque of the signatory.")  # fmt: skip
            out.append((score, note))
        return out

    def _check_batch_shape(self, sources: Sequence[Any], source: str, boxes: Sequence[Any] | None, *, limit: bool) -> None:
        if source not in REFERENCE_SOURCES:
            raise InvalidInput(f"Unknown reference source {source!r}.", hint=f"Use one of {', '.join(REFERENCE_SOURCES)}.")
        if not sources:
            raise InvalidInput("Give at least one signature image.")
        if limit and len(sources) > MAX_REFERENCES:
            raise ReferenceRejected(f"Give between {MIN_REFERENCES} and {MAX_REFERENCES} reference signatures, not {len(sources)}.")
        if boxes is not None and len(boxes) != len(sources):
            raise InvalidInput("Give one box (or None) per cheque.")

    @staticmethod
    def _known_specimens(existing: Sequence[dict[str, Any]]) -> list[tuple[str, np.ndarray, int | None, int | None]]:
        from chequeverify.imaging.normalise import normalise_signature

        return [(r["image_sha256"], normalise_signature(im.png_grey(r["image_png"])), r["id"], None) for r in existing]

    def _check_specimen(self, src: im.ImageSource, i: int, source: str, box: Box | None,
                        known: list[tuple[str, np.ndarray, int | None, int | None]]) -> dict[str, Any]:  # fmt: skip
        """Read, crop, clean and quality-check one specimen; appends it to ``known``. Raises ReferenceRejected / UnreadableScan."""
        from chequeverify import imaging
        from chequeverify.imaging.normalise import find_ink, normalise_signature

        label = im.source_name(src) or f"image {i + 1}"
        try:
            page = self._load_image(src)
            if source == "cheque":
                _, grey = imaging.extract_signature(page, box=_check_box(box, page) if box is not None else None)
            else:
                _refuse_whole_cheque(page, label)
                grey = imaging.clean_signature(page)
            grey = np.asarray(grey, dtype=np.uint8)
            stats = find_ink(grey)
        except SignatureNotFound as exc:
            raise ReferenceRejected(f"{label}: no signature found ({exc.message})") from exc
        except UnreadableScan as exc:
            message = exc.message if exc.message.startswith(label) or label in exc.message else f"{label}: {exc.message}"
            raise UnreadableScan(message, hint=exc.hint) from exc
        x0, y0, x1, y1 = stats.box
        if stats.pixels < MIN_REFERENCE_INK_PIXELS:
            raise _rejected(f"{label}: too little ink ({stats.pixels} pixels); the signature is too faint or too small.", grey)
        if x1 - x0 < MIN_REFERENCE_WIDTH or y1 - y0 < MIN_REFERENCE_HEIGHT:
            raise _rejected(f"{label}: the signature is tiny ({x1 - x0}×{y1 - y0} pixels); scan it at 200 dpi or more.", grey)
        grey = im.crop_to_ink(grey, stats.box)
        png = im.grey_png(grey)
        digest = im.sha256_hex(png)
        norm = normalise_signature(grey)
        for other_sha, other_norm, other_id, other_index in known:
            if other_sha == digest or float(np.abs(other_norm - norm).mean()) < DUPLICATE_MEAN_DIFFERENCE:
                what = f"reference {other_id}" if other_id is not None else f"image {other_index + 1} of this batch"
                raise _rejected(f"{label}: a duplicate of {what}; give a different signing.", grey, (other_id, other_index))
        known.append((digest, norm, None, i))
        return {"label": label, "source_name": im.source_name(src), "grey": grey, "png": png, "sha": digest,
                "ink": stats.pixels}  # fmt: skip

    def _prepare_references(self, sources: Sequence[im.ImageSource], source: str, *,
                            existing: Sequence[dict[str, Any]], boxes: Sequence[Box | None] | None = None) -> list[dict]:  # fmt: skip
        """Read, crop, clean, quality-check and embed specimens (no database writes); the first refusal raises."""
        self._check_batch_shape(sources, source, boxes, limit=True)
        known = self._known_specimens(existing)
        prepared = [self._check_specimen(src, i, source, boxes[i] if boxes is not None else None, known)
                    for i, src in enumerate(sources)]  # fmt: skip
        model = self.workspace.load_model()
        vectors = np.asarray(model.embed([p["grey"] for p in prepared]), dtype=np.float32)
        for p, v in zip(prepared, vectors):
            p["embedding"], p["dim"], p["model_id"] = im.embedding_bytes(v), int(v.shape[0]), str(model.model_id)
            p["vector"] = v
        return prepared

    def _insert_references(self, signatory_id: int, account: str, signatory: str, prepared: Sequence[dict],
                           source: str) -> list[int]:  # fmt: skip
        ids = []
        for p in prepared:
            h, w = p["grey"].shape
            rid = self._store.add_reference({
                "signatory_id": signatory_id, "status": "pending", "source": source, "source_name": p["source_name"],
                "image_sha256": p["sha"], "image_png": p["png"], "width": w, "height": h, "ink_pixels": p["ink"],
                "embedding": p["embedding"], "embedding_dim": p["dim"], "model_id": p["model_id"],
                "added_by": self._name,
            })  # fmt: skip
            self._store.append_audit("reference_added", user=self._name, account=account, subject=f"reference {rid}",
                                     details={"signatory_id": signatory_id, "signatory": signatory, "source": source,
                                              "file": p["source_name"], "image_sha256": p["sha"],
                                              "agreement": _finite_or_none(p.get("agreement"))})  # fmt: skip
            ids.append(rid)
        return ids

    def pending_references(self) -> list[ReferenceInfo]:
        """References (and retirements) waiting for a second supervisor, oldest first."""
        self._require("view", "view pending references")
        rows = self._store.references(statuses=("pending", "retiring"))
        if not any(r["status"] == "pending" for r in rows):
            return [self._reference_info(r) for r in rows]
        model = self.workspace.load_model()
        specimens: dict[int, list[dict[str, Any]]] = {}  # per signatory, read once
        out = []
        for r in rows:
            info = self._reference_info(r)
            mine = self._embeddings([r], model) if r["status"] == "pending" else []
            if len(mine):
                if r["signatory_id"] not in specimens:
                    specimens[r["signatory_id"]] = self._store.references(
                        signatory_id=r["signatory_id"], statuses=("pending", "active", "retiring"), with_images=False)
                others = [o for o in specimens[r["signatory_id"]] if o["id"] != r["id"]]
                (score, note), = self._agreements(model, mine, *self._trusted_and_peers(others, model))
                info = dataclasses.replace(info, agreement=score, agreement_note=note)
            out.append(info)
        return out

    def get_reference(self, reference_id: int) -> ReferenceInfo:
        """One reference, any status. Raises :class:`UnknownAccount`."""
        self._require("view", "view references", subject=f"reference {reference_id}")
        return self._reference_info(self._reference_row(reference_id))

    def approve_reference(self, reference_id: int, note: str = "") -> ReferenceInfo:
        """The checker's approval: a pending reference becomes active, a retiring one retired.

        Supervisor only, and not the one who made the change (maker-checker).
        Raises :class:`UnknownAccount`, :class:`PermissionDenied` (same
        supervisor), :class:`InvalidInput` (nothing to approve).
        """
        return self._review_reference(reference_id, True, note)

    def reject_reference(self, reference_id: int, reason: str) -> ReferenceInfo:
        """The checker refuses: a pending reference is rejected, a retirement is cancelled. Supervisor only."""
        if not str(reason or "").strip():
            raise InvalidInput("Give a reason for refusing the change.")
        return self._review_reference(reference_id, False, reason)

    def _review_reference(self, reference_id: int, approve: bool, note: str) -> ReferenceInfo:
        self._require("approve", "approve reference changes", subject=f"reference {reference_id}")
        own = False
        with self._store.transaction():
            # status and maker are read inside the write transaction: a retirement requested by this
            # supervisor between a read and the write must not be approved by them
            row = self._reference_row(reference_id)
            if row["status"] not in ("pending", "retiring"):
                raise InvalidInput(f"Reference {reference_id} is {row['status']}; there is nothing to approve.")
            maker = row["added_by"] if row["status"] == "pending" else (row["retire_requested_by"] or row["added_by"])
            if maker.lower() == self._name.lower():
                own = True
                self._store.append_audit("permission_denied", user=self._name, account=row["account"],
                                         subject=f"reference {reference_id}",
                                         details={"action": "review own reference change"})  # fmt: skip
            else:
                new, kind = {
                    ("pending", True): ("active", "reference_approved"),
                    ("pending", False): ("rejected", "reference_refused"),
                    ("retiring", True): ("retired", "reference_retired"),
                    ("retiring", False): ("active", "reference_retirement_refused"),
                }[(row["status"], approve)]
                self._store.update_reference(row["id"], status=new, reviewed_by=self._name,
                                             reviewed_at=_utc_now(), review_note=str(note or "").strip() or None)  # fmt: skip
                self._store.append_audit(kind, user=self._name, account=row["account"],
                                         subject=f"reference {reference_id}",
                                         details={"signatory_id": row["signatory_id"], "note": note or None,
                                                  "maker": maker})  # fmt: skip
                self._store.bump_references_version()
        if own:
            raise PermissionDenied("A second supervisor must review this change (you made it).",
                                   hint="Ask another supervisor.")  # fmt: skip
        return self._reference_info(self._reference_row(reference_id))

    def retire_reference(self, reference_id: int, reason: str) -> ReferenceInfo:
        """Ask to remove a reference from scoring; it stays in force until a second supervisor approves.

        Supervisor only. Raises :class:`UnknownAccount`, :class:`InvalidInput`
        (not active, no reason, the signatory's last reference).
        """
        self._require("register", "retire reference signatures", subject=f"reference {reference_id}")
        if not str(reason or "").strip():
            raise InvalidInput("Give a reason for retiring the reference.")
        with self._store.transaction():
            row = self._reference_row(reference_id)
            if row["status"] != "active":
                raise InvalidInput(f"Reference {reference_id} is {row['status']}; only active ones can be retired.")
            self._store.update_reference(row["id"], status="retiring", retire_requested_by=self._name,
                                         retire_reason=str(reason).strip())
            self._store.append_audit("reference_retirement_requested", user=self._name, account=row["account"],
                                     subject=f"reference {reference_id}", details={"reason": reason})  # fmt: skip
        return self._reference_info(self._reference_row(reference_id))

    def re_embed_references(self, *, batch: int = 64) -> ReEmbedSummary:
        """Recompute every reference's embedding with the current model from its stored image (one transaction).

        Supervisor only. Raises :class:`ModelError`.
        """
        self._require("re_embed", "re-embed references")
        model = self.workspace.load_model()
        start = time.perf_counter()
        rows = self._store.references(with_images=True)
        updates = []
        for i in range(0, len(rows), batch):
            chunk = rows[i : i + batch]
            vectors = np.asarray(model.embed([im.png_grey(r["image_png"]) for r in chunk]), dtype=np.float32)
            updates += [(r["id"], v) for r, v in zip(chunk, vectors)]
        with self._store.transaction():
            for rid, v in updates:
                self._store.update_reference(rid, embedding=im.embedding_bytes(v), embedding_dim=int(v.shape[0]),
                                             model_id=str(model.model_id))  # fmt: skip
            self._store.bump_references_version()
            self._store.append_audit("references_reembedded", user=self._name,
                                     details={"model_id": str(model.model_id), "references": len(updates)})  # fmt: skip
        return ReEmbedSummary(str(model.model_id), len(updates), time.perf_counter() - start)

    def _reference_row(self, reference_id: int) -> dict[str, Any]:
        row = self._store.get_reference(int(reference_id))
        if row is None:
            raise UnknownAccount(f"There is no reference {reference_id}.")
        return row

    def _reference_info(self, row: dict[str, Any]) -> ReferenceInfo:
        image = self.workspace._reference_image(row["id"], row.get("image_png"))
        return ReferenceInfo(
            id=row["id"], account=row["account"], signatory_id=row["signatory_id"], signatory=row["signatory"],
            status=row["status"], source=row["source"], source_name=row["source_name"], image=image,
            model_id=row["model_id"], added_by=row["added_by"], added_at=row["added_at"],
            reviewed_by=row["reviewed_by"], reviewed_at=row["reviewed_at"], review_note=row["review_note"],
            retire_requested_by=row.get("retire_requested_by"), retire_reason=row.get("retire_reason"),
        )  # fmt: skip

    # --- cheques ------------------------------------------------------------------

    def _load_image(self, source: im.ImageSource, page: int = 0) -> Image.Image:
        from chequeverify import imaging

        if isinstance(source, (Image.Image, np.ndarray)):
            return im.as_pil(source)
        if isinstance(source, (str, Path)):
            im.read_source_bytes(source)  # size and existence checks with a clear message
        return imaging.load_scan(source, page=page)

    def _read(self, source: im.ImageSource, page: int, boxes: Sequence[Box] | None) -> tuple:
        """(page image, file sha256, file name, [(Located, grey crop)]) — no writes."""
        from chequeverify import imaging

        if isinstance(source, (Image.Image, np.ndarray)):
            sha = im.image_fingerprint(source)
            image = im.as_pil(source)
        else:
            data = im.read_source_bytes(source)
            sha = im.sha256_hex(data)
            image = imaging.load_scan(data, page=page, name=im.source_name(source))
        found = []
        for box in boxes or [None]:
            checked = _check_box(box, image) if box is not None else None
            loc, crop = imaging.extract_signature(image, box=checked)
            located = Located(box=tuple(int(v) for v in (checked or loc.box)),  # type: ignore[arg-type]
                              confidence=1.0 if checked else float(loc.confidence),
                              layout=str(getattr(loc, "layout", None) or "unknown"),
                              rotated=int(getattr(loc, "rotated", 0) or 0), corrected=checked is not None,
                              px_per_mm=float(getattr(loc, "px_per_mm", 0.0) or 0.0),
                              bitonal=bool(getattr(loc, "bitonal", False)))  # fmt: skip
            found.append((located, np.asarray(crop, dtype=np.uint8)))
        return image, sha, im.source_name(source), found

    def read_cheque(self, source: im.ImageSource, *, page: int = 0, box: Box | None = None) -> ChequeReading:
        """Read a cheque and find its signature without writing anything (the GUI's preview).

        ``box``: a clerk-corrected signature box. Raises :class:`UnreadableScan`,
        :class:`SignatureNotFound`, :class:`InvalidInput` (box outside the image).
        """
        self._require("read_cheque", "read cheques")
        image, sha, name, found = self._read(source, page, [box] if box else None)
        located, crop = found[0]
        return ChequeReading(file_name=name, file_sha256=sha, image=image, located=located, signature=crop)

    def verify(self, source: im.ImageSource, account: str, *, amount: Decimal | str | float | None = None,
               box: Box | None = None, boxes: Sequence[Box] | None = None, page: int = 0) -> Verification:  # fmt: skip
        """Verify a cheque against an account: locate, clean, embed, score every signatory, apply the mandate.

        ``amount``: the cheque's amount (for amount-tiered mandates; without
        it the strictest tier applies). ``box``: a clerk-corrected signature
        box; ``boxes``: one box per signature for multi-signature cheques.
        The verification (model decision, scores, the signature crop) and
        its audit event are stored in one transaction; a human then
        confirms or overrides it with :meth:`decide`.

        Raises :class:`UnknownAccount`, :class:`InvalidInput` (account not
        active or a watch-list, bad amount or box), :class:`UnreadableScan`,
        :class:`SignatureNotFound` (blank cheque), :class:`MandateError` (no
        valid signatory with approved references / mandate cannot be met),
        :class:`ModelError` (model missing or references embedded by another
        model).
        """
        t0 = time.perf_counter()
        user = self._require("verify", "verify cheques", account=str(account))
        acc = self._account_row(account)
        if acc["watchlist"]:
            raise InvalidInput(f"{acc['number']} is a watch-list of known forgers, not an account to pay from.")
        if acc["status"] != "active":
            raise InvalidInput(f"Account {acc['number']} is {acc['status']}; its cheques cannot be paid.")
        value = _parse_amount(amount)
        mandate = policy.parse_mandate(acc["mandate"])
        model = self.workspace.load_model()
        today = dt.date.today()
        sets = self._reference_sets(acc["id"], model)
        valid_sets = [s for s in sets if s["valid"]]
        signers_preview = [policy.Signer(s["id"], s["name"], s["panel"], Thresholds(1, 0)) for s in valid_sets]
        policy.check_feasible(mandate, signers_preview, value)
        image, sha, name, found = self._read(source, page, list(boxes) if boxes else ([box] if box else None))
        crops = [c for _, c in found]
        queries = np.asarray(model.embed(crops), dtype=np.float32)
        base = self._thresholds_info(model)
        global_t = Thresholds(base.accept, base.reject)
        # score every signatory (valid or not) against every signature found
        per_sig: list[dict[str, Any]] = []
        for s in sets:
            start, origin = self._signatory_base(model, int(s["matrix"].shape[0]), base, global_t)
            adapted = self._adapted(model, s, start, base.adapt_per_signatory)
            note = f"{origin}; {adapted.reason}" if base.adapt_per_signatory else origin
            scores = [float(model.score(q, s["matrix"])) for q in queries]
            per_sig.append({**s, "thresholds": adapted.thresholds, "adapt_reason": note, "scores": scores})
        valid = [p for p in per_sig if p["valid"]]
        signers = [policy.Signer(p["id"], p["name"], p["panel"], p["thresholds"]) for p in valid]
        result = policy.evaluate(mandate, signers, [[p["scores"][i] for p in valid] for i in range(len(crops))], value)
        attributed = {o.signer_id: o for o in result.outcomes if o.signer_id is not None}
        reasons = list(result.reasons) + _image_notes(found[0][0]) + _enrolment_notes(valid)
        hits = self._watchlist_hits(model, queries, base, global_t)
        model_decision = result.decision
        for h in hits:
            reasons.insert(0, f"signature {h.signature + 1} matches a known forger on the watch-list: {h.holder} "
                              f"({h.account}, {h.signatory}), score {h.score:.2f} ≥ {h.accept:.2f}")  # fmt: skip
        if hits and model_decision is Decision.ACCEPT:
            model_decision = Decision.REFER
            reasons.insert(len(hits), "the mandate is met, but a watch-list match refers the cheque to a person")
        sig_scores: list[SignatoryScore] = []
        stored_scores: list[dict[str, Any]] = []
        for p in per_sig:
            o = attributed.get(p["id"])
            q_index = o.index if o is not None else int(np.argmax(p["scores"]))
            score = p["scores"][q_index]
            decision = policy.decide(score, p["thresholds"])
            q = queries[q_index]
            ref_scores = tuple(
                ReferenceScore(rid, float(model.score(q, p["matrix"][k : k + 1])), self.workspace._reference_image(rid))
                for k, rid in enumerate(p["ref_ids"])
            )  # fmt: skip
            note = p["adapt_reason"]
            if not p["valid"]:
                note = f"not valid on {today}: {p['validity']}"
                if decision is Decision.ACCEPT:
                    reasons.append(f"the signature matches {p['name']}, whose signing authority is {p['validity']}")
            sig_scores.append(SignatoryScore(
                signatory_id=p["id"], name=p["name"], panel=p["panel"], score=score, decision=decision,
                accept=p["thresholds"].accept, reject=p["thresholds"].reject, valid=p["valid"],
                attributed=o is not None, references=ref_scores, note=note))  # fmt: skip
            stored_scores.append({"signatory_id": p["id"], "name": p["name"], "panel": p["panel"], "score": score,
                                  "decision": decision.value, "accept": p["thresholds"].accept,
                                  "reject": p["thresholds"].reject, "valid": p["valid"], "attributed": o is not None,
                                  "signature": q_index, "note": note,
                                  "references": [[r.reference_id, r.score] for r in ref_scores]})  # fmt: skip
        order = sorted(range(len(sig_scores)), key=lambda k: (not sig_scores[k].attributed, -_finite(sig_scores[k].score)))
        sig_scores = [sig_scores[k] for k in order]
        stored_scores = [stored_scores[k] for k in order]
        deciding = [o.score for o in result.outcomes]
        score = min(deciding) if deciding else float("nan")
        located = found[0][0]
        mandate_check = MandateCheck(str(mandate), result.rule, result.met, result.required)
        signatures_json = [{"index": i, "box": list(loc.box), "confidence": loc.confidence, "corrected": loc.corrected}
                           for i, (loc, _) in enumerate(found)]  # fmt: skip
        with self._store.transaction():
            seen = self._store.cheques_with_sha(sha)
            if seen:
                reasons.append(self._seen_before_note(seen))
            cheque_id = self._store.add_cheque({
                "account_id": acc["id"], "file_sha256": sha, "file_name": name,
                "amount": None if value is None else str(value), "box": json.dumps(list(located.box)),
                "box_corrected": int(located.corrected), "confidence": located.confidence, "layout": located.layout,
                "rotated": located.rotated, "signature_png": im.grey_png(crops[0]), "model_id": str(model.model_id),
                "model_decision": model_decision.value, "score": _finite_or_none(score),
                "mandate": str(mandate), "rule": result.rule, "mandate_met": int(result.met),
                "required": result.required,
                "thresholds": json.dumps({**dataclasses.asdict(base), "pending": None}),
                "scores": json.dumps({"signatories": stored_scores, "signatures": signatures_json,
                                      "watchlist": [dataclasses.asdict(h) for h in hits]}),
                "reasons": json.dumps(reasons), "verified_by": user["name"],
            })  # fmt: skip
            self._store.append_audit("verified", user=user["name"], account=acc["number"], subject=f"cheque {cheque_id}",
                                     details={"file_sha256": sha, "file": name, "amount": None if value is None else str(value),
                                              "decision": model_decision.value, "score": _finite_or_none(score),
                                              "watchlist_hits": [h.account for h in hits],
                                              "box": list(located.box), "box_corrected": located.corrected,
                                              "model_id": str(model.model_id),
                                              "scores": {s["name"]: _finite_or_none(s["score"]) for s in stored_scores}})  # fmt: skip
            row = self._store.get_cheque(cheque_id)
        return Verification(
            cheque_id=cheque_id, account=_account_info(acc), file_name=name, file_sha256=sha, amount=value,
            located=located, query_image=crops[0], cheque_image=image, signatories=tuple(sig_scores),
            mandate=mandate_check, thresholds=base, decision=model_decision, score=score, reasons=tuple(reasons),
            model_id=str(model.model_id), verified_by=user["name"], verified_at=row["verified_at"],  # type: ignore[index]
            final=None, seen_before=tuple(seen), elapsed_ms=(time.perf_counter() - t0) * 1000, watchlist_hits=hits,
        )  # fmt: skip

    def _seen_before_note(self, seen: Sequence[int], shown: int = 3) -> str:
        """Earlier verifications of the same file: by whom, when, and what became of them (the last ``shown``).

        A re-check of one cheque (a corrected box, another amount) and a second presentment of a paid
        cheque read differently here, and a run of re-checks until the model accepts shows as one.
        """
        parts = []
        rejected = [cid for cid in list(seen)[:-shown] if (self._store.latest_decision(cid) or {}).get("decision") == "REJECT"]
        for cid in rejected + list(seen)[-shown:]:
            row = self._store.get_cheque(cid)
            if row is None:
                continue
            latest = self._store.latest_decision(cid)
            fate = (f"{latest['decision']} by {latest['decided_by']} ({latest['status'].replace('_', ' ')})"
                    if latest else "undecided")  # fmt: skip
            parts.append(f"cheque {cid} by {row['verified_by']} at {str(row['verified_at'])[:16].replace('T', ' ')} UTC:"
                         f" model {row['model_decision']}, {fate}")  # fmt: skip
        more = f" and {len(seen) - shown - len(rejected)} earlier" if len(seen) - shown - len(rejected) > 0 else ""
        return f"this file was verified before — {'; '.join(parts)}{more}"

    #: candidates looked at for watch-list matches (by score over the whole workspace)
    _WATCHLIST_TOP = 20

    def _watchlist_hits(self, model: Any, queries: np.ndarray, base: ThresholdInfo,
                        global_t: Thresholds) -> tuple[WatchlistHit, ...]:  # fmt: skip
        """Each signature that scores at or above a watch-list signatory's accept threshold (its best match)."""
        if not self._store.list_accounts("", watchlist=True, limit=1):
            return ()
        index = self.workspace._identification_index(model)
        if not index.references:
            return ()
        hits: list[WatchlistHit] = []
        for i, q in enumerate(queries):
            positions, scores = index.search(model, q, self._WATCHLIST_TOP)
            order = np.argsort(-scores, kind="stable")[: self._WATCHLIST_TOP]
            sids = [int(index.signatories[positions[k]]) for k in order]
            directory = self._store.signatory_directory(sids)
            for k, sid in zip(order, sids):
                d = directory.get(sid, {})
                if not d.get("watchlist"):
                    continue
                t, _ = self._signatory_base(model, int(index.stats.counts[positions[k]]), base, global_t)
                if float(scores[k]) >= float(t.accept):
                    hits.append(WatchlistHit(i, str(d.get("account", "?")), str(d.get("holder", "?")),
                                             str(d.get("name", "?")), float(scores[k]), float(t.accept)))  # fmt: skip
                    break
        return tuple(hits)

    def _reference_sets(self, account_id: int, model: Any) -> list[dict[str, Any]]:
        """Each signatory of the account with scoring references: ids, embedding matrix (K×D), validity today."""
        rows = self._store.references(account_id=account_id, statuses=("active", "retiring"), with_images=False)
        by_sig: dict[int, list[dict]] = {}
        for r in rows:
            if r["model_id"] != str(model.model_id) or r["embedding_dim"] != int(model.embedding_dim):
                raise ModelError(
                    f"Reference {r['id']} was embedded by model {r['model_id']}, not {model.model_id}.",
                    hint="A supervisor must re-embed the references: Workspace ▸ Re-embed references… in the app, "
                         "or `chequeverify references re-embed`.",
                )
            by_sig.setdefault(r["signatory_id"], []).append(r)
        today = dt.date.today().isoformat()
        out = []
        for s in self._store.signatories(account_id):
            refs = by_sig.get(s["id"])
            if not refs:
                continue
            matrix = np.stack([im.bytes_embedding(r["embedding"], r["embedding_dim"]) for r in refs])
            valid, validity = _validity(s, today)
            out.append({"id": s["id"], "name": s["name"], "panel": s["panel"], "valid": valid, "validity": validity,
                        "ref_ids": [r["id"] for r in refs], "matrix": matrix})  # fmt: skip
        return out

    @staticmethod
    def _signatory_base(model: Any, k: int, info: ThresholdInfo, global_t: Thresholds) -> tuple[Thresholds, str]:
        """The thresholds a signatory starts from, and a note saying which.

        The model's own thresholds are chosen per number of references K
        (more specimens separate forgeries better, so the same false-accept
        rate is reached lower); a supervisor's workspace thresholds apply
        to every signatory alike. ``k``: the signatory's active references.
        """
        if info.source == "workspace":
            if info.workspace_by_references:
                return Thresholds(*info.for_references(k)), f"workspace thresholds for {k} reference{'s' * (k != 1)}"
            return global_t, "workspace thresholds"
        t = model.thresholds_for(k)
        return Thresholds(float(t.accept), float(t.reject)), f"model thresholds for {k} reference{'s' * (k != 1)}"

    def _adapted(self, model: Any, sig: dict[str, Any], base: Thresholds, enabled: bool) -> policy.Adaptation:
        if not enabled:
            return policy.Adaptation(base, 0.0, None, "not adapted: adaptation is off")
        matrix = sig["matrix"]
        k = matrix.shape[0]
        loo = []
        if k >= policy.decision.MIN_REFERENCES_TO_ADAPT:
            for i in range(k):
                rest = np.delete(matrix, i, axis=0)
                loo.append(float(model.score(matrix[i], rest)))
        return policy.adapt_thresholds(base, loo)

    def get_cheque(self, cheque_id: int) -> Verification:
        """A past verification as stored (``cheque_image`` is None), with its latest human decision.

        Raises :class:`UnknownAccount` (no such cheque).
        """
        self._require("history", "view verified cheques", subject=f"cheque {cheque_id}")
        row = self._cheque_row(cheque_id)
        acc = self._store.get_account_by_id(row["account_id"])
        stored = json.loads(row["scores"])
        saved_t = json.loads(row["thresholds"])
        for rows in ("by_references", "workspace_by_references"):
            saved_t[rows] = tuple(tuple(r) for r in saved_t.get(rows, ()))
        saved_t.pop("pending", None)  # what was in force then; a change waiting then is not part of it
        thresholds = ThresholdInfo(**saved_t)
        sigs = []
        for s in stored["signatories"]:
            refs = tuple(ReferenceScore(rid, sc, self.workspace._reference_image(rid)) for rid, sc in s["references"])
            sigs.append(SignatoryScore(
                signatory_id=s["signatory_id"], name=s["name"], panel=s["panel"], score=_nan_if_none(s["score"]),
                decision=Decision(s["decision"]), accept=s["accept"], reject=s["reject"], valid=s["valid"],
                attributed=s["attributed"], references=refs, note=s.get("note", "")))  # fmt: skip
        box = tuple(json.loads(row["box"]))
        located = Located(box=box, confidence=row["confidence"] or 0.0, layout=row["layout"] or "unknown",  # type: ignore[arg-type]
                          rotated=row["rotated"], corrected=bool(row["box_corrected"]))  # fmt: skip
        latest = self._store.latest_decision(row["id"])
        return Verification(
            cheque_id=row["id"], account=_account_info(acc), file_name=row["file_name"],  # type: ignore[arg-type]
            file_sha256=row["file_sha256"], amount=None if row["amount"] is None else Decimal(row["amount"]),
            located=located, query_image=im.png_grey(row["signature_png"]), cheque_image=None,
            signatories=tuple(sigs), mandate=MandateCheck(row["mandate"], row["rule"], bool(row["mandate_met"]), row["required"]),
            thresholds=thresholds, decision=Decision(row["model_decision"]), score=_nan_if_none(row["score"]),
            reasons=tuple(json.loads(row["reasons"])), model_id=row["model_id"], verified_by=row["verified_by"],
            verified_at=row["verified_at"], final=_clerk_decision(latest) if latest else None,
            seen_before=tuple(i for i in self._store.cheques_with_sha(row["file_sha256"]) if i < row["id"]),
            watchlist_hits=tuple(WatchlistHit(**h) for h in stored.get("watchlist", ())),
        )  # fmt: skip

    def _cheque_row(self, cheque_id: int | str) -> dict[str, Any]:
        try:
            cid = int(cheque_id)
        except (TypeError, ValueError):
            raise InvalidInput(f"{cheque_id!r} is not a cheque id (a number).") from None
        row = self._store.get_cheque(cid)
        if row is None:
            raise UnknownAccount(f"There is no verified cheque {cheque_id}.")
        return row

    def list_cheques(self, *, account: str | None = None, since: dt.date | str | None = None,
                     until: dt.date | str | None = None, model_decision: Decision | str | None = None,
                     status: str | None = None, user: str | None = None, limit: int | None = 500) -> list[ChequeRecord]:  # fmt: skip
        """Verified cheques, newest first, with their latest human decision.

        ``since`` / ``until``: inclusive dates (UTC); ``status``:
        ``undecided``, ``final``, ``awaiting_approval`` or ``refused``;
        ``user``: who verified. Raises :class:`InvalidInput` (bad date or status).
        """
        self._require("history", "view verified cheques", account=account)
        if status not in (None, "undecided", "final", "awaiting_approval", "refused"):
            raise InvalidInput(f"Unknown decision status {status!r}.")
        rows = self._store.list_cheques(
            account=account, since=_date_start(since), until=_date_end(until),
            model_decision=Decision.parse(model_decision).value if model_decision else None,
            verified_by=user, decision_status=status, limit=limit)  # fmt: skip
        return [_cheque_record(r) for r in rows]

    # --- decisions ----------------------------------------------------------------

    def decide(self, cheque_id: int, decision: Decision | str, reason: str = "") -> ClerkDecision:
        """Confirm or override the model's decision on a verified cheque.

        A reason is required to override. Overriding a model REJECT to
        ACCEPT waits for the approval of a supervisor other than the one who
        overrode (:meth:`approve_override`), even when a supervisor made it.
        A later decision supersedes an earlier one; all are kept, and the
        model's decision is never changed. Raises :class:`UnknownAccount`
        (no cheque), :class:`InvalidInput` (bad decision, missing reason).
        """
        user = self._require("decide", "decide on cheques", subject=f"cheque {cheque_id}")
        choice = Decision.parse(decision)
        reason = str(reason or "").strip()
        with self._store.transaction():
            # read inside the write transaction: a decision made meanwhile by someone else is seen
            row = self._cheque_row(cheque_id)
            previous = self._store.latest_decision(row["id"])
            if previous and previous["status"] not in ("final", "refused", "awaiting_approval"):
                previous = None  # superseded: nothing standing to replace
            if previous is None or self._may_reopen(user, previous):
                return self._record_decision(user, row, previous, choice, reason)
            self._store.append_audit("permission_denied", user=user["name"], account=row["account"],
                                     subject=f"cheque {row['id']}",
                                     details={"action": "change a decision", "decision": choice.value,
                                              "standing": previous["decision"], "status": previous["status"],
                                              "by": previous["decided_by"]})  # fmt: skip
        # (the refusal's audit event is committed first)
        raise PermissionDenied(_decided_already(row["id"], previous), hint="A supervisor can change it, with a reason.")

    def _record_decision(self, user: dict[str, Any], row: dict[str, Any], previous: dict[str, Any] | None,
                         choice: Decision, reason: str) -> ClerkDecision:  # fmt: skip
        """Store a decision (inside the caller's transaction), superseding ``previous``, the one standing."""
        model_decision = Decision(row["model_decision"])
        is_override = choice is not model_decision
        if previous and not reason:
            raise InvalidInput(f"Give a reason to change the decision on cheque {row['id']}.")
        if is_override and not reason:
            raise InvalidInput("Give a reason to override the model's decision.",
                               hint="Say what you checked (e.g. 'called the customer').")  # fmt: skip
        second_look = None
        if choice is Decision.ACCEPT:
            self._check_account_payable(row["account"], f"cheque {row['id']}")
            second_look = self._why_accept_needs_a_supervisor(row)
        if second_look and not reason:
            raise InvalidInput(f"Give a reason to accept cheque {row['id']}: {second_look}.")
        status = ("awaiting_approval" if (model_decision is Decision.REJECT and choice is Decision.ACCEPT) or second_look
                  else "final")  # fmt: skip
        if previous:
            self._store.update_decision(previous["id"], status="superseded")
        self._store.add_decision({"cheque_id": row["id"], "decision": choice.value,
                                  "reason": reason or "confirmed", "is_override": int(is_override),
                                  "status": status, "decided_by": user["name"]})  # fmt: skip
        kind = "override_requested" if status == "awaiting_approval" else ("overridden" if is_override else "decided")
        details: dict[str, Any] = {"decision": choice.value, "model_decision": model_decision.value,
                                   "reason": reason or "confirmed", "status": status}  # fmt: skip
        if second_look:
            details["why_a_supervisor"] = second_look
        if previous:
            details["supersedes"] = {"decision": previous["decision"], "status": previous["status"],
                                     "by": previous["decided_by"], "reviewed_by": previous.get("reviewed_by")}  # fmt: skip
        self._store.append_audit(kind, user=user["name"], account=row["account"], subject=f"cheque {row['id']}",
                                 details=details)
        return _clerk_decision(self._store.latest_decision(row["id"]))  # type: ignore[arg-type]

    def _why_accept_needs_a_supervisor(self, row: dict[str, Any]) -> str | None:
        """Why accepting this cheque needs a second person even where the model did not say REJECT, or None.

        A signature that matches a watch-list of known forgers; a file whose earlier verification stands
        rejected or referred (verifying the same scan again must not get round a decision, a REJECT or a
        refused override).
        """
        stored = json.loads(row["scores"] or "{}")
        if stored.get("watchlist"):
            hit = stored["watchlist"][0]
            return f"its signature matches a known forger on the watch-list ({hit['holder']}, {hit['account']})"
        for cid in self._store.cheques_with_sha(row["file_sha256"]):
            if cid >= row["id"]:
                continue
            earlier = self._store.get_cheque(cid)
            latest = self._store.latest_decision(cid)
            standing = (latest["decision"] if latest and latest["status"] == "final" else
                        earlier["model_decision"] if latest and latest["status"] == "refused" else None)  # fmt: skip
            if standing is not None and standing != "ACCEPT":
                # verifying the same scan again (another box, amount or account) must not reopen a decision
                what = "rejected" if standing == "REJECT" else "referred"
                return f"the same file was {what} before (cheque {cid})"
        return None

    @staticmethod
    def _may_reopen(user: dict[str, Any], previous: dict[str, Any]) -> bool:
        """Whether ``user`` may replace a standing decision: a supervisor may; a clerk only their own
        request still awaiting approval (to withdraw it), never a final or a refused one."""
        if user["role"] == "supervisor":
            return True
        return previous["status"] == "awaiting_approval" and previous["decided_by"].lower() == user["name"].lower()

    def pending_overrides(self) -> list[ClerkDecision]:
        """Overrides of a model REJECT waiting for a supervisor, oldest first."""
        self._require("history", "view pending overrides")
        return [_clerk_decision(r) for r in self._store.decisions_awaiting_approval()]

    def approve_override(self, cheque_id: int, note: str = "") -> ClerkDecision:
        """A supervisor (not the one who overrode) approves an override of a REJECT; it becomes final.

        Raises :class:`UnknownAccount`, :class:`InvalidInput` (nothing
        waiting), :class:`PermissionDenied` (not a supervisor, or one's own override).
        """
        return self._review_override(cheque_id, True, note)

    def refuse_override(self, cheque_id: int, reason: str) -> ClerkDecision:
        """A supervisor refuses an override of a REJECT: the model's REJECT stands. Raises as :meth:`approve_override`."""
        if not str(reason or "").strip():
            raise InvalidInput("Give a reason for refusing the override.")
        return self._review_override(cheque_id, False, reason)

    def _review_override(self, cheque_id: int, approve: bool, note: str) -> ClerkDecision:
        user = self._require("approve_override", "approve overrides", subject=f"cheque {cheque_id}")
        with self._store.transaction():
            # read inside the write transaction: a review landing between a read and this write
            # (another supervisor refusing the same override) must not be overwritten
            row = self._cheque_row(cheque_id)
            latest = self._store.latest_decision(row["id"])
            if latest is None or latest["status"] != "awaiting_approval":
                raise InvalidInput(f"Cheque {cheque_id} has no override waiting for approval.")
            if latest["decided_by"].lower() == user["name"].lower():
                self._store.append_audit("permission_denied", user=user["name"], account=row["account"],
                                         subject=f"cheque {row['id']}", details={"action": "approve own override"})  # fmt: skip
            else:
                if approve:
                    self._check_account_payable(row["account"], f"cheque {row['id']}")
                self._store.update_decision(latest["id"], status="final" if approve else "refused",
                                            reviewed_by=user["name"], reviewed_at=_utc_now(),
                                            review_note=str(note or "").strip() or None)  # fmt: skip
                self._store.append_audit("override_approved" if approve else "override_refused", user=user["name"],
                                         account=row["account"], subject=f"cheque {row['id']}",
                                         details={"decision": latest["decision"], "maker": latest["decided_by"],
                                                  "note": note or None})  # fmt: skip
                return _clerk_decision(self._store.latest_decision(row["id"]))  # type: ignore[arg-type]
        raise PermissionDenied("Another supervisor must approve this override (you made it).")

    def _check_account_payable(self, number: str, what: str) -> None:
        """Raise :class:`InvalidInput` unless the account is active now (it may have been frozen since the verification)."""
        acc = self._store.get_account(number)
        if acc is not None and acc["status"] != "active":
            raise InvalidInput(f"Account {acc['number']} is {acc['status']}; {what} cannot be accepted.",
                               hint="Refer or reject it; a supervisor can make the account active again.")  # fmt: skip

    # --- identification -----------------------------------------------------------

    def identify(self, source: im.ImageSource, *, cheque: bool = False, top: int = 5, box: Box | None = None,
                 page: int = 0, images: bool = True) -> Identification:  # fmt: skip
        """Who signed this? Rank every enrolled signatory (watch-lists included) by score.

        ``cheque``: the input is a cheque (the signature is located first;
        ``box`` corrects it) rather than a signature image. ``images``:
        include each candidate's first reference image. Nothing is stored
        but an audit event. Raises :class:`UnreadableScan`,
        :class:`SignatureNotFound`, :class:`InvalidInput` (top < 1),
        :class:`ModelError`.
        """
        t0 = time.perf_counter()
        from chequeverify import imaging

        user = self._require("identify", "identify signatures")
        if not isinstance(top, int) or top < 1:
            raise InvalidInput("--top must be a positive number.")
        model = self.workspace.load_model()
        located = None
        if cheque:
            _, sha, name, found = self._read(source, page, [box] if box else None)
            located, crop = found[0]
        else:
            page_image = self._load_image(source, page)
            crop = np.asarray(imaging.clean_signature(page_image), dtype=np.uint8)
            name = im.source_name(source)
            sha = None
        query = np.asarray(model.embed([crop]), dtype=np.float32)[0]
        index = self.workspace._identification_index(model)
        base = self._thresholds_info(model)
        global_t = Thresholds(base.accept, base.reject)
        candidates: list[Candidate] = []
        if index.references:
            positions, scores = index.search(model, query, top)
            n = min(top, len(scores))
            best = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
            best = best[np.argsort(-scores[best], kind="stable")]
            best_pos = positions[best]
            directory = self._store.signatory_directory([int(index.signatories[p]) for p in best_pos])
            for rank, (k, p) in enumerate(zip(best, best_pos), start=1):
                sid = int(index.signatories[p])
                d = directory.get(sid, {})
                ref_image = self.workspace._reference_image(int(index.first_reference[p])) if images else None
                n_refs = int(index.stats.counts[p])
                t, _ = self._signatory_base(model, n_refs, base, global_t)
                candidates.append(Candidate(rank=rank, score=float(scores[k]), account=d.get("account", "?"),
                                            holder=d.get("holder", "?"), signatory_id=sid,
                                            signatory=d.get("name", "?"), watchlist=bool(d.get("watchlist")),
                                            accept=float(t.accept), reject=float(t.reject), references=n_refs,
                                            reference_image=ref_image))  # fmt: skip
        hits = tuple(c for c in candidates if c.watchlist and c.score >= c.accept)
        with self._store.transaction():
            self._store.append_audit("identified", user=user["name"], subject=name,
                                     details={"file_sha256": sha, "top": [[c.account, c.signatory, round(c.score, 6)]
                                                                          for c in candidates],
                                              "watchlist_hits": [c.account for c in hits]})  # fmt: skip
        return Identification(query_image=crop, located=located, candidates=tuple(candidates),
                              references_searched=index.references, signatories_searched=len(index.signatories),
                              model_id=str(model.model_id), accept=base.accept, watchlist_hits=hits,
                              elapsed_ms=(time.perf_counter() - t0) * 1000)  # fmt: skip

    # --- thresholds ---------------------------------------------------------------

    def thresholds(self) -> ThresholdInfo:
        """The global thresholds in force for the current model. Raises :class:`ModelError`."""
        self._require("view", "view thresholds")
        return self._thresholds_info(self.workspace.load_model())

    def _thresholds_info(self, model: Any) -> ThresholdInfo:
        mt = model.thresholds
        model_accept, model_reject = float(mt.accept), float(mt.reject)
        # off unless a supervisor turns it on: the shipped score function (refnorm) already
        # measures each account against the spread of its own references
        adapt = (self._store.get_setting(_SETTING_ADAPT, "0") or "0") == "1"
        rows = tuple((int(r["references"]), float(r["accept"]), float(r["reject"]))
                     for r in getattr(mt, "by_references", ()) or ())  # fmt: skip
        waiting = self._store.changes(kind="thresholds")
        pending = _pending_change(waiting[-1]) if waiting else None
        row = self._store.setting_row(_SETTING_THRESHOLDS)
        if row:
            saved = json.loads(row["value"])
            if saved.get("model_id") == str(model.model_id):
                own = tuple((int(k), float(a), float(r)) for k, a, r in saved.get("by_references", ()))
                return ThresholdInfo(saved["accept"], saved["reject"], "workspace", str(model.model_id), model_accept,
                                     model_reject, adapt, row["changed_by"], row["changed_at"], pending=pending,
                                     by_references=rows, workspace_by_references=own)  # fmt: skip
        return ThresholdInfo(model_accept, model_reject, "model", str(model.model_id), model_accept, model_reject, adapt,
                             pending=pending, by_references=rows)  # fmt: skip

    def set_thresholds(self, accept: float | None = None, reject: float | None = None, *,
                       by_references: Sequence[Sequence[float]] | None = None,
                       adapt_per_signatory: bool | None = None, reason: str = "") -> ThresholdInfo:  # fmt: skip
        """Change the global thresholds (for the current model) and/or per-signatory adaptation. Supervisor only.

        ``accept`` and ``reject`` alone: one pair for every signatory.
        ``by_references``: ``(K, accept, reject)`` rows instead, one pair
        per number of references (a signatory with k references is decided
        by the row of the largest K ≤ k, the first row below it); ``accept``
        / ``reject`` are then the pooled pair shown beside them (default:
        the one in force). A stricter change applies at once. A looser one
        (a lower accept or reject threshold than the one in force for any
        number of references, or adaptation turned off) waits for a second
        supervisor (:meth:`approve_change`); the returned info then has
        ``pending`` set. Raises :class:`InvalidInput` (not numbers, accept <
        reject, bad rows, only one of two thresholds while rows per number
        of references are in force, a change already waiting),
        :class:`ModelError`.
        """
        self._require("thresholds", "change thresholds")
        model = self.workspace.load_model()
        current = self._thresholds_info(model)
        payload: dict[str, Any] = {"model_id": str(model.model_id)}
        if by_references is not None:
            payload.update(accept=float(current.accept if accept is None else accept),
                           reject=float(current.reject if reject is None else reject),
                           by_references=_threshold_rows(by_references))  # fmt: skip
        elif (accept is None) != (reject is None) and len(current.rows_in_force()) > 1:
            raise InvalidInput(
                "Give both the accept and the reject threshold: those in force differ by number of references, "
                "and a workspace pair replaces them for every signatory.",
                hint="`chequeverify thresholds show` lists them; `thresholds reset` goes back to the model's.",
            )
        elif accept is not None or reject is not None:
            new = Thresholds(float(current.accept if accept is None else accept),
                             float(current.reject if reject is None else reject))  # fmt: skip
            payload.update(accept=new.accept, reject=new.reject)
        if adapt_per_signatory is not None:
            payload["adapt_per_signatory"] = bool(adapt_per_signatory)
        return self._change_thresholds(model, current, payload, reason)

    def reset_thresholds(self, *, reason: str = "") -> ThresholdInfo:
        """Go back to the model's own thresholds (per number of references), adaptation off. Supervisor only.

        Waits for a second supervisor where the model's rows are looser than the workspace's pair.
        """
        self._require("thresholds", "change thresholds")
        model = self.workspace.load_model()
        current = self._thresholds_info(model)
        return self._change_thresholds(model, current, {"model_id": str(model.model_id), "reset": True}, reason)

    def _change_thresholds(self, model: Any, current: ThresholdInfo, payload: dict[str, Any], reason: str) -> ThresholdInfo:
        after = _thresholds_after(current, payload)
        looser = [k for k in range(1, MAX_REFERENCES + 1)
                  if after.for_references(k)[0] < current.for_references(k)[0] - 1e-12
                  or after.for_references(k)[1] < current.for_references(k)[1] - 1e-12]  # fmt: skip
        # adaptation either way: on, it lowers a variable hand's reject threshold; off, it lowers a steady
        # hand's accept threshold — both can make paying easier for some signatory
        adapt = current.adapt_per_signatory != after.adapt_per_signatory
        if not looser and not adapt:
            with self._store.transaction():
                self._apply_thresholds(payload, by=self._name)
            return self._thresholds_info(model)
        what = [_describe_looser(current, after, looser)] if looser else []
        if adapt:
            what.append(f"per-signatory adaptation turned {'on' if after.adapt_per_signatory else 'off'}")
        summary = ("Go back to the model's own thresholds: " if payload.get("reset") else "Change the thresholds: ") + \
            "; ".join(what)
        payload = {**payload, "before": _thresholds_snapshot(current)}
        self._request_change("thresholds", None, payload, summary, reason)
        return self._thresholds_info(model)

    def _apply_thresholds(self, payload: dict[str, Any], *, by: str, approved_by: str | None = None) -> None:
        """Put a thresholds change in force (inside the caller's transaction) and audit it."""
        model = self.workspace.load_model()
        current = self._thresholds_info(model)
        if payload.get("model_id") != str(model.model_id):
            raise InvalidInput("This thresholds change was made for another model; it no longer applies.",
                               hint="Refuse it and make it again for the current model.")  # fmt: skip
        extra = _approval(approved_by)
        if payload.get("reset"):
            self._store.delete_setting(_SETTING_THRESHOLDS)
            self._store.delete_setting(_SETTING_ADAPT)  # the model's defaults: adaptation off
            self._store.append_audit("thresholds_reset", user=by, details={
                "model_id": str(model.model_id), "adapt_per_signatory": False, **extra})  # fmt: skip
            return
        if "accept" in payload:
            if payload["accept"] < payload["reject"]:
                raise InvalidInput("The accept threshold must not be below the reject threshold.")
            saved = {"model_id": str(model.model_id), "accept": payload["accept"], "reject": payload["reject"]}
            if payload.get("by_references"):
                saved["by_references"] = payload["by_references"]
            self._store.set_setting(_SETTING_THRESHOLDS, json.dumps(saved), changed_by=by)
        if "adapt_per_signatory" in payload:
            self._store.set_setting(_SETTING_ADAPT, "1" if payload["adapt_per_signatory"] else "0", changed_by=by)
        to = [payload.get("accept", current.accept), payload.get("reject", current.reject)]
        rows = {"by_references": {"from": [list(r) for r in current.rows_in_force()], "to": payload["by_references"]}} \
            if payload.get("by_references") else {}  # fmt: skip
        self._store.append_audit("thresholds_changed", user=by, details={
            "model_id": str(model.model_id), "from": [current.accept, current.reject], "to": to, **rows,
            "adapt_per_signatory": payload.get("adapt_per_signatory", current.adapt_per_signatory), **extra})  # fmt: skip

    # --- maker-checker for settings -------------------------------------------------

    def _request_change(self, kind: str, account: str | None, payload: dict[str, Any], summary: str,
                        reason: str) -> PendingChange:  # fmt: skip
        if not str(reason or "").strip():
            raise InvalidInput(f"Give a reason: this change waits for a second supervisor, who approves it knowing "
                               f"why ({summary}).", hint="Say why (e.g. 'customer's letter of 3 March').")  # fmt: skip
        with self._store.transaction():
            waiting = self._store.changes(kind=kind, account=account)
            if waiting:
                raise InvalidInput(f"Change {waiting[0]['id']} ({waiting[0]['summary']}) is already waiting for a "
                                   "second supervisor.", hint="It must be approved or refused first.")  # fmt: skip
            cid = self._store.add_change({"kind": kind, "account": account, "payload": json.dumps(payload),
                                          "summary": summary, "reason": str(reason or "").strip() or None,
                                          "requested_by": self._name})  # fmt: skip
            self._store.append_audit("change_requested", user=self._name, account=account, subject=f"change {cid}",
                                     details={"kind": kind, "summary": summary, "payload": payload,
                                              "reason": str(reason or "").strip() or None})  # fmt: skip
            return _pending_change(self._store.get_change(cid))  # type: ignore[arg-type]

    def pending_changes(self) -> list[PendingChange]:
        """Settings changes waiting for a second supervisor, oldest first."""
        self._require("view", "view pending changes")
        return [_pending_change(r) for r in self._store.changes()]

    def approve_change(self, change_id: int, note: str = "") -> PendingChange:
        """A second supervisor approves a settings change: it is applied exactly as requested.

        Supervisor only, not its maker. Raises :class:`UnknownAccount` (no
        such change), :class:`InvalidInput` (not pending, no longer
        applicable), :class:`PermissionDenied`.
        """
        return self._review_change(change_id, True, note)

    def refuse_change(self, change_id: int, reason: str) -> PendingChange:
        """Refuse a settings change (its maker may withdraw it the same way). Supervisor only."""
        if not str(reason or "").strip():
            raise InvalidInput("Give a reason for refusing the change.")
        return self._review_change(change_id, False, reason)

    def _review_change(self, change_id: int, approve: bool, note: str) -> PendingChange:
        self._require("approve", "approve settings changes", subject=f"change {change_id}")
        own = False
        with self._store.transaction():
            row = self._store.get_change(int(change_id)) if str(change_id).strip().isdigit() else None
            if row is None:
                raise UnknownAccount(f"There is no change {change_id}.", hint="List them with `chequeverify change pending`.")
            if row["status"] != "pending":
                raise InvalidInput(f"Change {row['id']} is {row['status']}; there is nothing to review.")
            mine = row["requested_by"].lower() == self._name.lower()
            note = str(note or "").strip()
            if mine and approve:
                own = True
                self._store.append_audit("permission_denied", user=self._name, account=row["account"],
                                         subject=f"change {row['id']}", details={"action": "approve own change"})  # fmt: skip
            else:
                status = "applied" if approve else ("withdrawn" if mine else "refused")
                if approve:
                    self._apply_change(row)
                self._store.update_change(row["id"], status=status, reviewed_by=self._name, reviewed_at=_utc_now(),
                                          review_note=note or None)  # fmt: skip
                self._store.append_audit({"applied": "change_approved", "refused": "change_refused",
                                          "withdrawn": "change_withdrawn"}[status], user=self._name,
                                         account=row["account"], subject=f"change {row['id']}",
                                         details={"kind": row["kind"], "summary": row["summary"],
                                                  "maker": row["requested_by"], "note": note or None})  # fmt: skip
        if own:
            raise PermissionDenied("A second supervisor must approve this change (you made it).",
                                   hint="Ask another supervisor; you may withdraw it (refuse it with a reason).")  # fmt: skip
        return _pending_change(self._store.get_change(int(change_id)))  # type: ignore[arg-type]

    def _apply_change(self, row: dict[str, Any]) -> None:
        payload = json.loads(row["payload"])
        stale = self._stale_change(row["kind"], row["account"], payload)
        if stale:
            raise InvalidInput(f"Change {row['id']} was asked for when {stale}; the approval would not apply what "
                               "its summary says.", hint="Refuse it; its maker asks again from what is in force now.")  # fmt: skip
        if row["kind"] == "thresholds":
            self._apply_thresholds(payload, by=row["requested_by"], approved_by=self._name)
        elif row["kind"] == "mandate":
            self._apply_mandate(self._account_row(row["account"]), payload["mandate"], by=row["requested_by"],
                                approved_by=self._name)  # fmt: skip
        elif row["kind"] == "account_status":
            self._apply_status(self._account_row(row["account"]), payload["status"], by=row["requested_by"],
                               approved_by=self._name)  # fmt: skip
        elif row["kind"] == "signatory":
            self._apply_signatory(self._signatory_row(payload["signatory_id"]), payload["fields"],
                                  by=row["requested_by"], approved_by=self._name)  # fmt: skip
        else:  # pragma: no cover - the table's CHECK constraint lists the kinds
            raise InvalidInput(f"Unknown change kind {row['kind']!r}.")

    def _stale_change(self, kind: str, account: str | None, payload: dict[str, Any]) -> str | None:
        """What has changed since the change was asked for (in words), or None: an approval applies the
        change to the state its summary described, never to another one."""
        before = payload.get("before")
        if before is None:
            return None
        if kind == "thresholds":
            now = _thresholds_snapshot(self._thresholds_info(self.workspace.load_model()))
            return None if now == before else "other thresholds were in force (they have been changed since)"
        if kind == "mandate":
            now = self._account_row(account)["mandate"]  # type: ignore[arg-type]
            return None if now == before else f"the mandate was '{before}' (it is '{now}' now)"
        if kind == "account_status":
            now = self._account_row(account)["status"]  # type: ignore[arg-type]
            return None if now == before else f"the account was {before} (it is {now} now)"
        if kind == "signatory":
            row = self._signatory_row(payload["signatory_id"])
            now = {k: row[k] for k in before}
            return None if now == before else "the signatory's panel or dates were different (changed since)"
        return None

    def thresholds_change_effect(self, change_id: int, limit: int = 500) -> ThresholdsEffect | None:
        """What a waiting thresholds change would do to the latest ``limit`` cheques, computed now from its
        payload (the checker sees what its maker saw); None for a change that does not move a threshold
        (adaptation only, or another kind). Raises :class:`UnknownAccount` (no such change)."""
        self._require("history", "view scores", subject=f"change {change_id}")
        row = self._store.get_change(int(change_id)) if str(change_id).strip().isdigit() else None
        if row is None:
            raise UnknownAccount(f"There is no change {change_id}.", hint="List them with `chequeverify change pending`.")
        payload = json.loads(row["payload"])
        if row["kind"] != "thresholds" or not ("accept" in payload or payload.get("reset")):
            return None
        current = self._thresholds_info(self.workspace.load_model())
        after = _thresholds_after(current, payload)
        rows = self._store.recent_scores(int(limit), None)
        scores = [_nan_if_none(r["score"]) for r in rows]
        # rows per number of references cannot be recomputed (a cheque's K is not kept): their recorded decisions
        by_model = bool(current.rows_in_force())
        old = [("" if not math.isfinite(s) else r["model_decision"]) for s, r in zip(scores, rows)] if by_model \
            else _zones(scores, current.accept, current.reject)  # fmt: skip
        new = _zones(scores, after.accept, after.reject)
        final = [r["final"] for r in rows]
        now_accepted = [i for i, (n, o) in enumerate(zip(new, old)) if n == "ACCEPT" and o and o != "ACCEPT"]
        return ThresholdsEffect(
            cheques=sum(1 for z in new if z), before={d: old.count(d) for d in ("ACCEPT", "REFER", "REJECT")},
            after={d: new.count(d) for d in ("ACCEPT", "REFER", "REJECT")}, now_accepted=len(now_accepted),
            people_rejected_now_accepted=sum(1 for i in now_accepted if final[i] == "REJECT"),
            no_longer_rejected=sum(1 for n, o in zip(new, old) if o == "REJECT" and n and n != "REJECT"),
            compared_with="model decisions" if by_model else "thresholds",
        )  # fmt: skip

    def recent_scores(self, limit: int = 500, *, account: str | None = None) -> ScoreHistory:
        """The latest ``limit`` verification scores (for a histogram beside the thresholds). Raises :class:`ModelError`."""
        self._require("history", "view scores")
        rows = self._store.recent_scores(int(limit), account)
        t = self._thresholds_info(self.workspace.load_model())
        return ScoreHistory(
            scores=np.array([_nan_if_none(r["score"]) for r in rows], np.float32),
            decisions=tuple(Decision(r["model_decision"]) for r in rows),
            final=tuple(Decision(r["final"]) if r["final"] else None for r in rows),
            accept=t.accept, reject=t.reject,
        )  # fmt: skip

    # --- audit and reports --------------------------------------------------------

    def audit_events(self, *, since: dt.date | str | None = None, until: dt.date | str | None = None,
                     user: str | None = None, kind: str | None = None, account: str | None = None,
                     limit: int = 1000) -> list[AuditEvent]:  # fmt: skip
        """Audit events, newest first, filtered. Supervisor or admin. Raises :class:`InvalidInput` (bad date)."""
        self._require("audit", "read the audit log", account=account)
        rows = self._store.audit_events(since=_date_start(since), until=_date_end(until), user=user, kind=kind,
                                        account=account, limit=limit)  # fmt: skip
        return [AuditEvent(r["seq"], r["at"], r["user"], r["kind"], r["account"], r["subject"],
                           json.loads(r["details"]), r["hash"]) for r in rows]  # fmt: skip

    def check_audit(self, anchors: Sequence[str | tuple[int, str]] = ()) -> AuditCheck:
        """Verify the audit log's hash chain (returns the result; the CLI turns a failure into :class:`AuditTampered`).

        ``anchors``: ``SEQ:HASH`` kept outside the workspace from an earlier
        check or export (:attr:`AuditCheck.anchor`); row SEQ must still exist
        with exactly that hash, which catches a log rewritten or cut short
        since, hashes recomputed and all. Supervisor or admin. Raises
        :class:`InvalidInput` (a malformed anchor). The check itself is
        audited, with the head it reports and the anchors it was given.
        """
        from chequeverify.storage import format_anchor, parse_anchor

        self._require("audit", "check the audit log")
        try:
            pairs = [parse_anchor(a if isinstance(a, str) else ":".join(map(str, a))) for a in anchors]
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"{exc}.", hint="Give it as `audit verify` printed it: SEQ:HASH.") from None
        check = self._store.check_audit(pairs)
        unaccounted = tuple(self._reconcile()) if check.ok else ()
        result = AuditCheck(check.ok, check.rows, check.first_bad_seq, check.problem, check.head_seq, check.head_hash,
                            check.anchors, unaccounted)  # fmt: skip
        with self._store.transaction():
            self._store.append_audit("audit_checked", user=self._name, details={
                "ok": check.ok, "rows": check.rows, "first_bad_seq": check.first_bad_seq, "head": result.anchor,
                "anchors": [format_anchor(*a) for a in pairs], "unaccounted": len(unaccounted)})  # fmt: skip
        return result

    def _reconcile(self) -> list[str]:
        """State the audit log does not account for: rows edited in the database behind the service's back.

        Every decision must have the event that recorded it (same cheque, decision and user), an override
        of a REJECT in force its approval by the supervisor named, every reviewed reference the event of
        its review, every account the mandate and status its events last gave it, every user the role it
        was created with, and the workspace thresholds the values of their last change.
        """
        state = self._store.state_for_reconciliation()
        events = self._store.audit_events(limit=10**9, newest_first=False)
        out: list[str] = []
        by_subject: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for e in events:
            by_subject.setdefault((e["kind"], e["subject"] or ""), []).append(e)

        def details(e: dict[str, Any]) -> dict[str, Any]:
            return json.loads(e["details"] or "{}")

        decided = Counter((e["subject"] or "", details(e).get("decision"), (e["user"] or "").lower()) for e in events
                          if e["kind"] in ("decided", "overridden", "override_requested"))  # fmt: skip
        for d in state["decisions"]:
            key = (f"cheque {d['cheque_id']}", d["decision"], d["decided_by"].lower())
            if decided[key] > 0:
                decided[key] -= 1
            else:
                out.append(f"decision {d['id']} on cheque {d['cheque_id']} ({d['decision']} by {d['decided_by']}) "
                           "has no audit event")  # fmt: skip
            needs_checker = d["model_decision"] == "REJECT" and d["decision"] == "ACCEPT"
            if needs_checker and d["status"] == "final" and d["reviewed_by"] is None and d["is_override"]:
                out.append(f"decision {d['id']} on cheque {d['cheque_id']}: an override of a REJECT is final "
                           "without a second supervisor's approval")  # fmt: skip
            if d["reviewed_by"]:
                kind = "override_refused" if d["status"] == "refused" else "override_approved"
                if not any((e["user"] or "").lower() == d["reviewed_by"].lower()
                           for e in by_subject.get((kind, f"cheque {d['cheque_id']}"), ())):  # fmt: skip
                    out.append(f"decision {d['id']} on cheque {d['cheque_id']}: no {kind.replace('_', ' ')} event by "
                               f"{d['reviewed_by']}")  # fmt: skip
        review_kind = {"active": "reference_approved", "retiring": "reference_approved", "retired": "reference_retired",
                       "rejected": "reference_refused"}  # fmt: skip
        for r in state["references"]:
            kind = review_kind.get(r["status"])
            if kind and not by_subject.get((kind, f"reference {r['id']}")):
                out.append(f"reference {r['id']} is {r['status']} without a {kind.replace('_', ' ')} event")
        for a in state["accounts"]:
            last_mandate = _last(by_subject.get(("mandate_changed", a["number"])), "to", details) or _last(
                by_subject.get(("account_added", a["number"])), "mandate", details)  # fmt: skip
            if last_mandate is not None and last_mandate != a["mandate"]:
                out.append(f"account {a['number']}: mandate '{a['mandate']}', but the audit log last set "
                           f"'{last_mandate}'")  # fmt: skip
            last_status = _last(by_subject.get(("account_status_changed", a["number"])), "to", details) or "active"
            if last_status != a["status"]:
                out.append(f"account {a['number']}: {a['status']}, but the audit log last made it {last_status}")
        roles = {(e["subject"] or "").lower(): "admin" if e["kind"] == "workspace_initialised" else details(e).get("role")
                 for e in events if e["kind"] in ("user_added", "workspace_initialised")}  # fmt: skip
        for u in state["users"]:
            role = roles.get(u["name"].lower())
            if role is not None and role != u["role"]:
                out.append(f"user {u['name']} is {u['role']}, but was created {role} and no event changed it")
        if state["thresholds"]:
            saved = json.loads(state["thresholds"][0]["value"])
            changes = [e for e in events if e["kind"] in ("thresholds_changed", "thresholds_reset")]
            last = changes[-1] if changes else None
            to = details(last).get("to") if last is not None and last["kind"] == "thresholds_changed" else None
            if to is None or [float(x) for x in to] != [float(saved["accept"]), float(saved["reject"])]:
                out.append(f"the workspace thresholds (accept {saved['accept']}, reject {saved['reject']}) are not "
                           "the ones the audit log last set")  # fmt: skip
            else:
                logged_rows = (details(last).get("by_references") or {}).get("to") or []
                if [[float(x) for x in r] for r in saved.get("by_references") or []] != \
                        [[float(x) for x in r] for r in logged_rows]:
                    out.append("the workspace thresholds per number of references are not the ones the audit log "
                               "last set")  # fmt: skip
        return out

    def export(self, path: str | Path, *, format: str | None = None, since: dt.date | str | None = None,
               until: dt.date | str | None = None, account: str | None = None) -> ExportSummary:  # fmt: skip
        """Write the audit report: one row per verified cheque (CSV) or with signature images (PDF).

        ``format``: ``csv`` or ``pdf`` (default: from the file's suffix).
        The file appears whole or not at all (written beside, then renamed).
        Supervisor or admin. Raises :class:`InvalidInput` (format, dates,
        folder missing), :class:`UnknownAccount`.
        """
        from chequeverify import reports

        self._require("export", "export audit reports", account=account)
        out = Path(path).expanduser()
        fmt = (format or out.suffix.lstrip(".")).lower()
        if fmt not in EXPORT_FORMATS:
            raise InvalidInput(f"Unknown export format {fmt or '(none)'!r}.", hint="Use --format csv or --format pdf.")
        named = out.suffix.lstrip(".").lower()
        if named in EXPORT_FORMATS and named != fmt:
            raise InvalidInput(f"{out.name} is named as a {named.upper()} file but the format asked is {fmt.upper()}.",
                               hint=f"Name it *.{fmt} or ask for --format {named}.")  # fmt: skip
        if not out.parent.is_dir():
            raise InvalidInput(f"The folder {out.parent} does not exist.")
        self._check_export_target(out)
        start, end = _parse_date(since, "from"), _parse_date(until, "to")
        if start and end and end < start:
            raise InvalidInput(f"The report ends ({end}) before it starts ({start}).")
        if account is not None:
            account = self._account_row(account)["number"]
        rows = self._store.list_cheques(account=account, since=_date_start(start), until=_date_end(end), limit=None,
                                        newest_first=False, with_images=(fmt == "pdf"))  # fmt: skip
        report_rows = [self._report_row(r, with_images=(fmt == "pdf")) for r in rows]
        try:
            fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=f".{fmt}", dir=out.parent)
        except OSError as exc:
            raise InvalidInput(f"Cannot write in {out.parent}: {exc.strerror or exc}.") from exc
        os.close(fd)
        # the audit log's head as this report is made: an anchor to file with it (a later append by
        # another process does not make it less true: that row still exists with that hash)
        head = self._store.audit_head()
        anchor = f"{head[0]}:{head[1]}" if head else None
        try:
            if fmt == "csv":
                reports.write_csv(tmp, report_rows)
            else:
                filters = [f"from {start}" if start else "", f"to {end}" if end else "",
                           f"account {account}" if account else ""]  # fmt: skip
                reports.write_pdf(tmp, report_rows, title="chequeverify audit report", subtitle=(
                    f"Workspace {self.workspace.path} · {' '.join(f for f in filters if f) or 'all cheques'} · "
                    f"exported by {self._name} at {_utc_now()}"
                    + (f" · audit log head {anchor} (check later: chequeverify audit verify --anchor {anchor})"
                       if anchor else "")))  # fmt: skip
            # the event and the file land together: the rename is the transaction's last step, so a
            # failed rename leaves no event and a failed commit no report without its event (but a crash
            # in the instant between the two)
            with self._store.transaction():
                self._store.append_audit("export", user=self._name, account=account, subject=out.name, details={
                    "format": fmt, "cheques": len(report_rows), "from": _iso(start), "to": _iso(end),
                    "path": str(out.resolve()), "anchor": anchor})  # fmt: skip
                os.replace(tmp, out)
        except OSError as exc:
            raise InvalidInput(f"Cannot write {out}: {exc.strerror or exc}.") from exc
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return ExportSummary(out, fmt, len(report_rows), start, end, account, anchor)

    def backup(self, folder: str | Path) -> BackupSummary:
        """Copy the whole workspace into ``folder`` (new, or empty): a workspace of its own, checked.

        The copy is one consistent snapshot, taken while others keep working
        (SQLite's online backup), written as ``folder/workspace.sqlite``
        beside, synced, checked (integrity and audit chain) and then renamed
        into place together with its audit event, which records the copy's
        SHA-256 and the head of its audit log (an anchor: the live log must
        still hold that row). Restore by copying that file back over the
        workspace's while no one uses it. Supervisor or admin. Raises
        :class:`InvalidInput` (the folder is the workspace's, inside it, not
        empty or its parent missing) and :class:`StorageError` (the copy
        could not be written or is damaged).
        """
        from chequeverify.storage import format_anchor

        self._require("backup", "back up the workspace")
        out = Path(folder).expanduser()
        target = out.resolve()
        live = Path(self.workspace.path).resolve()
        if target == live or live in target.parents:
            raise InvalidInput(f"{out} is the workspace folder or inside it; a backup must live elsewhere.",
                               hint="Choose a folder on another disk or share, e.g. one named by today's date.")  # fmt: skip
        if target.exists() and not target.is_dir():
            raise InvalidInput(f"{out} is a file, not a folder.", hint="Give a new folder for the backup.")
        if target.is_dir() and any(target.iterdir()):
            raise InvalidInput(f"The folder {out} is not empty; a backup is never written over other files.",
                               hint="Give a new folder, e.g. one named by today's date.")  # fmt: skip
        if not target.parent.is_dir():
            raise InvalidInput(f"The folder {target.parent} does not exist.")
        made = not target.exists()
        try:
            target.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".backup-", suffix=".sqlite", dir=target)
            os.close(fd)
            os.unlink(tmp)  # SQLite makes the file itself
        except OSError as exc:
            raise InvalidInput(f"Cannot write in {out}: {exc.strerror or exc}.") from exc
        final = target / DB_NAME
        try:
            copy = self._store.copy_to(tmp)
            chain = copy.chain
            anchor = format_anchor(chain.head_seq, chain.head_hash) if chain.ok and chain.head_seq else None
            summary = BackupSummary(target, final, copy.bytes, im.file_sha256(tmp), chain.rows, anchor, chain.ok,
                                    chain.problem)  # fmt: skip
            # the event and the file land together, as an export's do
            with self._store.transaction():
                self._store.append_audit("backup", user=self._name, subject=target.name, details={
                    "path": str(final), "bytes": copy.bytes, "sha256": summary.sha256, "rows": chain.rows,
                    "anchor": anchor, "chain_ok": chain.ok, "problem": chain.problem})  # fmt: skip
                os.replace(tmp, final)
        except OSError as exc:
            raise InvalidInput(f"Cannot write {final}: {exc.strerror or exc}.") from exc
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
            if made and not final.exists():
                with contextlib.suppress(OSError):
                    target.rmdir()
        return summary

    def restore(self, folder: str | Path) -> RestoreSummary:
        """Put the whole workspace back to the backup in ``folder`` (made by :meth:`backup`). Admin.

        The backup is checked first (integrity, schema, audit chain; a backup
        whose chain does not verify is refused) and then copied over the
        workspace's content with SQLite's backup, which is safe with the WAL.
        The state it replaces is first kept as a backup of its own beside the
        workspace folder (``<folder>.before-restore-<UTC time>``), so that
        nothing done since the backup is lost, only set aside. The restored
        log gets a ``restored`` event naming the backup's SHA-256 and head,
        the head of the log it replaced and where that was kept. Close the
        app everywhere first; other open sessions would go on from the
        restored state. Raises :class:`InvalidInput` (no backup there, the
        workspace itself, or no room to keep the current state) and
        :class:`StorageError` (a damaged or newer backup).
        """
        from chequeverify.storage import format_anchor

        self._require("restore", "restore the workspace from a backup")
        source = Path(folder).expanduser().resolve()
        source_db = source / DB_NAME if source.is_dir() else source
        if not source_db.is_file():
            raise InvalidInput(f"There is no backup at {folder} (no {DB_NAME} there).",
                               hint="Give the folder `chequeverify backup` wrote.")  # fmt: skip
        if source_db == Path(self.workspace.db_path).resolve():
            raise InvalidInput(f"{folder} is this workspace, not a backup of it.")
        copy = self._store.check_copy(source_db)
        if not copy.chain.ok:
            raise AuditTampered(f"The backup's audit log does not verify: {copy.chain.problem}; it is not restored.",
                                hint="Choose an earlier backup.")  # fmt: skip
        digest = im.file_sha256(source_db)
        # nothing is ever lost: the state about to be replaced is kept first, as a backup beside the workspace
        live = Path(self.workspace.path).resolve()
        kept = self.backup(live.parent / f"{live.name}.before-restore-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%fZ}")
        replaced, replaced_ids = self._store.audit_head(), self._store.max_ids()
        backup_anchor = format_anchor(copy.chain.head_seq, copy.chain.head_hash) if copy.chain.head_seq else None
        replaced_anchor = format_anchor(*replaced) if replaced else None
        migrations = self._store.restore_from(source_db)
        self.workspace._forget_caches()
        with self._store.transaction():
            self._store.append_audit("restored", user=self._name, subject=source.name, details={
                "from": str(source_db), "sha256": digest, "backup_head": backup_anchor,
                "replaced_head": replaced_anchor, "migrations": migrations,
                # ids above the backup's may now be given again to other rows: the replaced state's last ids
                "replaced_last_ids": replaced_ids,
                "replaced_kept_at": str(kept.path), "replaced_kept_sha256": kept.sha256})  # fmt: skip
        return RestoreSummary(source_db, digest, backup_anchor, replaced_anchor, kept.path, kept.sha256,
                              tuple(migrations))  # fmt: skip

    def _check_export_target(self, out: Path) -> None:
        """Refuse a report path that would overwrite the workspace or anything that is not a plain file."""
        target = out.resolve()
        folder = Path(self.workspace.path).resolve()
        if target == folder or folder in target.parents:
            raise InvalidInput(f"{out} is inside the workspace folder; a report cannot be written there.",
                               hint="Choose another folder: the workspace's files must not be overwritten.")  # fmt: skip
        if target.exists() and not target.is_file():
            raise InvalidInput(f"{out} is not a file.")
        if target.is_file():
            try:
                with open(target, "rb") as fh:
                    head = fh.read(16)
            except OSError:
                head = b""
            if head == b"SQLite format 3\0":
                raise InvalidInput(f"{out} is a database, not a report; it will not be overwritten.",
                                   hint="Choose a new file name.")  # fmt: skip

    def _report_row(self, row: dict[str, Any], *, with_images: bool):
        from chequeverify import reports

        stored = json.loads(row["scores"])
        sigs = stored["signatories"]
        query = refs = None
        if with_images:
            query = _raster(im.png_grey(row["signature_png"]))
            chosen = next((s for s in sigs if s["attributed"]), sigs[0] if sigs else None)
            refs = tuple(_raster(self.workspace._reference_image(rid)) for rid, _ in (chosen["references"] if chosen else []))
        status = row["d_status"] or "undecided"
        clerk = row["d_decision"] if status in ("final", "awaiting_approval", "refused") else None
        # in force: the clerk's decision once final; after a refused override, the model's REJECT it tried
        # to overturn; nothing while undecided or waiting for a second supervisor
        in_force = clerk if status == "final" else row["model_decision"] if status == "refused" else None
        reviewer = row["d_reviewed_by"] or ""
        return reports.ReportRow(
            cheque_id=row["id"], verified_at=row["verified_at"], account=row["account"], holder=row["holder"],
            file_name=row["file_name"] or "", file_sha256=row["file_sha256"], amount=row["amount"] or "",
            signatories=tuple((s["name"], _finite_or_none(s["score"]), s["decision"]) for s in sigs),
            model_decision=row["model_decision"], score=_finite_or_none(row["score"]),
            clerk_decision=clerk or "", decision_status=status,
            reason=row["d_reason"] or "", decided_by=row["d_decided_by"] or "", decided_at=row["d_decided_at"] or "",
            approved_by=reviewer if status == "final" else "", refused_by=reviewer if status == "refused" else "",
            reviewed_at=(row["d_reviewed_at"] or "") if reviewer else "", review_note=row["d_review_note"] or "",
            final_decision=in_force or "", verified_by=row["verified_by"], model_id=row["model_id"],
            reasons=tuple(json.loads(row["reasons"])), query_image=query, reference_images=refs or (),
        )  # fmt: skip


# =============================================================================
# conversions and small checks
# =============================================================================


#: a specimen image is taken for a whole cheque when a cheque layout fits it this well and it is cheque-shaped
#: (signature scans of the four shared sets reach 0.56 at most, 56 real cheques 0.57-0.93; cheques are
#: 2.1-2.6 times as wide as tall, those signature scans 1.5-2.1)
WHOLE_CHEQUE_LAYOUT_SCORE, WHOLE_CHEQUE_ASPECT = 0.6, 2.0


def _refuse_whole_cheque(page: Image.Image, label: str) -> None:
    from chequeverify.imaging.locate import analyse_cheque

    w, h = page.size
    if max(w, h) < WHOLE_CHEQUE_ASPECT * min(w, h):
        return
    view = analyse_cheque(page)
    if view.layout_score >= WHOLE_CHEQUE_LAYOUT_SCORE:
        raise ReferenceRejected(f"{label}: this is a whole cheque ({view.layout.name} layout), not a signature.",
                                hint="Add it as a cheque (--from-cheque) so that its signature is cut out.")  # fmt: skip


def _approval(approved_by: str | None) -> dict[str, str]:
    """An audit event's ``approved_by`` detail, for a setting applied on a second supervisor's approval."""
    return {"approved_by": approved_by} if approved_by else {}


def _last(events: Sequence[dict[str, Any]] | None, key: str, details) -> Any:
    """``key`` of the last event's details (events oldest first), or None."""
    return details(events[-1]).get(key) if events else None


def _pending_change(row: dict[str, Any]) -> PendingChange:
    return PendingChange(id=row["id"], kind=row["kind"], account=row["account"], summary=row["summary"],
                         reason=row["reason"], status=row["status"], requested_by=row["requested_by"],
                         requested_at=row["requested_at"], reviewed_by=row["reviewed_by"],
                         reviewed_at=row["reviewed_at"], review_note=row["review_note"])  # fmt: skip


def _thresholds_after(current: ThresholdInfo, payload: dict[str, Any]) -> ThresholdInfo:
    """The thresholds that ``payload`` would put in force (for comparing, row by row, with ``current``)."""
    if payload.get("reset"):
        return dataclasses.replace(current, source="model", accept=current.model_accept, reject=current.model_reject,
                                   adapt_per_signatory=False, workspace_by_references=())  # fmt: skip
    after = current
    if "accept" in payload:
        rows = tuple((int(k), float(a), float(r)) for k, a, r in payload.get("by_references") or ())
        after = dataclasses.replace(after, source="workspace", accept=payload["accept"], reject=payload["reject"],
                                    workspace_by_references=rows)  # fmt: skip
    if "adapt_per_signatory" in payload:
        after = dataclasses.replace(after, adapt_per_signatory=payload["adapt_per_signatory"])
    return after


def _describe_looser(current: ThresholdInfo, after: ThresholdInfo, ks: Sequence[int]) -> str:
    """``looser thresholds for K = 1: accept 0.821 → 0.5, reject …; K = 2-4: …`` (runs of K alike grouped)."""
    runs: list[list[int]] = []
    for k in ks:
        same = runs and runs[-1][-1] == k - 1 and (current.for_references(k), after.for_references(k)) == (
            current.for_references(runs[-1][0]), after.for_references(runs[-1][0]))  # fmt: skip
        runs[-1].append(k) if same else runs.append([k])
    parts = []
    for run in runs:
        (a0, r0), (a1, r1) = current.for_references(run[0]), after.for_references(run[0])
        ks_text = f"K = {run[0]}" if len(run) == 1 else f"K = {run[0]}-{run[-1]}"
        parts.append(f"{ks_text}: accept {a0:.3f} → {a1:.3f}, reject {r0:.3f} → {r1:.3f}")
    return "looser thresholds (K = the signatory's number of references) for " + "; ".join(parts)


def _thresholds_snapshot(t: ThresholdInfo) -> dict[str, Any]:
    """What a thresholds change is asked from: compared again when it is approved."""
    snapshot = {"source": t.source, "accept": t.accept, "reject": t.reject, "adapt": t.adapt_per_signatory}
    if t.workspace_by_references:  # only then: a change asked for before rows existed still compares equal
        snapshot["by_references"] = [list(r) for r in t.workspace_by_references]
    return snapshot


def _zones(scores: Sequence[float], accept: float, reject: float) -> list[str]:
    """What one pair of thresholds decides for each score (``""`` for a missing one)."""
    return ["" if not math.isfinite(x) else "ACCEPT" if x >= accept else "REJECT" if x < reject else "REFER"
            for x in scores]  # fmt: skip


def _threshold_rows(rows: Sequence[Sequence[float]]) -> list[list[float]]:
    """``(K, accept, reject)`` rows, checked and sorted by K. Raises :class:`InvalidInput`."""
    out: list[list[float]] = []
    for row in rows:
        try:
            k, accept, reject = row
            k, accept, reject = int(k), float(accept), float(reject)
        except (TypeError, ValueError):
            raise InvalidInput(f"A thresholds row is (K, accept, reject), not {row!r}.") from None
        if k < 1 or not (math.isfinite(accept) and math.isfinite(reject)):
            raise InvalidInput(f"Row K = {k}: K must be 1 or more and the thresholds numbers.")
        if accept < reject:
            raise InvalidInput(f"Row K = {k}: the accept threshold must not be below the reject threshold.")
        out.append([k, accept, reject])
    out.sort()
    if not out or len({r[0] for r in out}) != len(out):
        raise InvalidInput("Give one row per number of references K (at least one).")
    return out


def _decided_already(cheque_id: int, previous: dict[str, Any]) -> str:
    what = {"final": "final", "refused": "refused by a supervisor (the model's REJECT stands)",
            "awaiting_approval": "waiting for a supervisor's approval"}[previous["status"]]  # fmt: skip
    return (f"Cheque {cheque_id} is already decided: {previous['decision']} by {previous['decided_by']}, {what}; "
            "a clerk cannot change it.")


def _rejected(message: str, image: np.ndarray | None = None,
              duplicate_of: tuple[int | None, int | None] = (None, None)) -> ReferenceRejected:  # fmt: skip
    """A :class:`ReferenceRejected` carrying the cleaned crop and what it duplicates (for :meth:`Session.check_references`)."""
    exc = ReferenceRejected(message)
    exc.image = image  # type: ignore[attr-defined]
    exc.duplicate_of = duplicate_of  # type: ignore[attr-defined]
    return exc


def _utc_now() -> str:
    from chequeverify.storage import utc_now

    return utc_now()


def _user_info(row: dict[str, Any]) -> UserInfo:
    return UserInfo(row["name"], row["role"], bool(row["active"]), row["created_at"], row["created_by"])


def _account_info(row: dict[str, Any]) -> AccountInfo:
    return AccountInfo(
        number=row["number"], holder=row["holder"], status=row["status"], mandate=row["mandate"],
        watchlist=bool(row["watchlist"]), signatories=row["signatory_count"],
        active_references=row["active_references"], pending_references=row["pending_references"],
        created_at=row["created_at"], created_by=row["created_by"],
    )  # fmt: skip


def _validity(row: dict[str, Any], today: str) -> tuple[bool, str]:
    start, end = row["valid_from"], row["valid_until"]
    if start and today < start:
        return False, f"valid from {start}"
    if end and today > end:
        return False, f"expired on {end}"
    return True, "valid"


def _signatory_info(row: dict[str, Any], refs: list[ReferenceInfo]) -> SignatoryInfo:
    valid, _ = _validity(row, dt.date.today().isoformat())
    return SignatoryInfo(
        id=row["id"], account=row["account"], name=row["name"], panel=row["panel"],
        valid_from=dt.date.fromisoformat(row["valid_from"]) if row["valid_from"] else None,
        valid_until=dt.date.fromisoformat(row["valid_until"]) if row["valid_until"] else None,
        valid_today=valid, references=tuple(refs),
    )  # fmt: skip


def _clerk_decision(row: dict[str, Any]) -> ClerkDecision:
    return ClerkDecision(
        id=row["id"], cheque_id=row["cheque_id"], decision=Decision(row["decision"]), reason=row["reason"],
        decided_by=row["decided_by"], decided_at=row["decided_at"], status=row["status"],
        is_override=bool(row["is_override"]), reviewed_by=row["reviewed_by"], reviewed_at=row["reviewed_at"],
        review_note=row["review_note"],
    )  # fmt: skip


def _cheque_record(row: dict[str, Any]) -> ChequeRecord:
    sigs = json.loads(row["scores"])["signatories"]
    status = row["d_status"] or "undecided"
    # the decision in force, as the audit report gives it: a refused override leaves the model's REJECT standing
    final = (Decision(row["d_decision"]) if status == "final" else
             Decision(row["model_decision"]) if status == "refused" else None)  # fmt: skip
    return ChequeRecord(
        cheque_id=row["id"], account=row["account"], holder=row["holder"], file_name=row["file_name"],
        file_sha256=row["file_sha256"], amount=None if row["amount"] is None else Decimal(row["amount"]),
        model_decision=Decision(row["model_decision"]), score=_nan_if_none(row["score"]),
        scores=tuple((s["name"], _nan_if_none(s["score"])) for s in sigs), final_decision=final,
        decision_status=status, reason=row["d_reason"], decided_by=row["d_decided_by"],
        decided_at=row["d_decided_at"], verified_by=row["verified_by"], verified_at=row["verified_at"],
        model_id=row["model_id"],
    )  # fmt: skip


def _raster(grey: np.ndarray):
    from chequeverify import reports

    g = np.ascontiguousarray(grey, dtype=np.uint8)
    return reports.RasterImage(width=g.shape[1], height=g.shape[0], mode="L", pixels=g.tobytes())


def _image_notes(located: Located) -> list[str]:
    """What the clerk should know about the image a decision was made on (kept with the cheque).

    Coarse is what the cheque reader enlarges before reading (below about 127 dpi).
    """
    from chequeverify.imaging.locate import MIN_READ_PX_PER_MM

    notes = []
    if 0 < located.px_per_mm < MIN_READ_PX_PER_MM:
        notes.append(f"a coarse image (about {located.px_per_mm * 25.4:.0f} dpi): genuine signatures score lower in it")
    if located.bitonal:
        notes.append("a black-and-white image: a light pen's strokes can be missing from it")
    return notes


def _enrolment_notes(signatories: Sequence[dict[str, Any]]) -> list[str]:
    """What the clerk and the supervisors should know about the references a decision was scored against.

    With one specimen the score cannot be measured against the signer's own
    variation (the model card's *Why one specimen is hard*), and the model's
    thresholds for one reference accept few genuine cheques: say so, once per
    such signatory, so that the account gets more specimens.
    """
    return [f"{s['name']} has one specimen: one cannot show how much a hand varies, so most genuine cheques are "
            "referred; a supervisor should enrol more specimens" for s in signatories if len(s["matrix"]) == 1]  # fmt: skip


def _finite(x: float) -> float:
    return x if isinstance(x, (int, float)) and math.isfinite(x) else -math.inf


def _finite_or_none(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _nan_if_none(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def _clean_name(value: Any, what: str) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise InvalidInput(f"The {what} is empty.")
    if len(text) > 200:
        raise InvalidInput(f"The {what} is too long (at most 200 characters).")
    return text


def _clean_account_number(value: Any) -> str:
    text = str(value or "").strip()
    if not text or len(text) > 40 or not all(c.isalnum() or c in "-/ ." for c in text):
        raise InvalidInput(f"{value!r} is not an account number.",
                           hint="Use letters, digits, spaces, '-', '/' or '.', at most 40 characters.")  # fmt: skip
    return text


def _clean_panel(value: Any) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().upper()
    if not all(c.isalnum() or c == "-" for c in text) or len(text) > 20:
        raise InvalidInput(f"{value!r} is not a panel name (letters, digits, '-').")
    return text


def _parse_date(value: dt.date | str | None, what: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date for '{what}'.", hint="Write dates as YYYY-MM-DD.") from None


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _date_start(value: dt.date | str | None) -> str | None:
    d = _parse_date(value, "from")
    return f"{d.isoformat()}T00:00:00" if d else None


def _date_end(value: dt.date | str | None) -> str | None:
    d = _parse_date(value, "to")
    return f"{(d + dt.timedelta(days=1)).isoformat()}T00:00:00" if d else None


def _parse_amount(value: Decimal | str | float | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return policy.parse_amount(value)
    except MandateError as exc:
        raise InvalidInput(exc.message, hint=exc.hint or "Write it like 1250.00.") from exc


def _check_box(box: Any, image: Image.Image) -> Box:
    try:
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
    except (TypeError, ValueError):
        raise InvalidInput(f"{box!r} is not a box (x0, y0, x1, y1).") from None
    w, h = image.size
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 8 or y1 - y0 < 4:
        raise InvalidInput(f"The box {tuple(box)} is empty or outside the {w}×{h} image.")
    return (x0, y0, x1, y1)
