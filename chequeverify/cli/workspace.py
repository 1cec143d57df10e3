"""Commands of the workspace and verification service (a thin layer over :mod:`chequeverify.service`).

Each command logs in as ``--user`` (or ``$CHEQUEVERIFY_USER``) with the
password from ``$CHEQUEVERIFY_PASSWORD`` or a prompt, runs one use case and
prints its result; ``--json`` prints it for scripts instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import enum
import getpass
import json
import math
import os
import shlex
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from chequeverify.errors import AuditTampered, ChequeVerifyError, InvalidInput, StorageError

PASSWORD_ENV = "CHEQUEVERIFY_PASSWORD"
USER_ENV = "CHEQUEVERIFY_USER"
#: password for the user being created by `init` / `user add` / `user passwd` (else a prompt)
NEW_PASSWORD_ENV = "CHEQUEVERIFY_NEW_PASSWORD"


# --- helpers ---------------------------------------------------------------------


def _workspace_folder(args: argparse.Namespace) -> Path:
    """``--workspace DIR``, else ``$CHEQUEVERIFY_WORKSPACE``, else the user's data directory."""
    from chequeverify import config

    folder = getattr(args, "workspace", None)
    return Path(folder).expanduser() if folder else config.default_workspace()


def _open_workspace(folder: Path):
    """The service's workspace in ``folder`` (tests swap in one with a fake model)."""
    from chequeverify.service import Workspace

    return Workspace.open(folder)


def _workspace(args: argparse.Namespace, *, create: bool = False):
    """Open the workspace; only ``init`` (``create``) may make it, any other command refuses a missing one.

    Opening creates the folder and an empty database, so a mistyped --workspace would otherwise leave
    both behind and answer "no users yet" instead of saying that the path is wrong.
    """
    from chequeverify.storage import DB_NAME

    folder = _workspace_folder(args)
    if not create and not (folder / DB_NAME).is_file():
        raise StorageError(f"There is no workspace at {folder}.",
                           hint=f"Create one with `chequeverify --workspace {shlex.quote(str(folder))} init "
                           "--admin NAME`.")  # fmt: skip
    return _open_workspace(folder)


def _prompt(label: str) -> str:
    if not sys.stdin or not sys.stdin.isatty():
        raise InvalidInput("No password given.", hint=f"Set ${PASSWORD_ENV} or run in a terminal to be asked.")
    return getpass.getpass(label)


def _session(args: argparse.Namespace):
    """Open the workspace and log in as ``--user`` with ``$CHEQUEVERIFY_PASSWORD`` or a prompt."""
    user = getattr(args, "user", None) or os.environ.get(USER_ENV)
    if not user:
        raise InvalidInput("Who are you?", hint=f"Give --user NAME (or set ${USER_ENV}).")
    ws = _workspace(args)
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = _prompt(f"Password for {user}: ")
    return ws.login(user, password)


def _new_password(name: str) -> str:
    password = os.environ.get(NEW_PASSWORD_ENV)
    if password is not None:
        return password
    first = _prompt(f"New password for {name}: ")
    if _prompt(f"Repeat the password for {name}: ") != first:
        raise InvalidInput("The two passwords differ.")
    return first


def jsonable(value: Any) -> Any:
    """A service result → plain JSON values (images are left out: they are not for scripts)."""
    import numpy as np
    from PIL import Image

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if isinstance(v, (np.ndarray, Image.Image)):
                continue
            out[f.name] = jsonable(v)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return jsonable(value.item())
    return value


def _print_json(value: Any) -> None:
    print(json.dumps(jsonable(value), indent=2, ensure_ascii=False))


def _score(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.4f}"


def _box(text: str) -> tuple[int, int, int, int]:
    parts = [p for p in text.replace(" ", ",").split(",") if p]
    if len(parts) != 4:
        raise argparse.ArgumentTypeError("a box is x0,y0,x1,y1 in pixels")
    try:
        return tuple(int(float(p)) for p in parts)  # type: ignore[return-value]
    except ValueError:
        raise argparse.ArgumentTypeError("a box is x0,y0,x1,y1 in pixels") from None


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


# --- init and users --------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from chequeverify.service.passwords import check_password_rules

    # checked before the workspace is opened (which creates it): a refused name or password leaves nothing behind
    if not " ".join(str(args.admin or "").split()):
        raise InvalidInput("The admin's name is empty.", hint="Give --admin NAME.")
    password = os.environ.get(NEW_PASSWORD_ENV) or os.environ.get(PASSWORD_ENV)
    if password is None:
        password = _new_password(args.admin)
    check_password_rules(password)
    ws = _workspace(args, create=True)
    user = ws.init(args.admin, password)
    print(f"Initialised workspace {ws.path} with admin {user.name}.")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    s = _session(args)
    # ask for the new password only once the role is known to allow it (the refusal is audited)
    password = _new_password(args.name) if s.can("users") else ""
    user = s.add_user(args.name, args.role, password)
    print(f"Added {user.role} {user.name}.")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    users = _session(args).list_users()
    if args.json:
        _print_json(users)
    else:
        _table([[u.name, u.role, "active" if u.active else "disabled", u.created_at[:19]] for u in users],
               ["NAME", "ROLE", "STATE", "CREATED"])  # fmt: skip
    return 0


def cmd_user_enable(args: argparse.Namespace) -> int:
    user = _session(args).set_user_active(args.name, args.enable)
    print(f"{user.name} is {'enabled' if user.active else 'disabled'}.")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    s = _session(args)
    name = args.name or s.user.name
    s.set_password(name, _new_password(name))
    print(f"Password of {name} changed.")
    return 0


# --- accounts and signatories ------------------------------------------------------


def cmd_account_add(args: argparse.Namespace) -> int:
    acc = _session(args).add_account(args.number, args.name, args.mandate, watchlist=args.watchlist)
    if args.json:
        _print_json(acc)
    else:
        print(f"Added account {acc.number} ({acc.holder}), mandate: {acc.mandate}"
              + (" [watch-list]" if acc.watchlist else ""))  # fmt: skip
    return 0


def cmd_account_list(args: argparse.Namespace) -> int:
    accounts = _session(args).list_accounts(args.search or "", limit=args.limit)
    if args.json:
        _print_json(accounts)
    else:
        _table([[a.number, a.holder, a.status + (" watch-list" if a.watchlist else ""), a.mandate, str(a.signatories),
                 f"{a.active_references}+{a.pending_references}"] for a in accounts],
               ["NUMBER", "HOLDER", "STATUS", "MANDATE", "SIGNATORIES", "REFS(ACTIVE+PENDING)"])  # fmt: skip
    return 0


def cmd_account_show(args: argparse.Namespace) -> int:
    detail = _session(args).get_account(args.number)
    if args.json:
        _print_json(detail)
        return 0
    a = detail.account
    print(f"Account {a.number}: {a.holder} [{a.status}{', watch-list' if a.watchlist else ''}]")
    print(f"Mandate: {a.mandate}")
    for sig in detail.signatories:
        validity = f"{sig.valid_from or '…'} to {sig.valid_until or '…'}"
        print(f"  signatory {sig.id}: {sig.name}" + (f" (panel {sig.panel})" if sig.panel else "")
              + f", valid {validity}{'' if sig.valid_today else ' — NOT VALID TODAY'}")  # fmt: skip
        for r in sig.references:
            print(f"    reference {r.id}: {r.status}, from {r.source} {r.source_name or ''}, added by {r.added_by}"
                  + (f", reviewed by {r.reviewed_by}" if r.reviewed_by else ""))  # fmt: skip
    return 0


def _print_waiting(changes) -> None:
    for c in changes:
        print(f"Change {c.id} waits for a second supervisor: {c.summary}. "
              f"They approve it with: chequeverify change approve {c.id}")  # fmt: skip


def cmd_account_mandate(args: argparse.Namespace) -> int:
    acc = _session(args).set_mandate(args.number, args.rule, reason=args.reason or "")
    print(f"Mandate of {acc.number}: {acc.mandate}")
    _print_waiting(c for c in acc.pending_changes if c.kind == "mandate")
    return 0


def cmd_account_status(args: argparse.Namespace) -> int:
    acc = _session(args).set_account_status(args.number, args.status, reason=args.reason or "")
    print(f"Account {acc.number} is {acc.status}.")
    _print_waiting(c for c in acc.pending_changes if c.kind == "account_status")
    return 0


def cmd_change_pending(args: argparse.Namespace) -> int:
    changes = _session(args).pending_changes()
    if args.json:
        _print_json(changes)
    else:
        _table([[str(c.id), c.kind, c.account or "", c.requested_by, c.requested_at[:16].replace("T", " "), c.summary]
                for c in changes], ["ID", "KIND", "ACCOUNT", "BY", "AT", "CHANGE"])  # fmt: skip
    return 0


def _review_changes(args: argparse.Namespace, approve: bool) -> int:
    s = _session(args)
    if not s.can("approve"):
        s.approve_change(args.ids[0], args.note or "") if approve else s.refuse_change(args.ids[0], args.reason)

    def review(cid: int):
        c = s.approve_change(cid, args.note or "") if approve else s.refuse_change(cid, args.reason)
        return c, f"Change {c.id} ({c.summary}): {c.status}."

    return _each_id(args, args.ids, review, "approved" if approve else "refused", what="change")


def cmd_change_approve(args: argparse.Namespace) -> int:
    return _review_changes(args, True)


def cmd_change_refuse(args: argparse.Namespace) -> int:
    return _review_changes(args, False)


def cmd_signatory_add(args: argparse.Namespace) -> int:
    sig = _session(args).add_signatory(args.account, args.name, panel=args.panel, valid_from=args.valid_from,
                                       valid_until=args.valid_until)  # fmt: skip
    if args.json:
        _print_json(sig)
    else:
        print(f"Added signatory {sig.id}: {sig.name} to account {sig.account}.")
    return 0


def cmd_signatory_update(args: argparse.Namespace) -> int:
    s = _session(args)
    sig = s.update_signatory(args.id, panel=args.panel, valid_from=args.valid_from, valid_until=args.valid_until)
    print(f"Signatory {sig.id}: {sig.name}, panel {sig.panel or '-'}, valid {sig.valid_from or '…'} to "
          f"{sig.valid_until or '…'}.")  # fmt: skip
    _print_waiting(c for c in s.pending_changes() if c.kind == "signatory" and f"Signatory {sig.name} " in c.summary)
    return 0


# --- references ------------------------------------------------------------------


def cmd_reference_add(args: argparse.Namespace) -> int:
    source = "cheque" if args.from_cheque else "card" if args.from_card else "image"
    refs = _session(args).add_references(args.account, args.signatory, args.files, source=source)
    if args.json:
        _print_json(refs)
    else:
        for r in refs:
            print(f"Added reference {r.id} for {r.signatory} ({r.source_name or r.source}): pending approval.")
            if r.agreement_note:
                print(f"  warning: reference {r.id} is {r.agreement_note}")
        print("A second supervisor must approve them: chequeverify reference approve ID")
    return 0


def cmd_reference_pending(args: argparse.Namespace) -> int:
    s = _session(args)
    refs = s.pending_references()
    if args.json:
        _print_json([{**jsonable(r), "change_by": r.change_by} for r in refs])
    else:
        _table([[str(r.id), r.account, r.signatory, r.status, r.source_name or r.source, r.change_by,
                 "" if r.agreement is None else f"{r.agreement:.2f}" + (" UNLIKE THE OTHERS" if r.agreement_note else "")]
                for r in refs], ["ID", "ACCOUNT", "SIGNATORY", "CHANGE", "FILE", "BY", "AGREEMENT"])  # fmt: skip
    return 0


def _reason(exc: ChequeVerifyError) -> str:
    """An error's message as a clause for a summary line: "There is no reference 9." → "there is no reference 9"."""
    text = exc.message.strip().rstrip(".")
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]  # "PDF ..." keeps its capitals


def _each_id(args: argparse.Namespace, ids: list[int], act, done: str, what: str = "reference") -> int:
    """Run ``act(id)`` for every id, whatever happens to the others; report each and sum up.

    Per id: the result's line (``act`` returns it) on stdout, or the error on stderr; then one summary
    line, e.g. ``approved 1, 2, 3; not approved: 999 (there is no reference 999)``. ``--json``: a list of
    ``{"id", "ok", "result" | "error", "exit_code"}``. Exit status: 0 when every id succeeded, else the
    first failure's code, so a script knows that something was left undone, and the output says what.
    """
    results: list[dict[str, Any]] = []
    for rid in ids:
        try:
            value, line = act(rid)
        except ChequeVerifyError as exc:
            results.append({"id": rid, "ok": False, "error": str(exc), "exit_code": exc.exit_code, "_exc": exc})
            print(f"chequeverify: error: {what} {rid}: {exc}", file=sys.stderr)
            continue
        results.append({"id": rid, "ok": True, "result": jsonable(value)})
        if not args.json:
            print(line)
    failed = [r for r in results if not r["ok"]]
    if args.json:
        _print_json([{k: v for k, v in r.items() if k != "_exc"} for r in results])
    else:
        ok = ", ".join(str(r["id"]) for r in results if r["ok"])
        summary = f"{done} {ok or 'none'}"
        if failed:
            summary += f"; not {done}: " + ", ".join(f"{r['id']} ({_reason(r['_exc'])})" for r in failed)
        print(summary + ".")
    return failed[0]["exit_code"] if failed else 0


def _review_references(args: argparse.Namespace, approve: bool) -> int:
    s = _session(args)
    if not s.can("approve"):
        # a role that may not review refuses once (audited once), not once per id
        s.approve_reference(args.ids[0], args.note or "") if approve else s.reject_reference(args.ids[0], args.reason)

    def review(rid: int):
        r = s.approve_reference(rid, args.note or "") if approve else s.reject_reference(rid, args.reason)
        return r, f"Reference {r.id} of {r.signatory} ({r.account}) is now {r.status}."

    return _each_id(args, args.ids, review, "approved" if approve else "refused")


def cmd_reference_approve(args: argparse.Namespace) -> int:
    return _review_references(args, True)


def cmd_reference_reject(args: argparse.Namespace) -> int:
    return _review_references(args, False)


def cmd_reference_retire(args: argparse.Namespace) -> int:
    r = _session(args).retire_reference(args.id, args.reason)
    print(f"Retirement of reference {r.id} requested; a second supervisor must approve it.")
    return 0


def cmd_reference_reembed(args: argparse.Namespace) -> int:
    summary = _session(args).re_embed_references()
    if args.json:
        _print_json(summary)
    else:
        print(f"Re-embedded {summary.references} reference(s) with model {summary.model_id} in {summary.seconds:.1f} s.")
    return 0


# --- cheques ---------------------------------------------------------------------


def _print_verification(v, *, hint: bool = True) -> None:
    print(f"Cheque {v.cheque_id}: {v.decision.value}  (account {v.account.number}, {v.account.holder})")
    print(f"  mandate: {v.mandate.mandate} -> rule '{v.mandate.rule}' {'met' if v.mandate.met else 'NOT met'}"
          + (f", amount {v.amount}" if v.amount is not None else ""))  # fmt: skip
    box = v.located.box
    print(f"  signature box: {box[0]},{box[1]},{box[2]},{box[3]} (confidence {v.located.confidence:.2f}, "
          f"layout {v.located.layout}{', corrected' if v.located.corrected else ''})")  # fmt: skip
    for sig in v.signatories:
        mark = "*" if sig.attributed else " "
        refs = " ".join(_score(r.score) for r in sig.references)
        print(f" {mark}{sig.name}: score {_score(sig.score)} -> {sig.decision.value} "
              f"(accept >= {sig.accept:.4f}, reject < {sig.reject:.4f}){'' if sig.valid else ' [not valid]'}"
              f"  refs: {refs}")  # fmt: skip
    for reason in v.reasons:
        print(f"  note: {reason}")
    print(f"  model {v.model_id}" + (f"; decide with: chequeverify decide {v.cheque_id} --accept|--refer|--reject "
                                     "--reason TEXT" if hint else ""))  # fmt: skip


def cmd_verify(args: argparse.Namespace) -> int:
    v = _session(args).verify(args.cheque, args.account, amount=args.amount, box=args.box, page=args.page)
    if args.json:
        _print_json(v)
    else:
        _print_verification(v)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    v = _session(args).get_cheque(args.cheque_id)
    if args.json:
        _print_json(v)
    else:
        f = v.final
        _print_verification(v, hint=f is None)  # a decided cheque needs no "decide with"
        if f:
            print(f"  human decision: {f.decision.value} [{f.status}] by {f.decided_by}: {f.reason}"
                  + (f" (reviewed by {f.reviewed_by})" if f.reviewed_by else ""))  # fmt: skip
            if f.status == "awaiting_approval":
                print(f"  waiting for a second supervisor: chequeverify override approve|refuse {v.cheque_id}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    s = _session(args)
    records = s.list_cheques(account=args.account, since=args.since, until=args.until, status=args.status,
                             limit=args.limit)  # fmt: skip
    if args.account and not records:
        s.get_account(args.account)  # no rows for a mistyped number: say so (UnknownAccount), as export does
    if args.json:
        _print_json(records)
    else:
        _table([[str(r.cheque_id), r.verified_at[:19], r.account, "" if r.amount is None else str(r.amount),
                 r.model_decision.value, _score(r.score), r.final_decision.value if r.final_decision else "-",
                 r.decision_status, r.verified_by, r.decided_by or "-"] for r in records],
               ["ID", "VERIFIED", "ACCOUNT", "AMOUNT", "MODEL", "SCORE", "IN FORCE", "STATUS", "VERIFIED BY",
                "DECIDED BY"])  # fmt: skip
    return 0


def cmd_identify(args: argparse.Namespace) -> int:
    result = _session(args).identify(args.file, cheque=args.cheque, top=args.top, images=False)
    if args.json:
        _print_json(result)
        return 0
    print(f"Searched {result.references_searched} references of {result.signatories_searched} signatories "
          f"(model {result.model_id}; each candidate against its own accept threshold, as verification would):")  # fmt: skip
    _table([[str(c.rank), _score(c.score), _score(c.accept), str(c.references), c.account, c.holder, c.signatory,
             "WATCH-LIST" if c.watchlist else ""] for c in result.candidates],
           ["RANK", "SCORE", "ACCEPT AT", "REFS", "ACCOUNT", "HOLDER", "SIGNATORY", ""])  # fmt: skip
    for hit in result.watchlist_hits:
        print(f"WARNING: matches watch-listed {hit.signatory} ({hit.account}) with score {_score(hit.score)}")
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    d = _session(args).decide(args.cheque_id, args.decision, args.reason or "")
    if args.json:
        _print_json(d)
    else:
        print(f"Cheque {d.cheque_id}: {d.decision.value} [{d.status}]"
              + (" — a second supervisor must approve this override of a REJECT" if d.status == "awaiting_approval" else ""))  # fmt: skip
    return 0


def cmd_override_pending(args: argparse.Namespace) -> int:
    items = _session(args).pending_overrides()
    if args.json:
        _print_json(items)
    else:
        _table([[str(d.cheque_id), d.decision.value, d.decided_by, d.decided_at[:19], d.reason] for d in items],
               ["CHEQUE", "DECISION", "BY", "AT", "REASON"])  # fmt: skip
    return 0


def cmd_override_approve(args: argparse.Namespace) -> int:
    d = _session(args).approve_override(args.cheque_id, args.note or "")
    print(f"Cheque {d.cheque_id}: override to {d.decision.value} approved; it is final.")
    return 0


def cmd_override_refuse(args: argparse.Namespace) -> int:
    d = _session(args).refuse_override(args.cheque_id, args.reason)
    print(f"Cheque {d.cheque_id}: override refused; the model's REJECT stands.")
    return 0


# --- thresholds, audit, export -----------------------------------------------------


def _print_thresholds(t) -> None:
    _print_thresholds_in_force(t)
    if t.pending is not None:
        _print_waiting([t.pending])


def _print_thresholds_in_force(t) -> None:
    adapt = f"per-signatory adaptation {'on' if t.adapt_per_signatory else 'off'}"
    if t.source == "workspace" and t.workspace_by_references:
        print(f"Model {t.model_id}: the workspace's thresholds per number of references K a signatory has (the "
              f"last row not above K applies; set by {t.changed_by}); {adapt}.")  # fmt: skip
        for k, accept, reject in t.workspace_by_references:
            print(f"  K = {k:<2}  ACCEPT at score >= {accept:.4f}, REJECT below {reject:.4f}")
    elif t.source == "workspace":
        print(f"Model {t.model_id}: ACCEPT at score >= {t.accept:.4f}, REJECT below {t.reject:.4f}, REFER between, "
              f"for every signatory (set by {t.changed_by}; the model's pooled: {t.model_accept:.4f} / "
              f"{t.model_reject:.4f}); {adapt}.")  # fmt: skip
    else:
        print(f"Model {t.model_id}: the model's thresholds, chosen for each number of references a signatory has "
              f"(`chequeverify model` lists them; pooled: ACCEPT at score >= {t.accept:.4f}, REJECT below "
              f"{t.reject:.4f}, REFER between); {adapt}.")  # fmt: skip


def cmd_thresholds_show(args: argparse.Namespace) -> int:
    t = _session(args).thresholds()
    _print_json(t) if args.json else _print_thresholds(t)
    return 0


def cmd_thresholds_set(args: argparse.Namespace) -> int:
    if args.accept is None and args.reject is None and args.adapt is None:
        raise InvalidInput("Nothing to change.", hint="Give --accept, --reject, --adapt or --no-adapt.")
    t = _session(args).set_thresholds(args.accept, args.reject, adapt_per_signatory=args.adapt,
                                      reason=args.reason or "")  # fmt: skip
    _print_json(t) if args.json else _print_thresholds(t)
    return 0


def cmd_thresholds_reset(args: argparse.Namespace) -> int:
    t = _session(args).reset_thresholds(reason=args.reason or "")
    _print_json(t) if args.json else _print_thresholds(t)
    return 0


def _print_head(anchor: str | None, what: str) -> None:
    """The anchor line, ``head SEQ:HASH``, and what to do with it."""
    if anchor:
        print(f"head {anchor}")
        print(f"  ({what}; keep this line outside the workspace, e.g. on the day's filed report, and check it "
              f"later with: chequeverify audit verify --anchor {anchor})")  # fmt: skip


def cmd_audit_verify(args: argparse.Namespace) -> int:
    check = _session(args).check_audit(args.anchor or ())
    if args.json:
        _print_json({**jsonable(check), "anchor": check.anchor})
    if not check.ok:
        where = f" (first bad row: {check.first_bad_seq})" if check.first_bad_seq is not None else ""
        raise AuditTampered(f"The audit log does not verify: {check.problem}{where}.",
                            hint="Restore the workspace from a backup and investigate.")  # fmt: skip
    if check.unaccounted:
        if not args.json:
            for line in check.unaccounted[:50]:
                print(f"  unaccounted: {line}", file=sys.stderr)
            more = len(check.unaccounted) - 50
            if more > 0:
                print(f"  … and {more} more", file=sys.stderr)
        raise AuditTampered(f"The audit log's chain is intact, but {len(check.unaccounted)} thing(s) in the workspace "
                            "are not what its events recorded (edited in the database directly?).",
                            hint="Restore the workspace from a backup and investigate.")  # fmt: skip
    if not args.json:
        matched = f" {len(check.anchors)} anchor(s) still match." if check.anchors else ""
        print(f"The audit log verifies: {check.rows} rows, chain intact.{matched} Every decision, review and "
              "setting in the workspace is accounted for.")  # fmt: skip
        _print_head(check.anchor, "the last row verified")
    return 0


def cmd_audit_log(args: argparse.Namespace) -> int:
    events = _session(args).audit_events(since=args.since, until=args.until, user=args.by, kind=args.kind,
                                         account=args.account, limit=args.limit)  # fmt: skip
    if args.json:
        _print_json(events)
    else:
        _table([[str(e.seq), e.at[:19], e.user or "-", e.kind, e.account or "", e.subject or "",
                 json.dumps(e.details, ensure_ascii=False)[:80]] for e in events],
               ["SEQ", "AT", "USER", "EVENT", "ACCOUNT", "SUBJECT", "DETAILS"])  # fmt: skip
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    summary = _session(args).export(args.out, format=args.format, since=args.since, until=args.until,
                                    account=args.account)  # fmt: skip
    if args.json:
        _print_json(summary)
    else:
        print(f"Wrote {summary.cheques} cheque(s) to {summary.path} ({summary.format.upper()}).")
        _print_head(summary.anchor, "the audit log's head as of this report, also in its export event")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    summary = _session(args).backup(args.folder)
    if args.json:
        _print_json(summary)
    else:
        print(f"Backed up the workspace to {summary.path} ({summary.bytes / 1e6:.1f} MB, {summary.rows} audit rows).")
        print(f"sha256 {summary.sha256}")
        _print_head(summary.anchor, "the audit log's last row in the backup, also in its backup event")
        print(f"  (open it with: chequeverify --workspace {shlex.quote(str(summary.folder))} …; restore by copying "
              "its workspace.sqlite over the workspace's while no one uses it)")  # fmt: skip
    if not summary.chain_ok:
        raise AuditTampered(f"The backup was written, but its audit log does not verify: {summary.problem}.",
                            hint="Keep the backup as evidence and investigate the workspace.")  # fmt: skip
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise InvalidInput("A restore replaces the whole workspace; confirm it with --yes.")
        answer = input(f"Replace the whole workspace {_workspace_folder(args)} with the backup in {args.folder}? "
                       "Everything done since that backup is set aside (kept as a backup beside the workspace "
                       "folder). Type RESTORE to go on: ")  # fmt: skip
        if answer.strip() != "RESTORE":
            print("Nothing restored.")
            return 1
    summary = _session(args).restore(args.folder)
    if args.json:
        _print_json(summary)
    else:
        print(f"Restored the workspace from {summary.source} (sha256 {summary.sha256}).")
        print(f"The state it replaced is kept in {summary.kept} (sha256 {summary.kept_sha256}).")
        if summary.replaced_anchor:
            print(f"The log it replaced ended at {summary.replaced_anchor}; the restored one goes on from the "
                  f"backup's head {summary.backup_anchor}, with a `restored` event saying so.")  # fmt: skip
    return 0


# --- the parser --------------------------------------------------------------------


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")


def _dates(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="since", metavar="DATE", help="first day included (YYYY-MM-DD, UTC)")
    p.add_argument("--to", dest="until", metavar="DATE", help="last day included (YYYY-MM-DD, UTC)")


def _group(subparsers, name: str, help: str, **kw) -> argparse._SubParsersAction:
    p = subparsers.add_parser(name, help=help, description=help, **kw)
    sub = p.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND")
    sub.required = True
    return sub


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("init", help="create the workspace and its first admin",
                              description="Create the workspace (if needed) and its first admin; the password comes "
                              f"from ${NEW_PASSWORD_ENV}, ${PASSWORD_ENV} or a prompt.")  # fmt: skip
    p.add_argument("--admin", required=True, metavar="NAME", help="name of the first admin")
    p.set_defaults(func=cmd_init)

    users = _group(subparsers, "user", "manage users (admin)")
    p = users.add_parser("add", help=f"add a user (password from ${NEW_PASSWORD_ENV} or a prompt)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, choices=("clerk", "supervisor", "admin"))
    p.set_defaults(func=cmd_user_add)
    p = users.add_parser("list", help="list users")
    _json_flag(p)
    p.set_defaults(func=cmd_user_list)
    for name, enable in (("enable", True), ("disable", False)):
        p = users.add_parser(name, help=f"{name} a user")
        p.add_argument("name", metavar="NAME")
        p.set_defaults(func=cmd_user_enable, enable=enable)
    p = users.add_parser("passwd", help="change a password (one's own, or any as admin)")
    p.add_argument("name", metavar="NAME", nargs="?", help="user (default: yourself)")
    p.set_defaults(func=cmd_user_passwd)

    accounts = _group(subparsers, "account", "register and list accounts")
    p = accounts.add_parser("add", help="register an account (supervisor)")
    p.add_argument("number", metavar="NUMBER")
    p.add_argument("--name", required=True, help="account holder's name")
    p.add_argument("--mandate", default="any one", metavar="RULE",
                   help="signing rule, e.g. 'any one', 'any two', 'all', "
                   "'up to 10000: any one; above 10000: any two' (default: any one)")  # fmt: skip
    p.add_argument("--watchlist", action="store_true", help="a watch-list of known forgers (searched by identify)")
    _json_flag(p)
    p.set_defaults(func=cmd_account_add)
    p = accounts.add_parser("list", help="list accounts, optionally those matching SEARCH")
    p.add_argument("search", nargs="?", metavar="SEARCH", help="part of a number, holder or signatory name")
    p.add_argument("--limit", type=int, default=200)
    _json_flag(p)
    p.set_defaults(func=cmd_account_list)
    p = accounts.add_parser("show", help="an account with its signatories and references")
    p.add_argument("number", metavar="NUMBER")
    _json_flag(p)
    p.set_defaults(func=cmd_account_show)
    p = accounts.add_parser("mandate", help="change an account's signing rule (supervisor)")
    p.add_argument("number", metavar="NUMBER")
    p.add_argument("rule", metavar="RULE")
    p.add_argument("--reason", metavar="TEXT", help="why (the change waits for a second supervisor once the "
                   "account has approved references)")
    p.set_defaults(func=cmd_account_mandate)
    p = accounts.add_parser("status", help="set an account active, frozen or closed (supervisor)")
    p.add_argument("number", metavar="NUMBER")
    p.add_argument("status", choices=("active", "frozen", "closed"))
    p.add_argument("--reason", metavar="TEXT", help="why (making an account active again waits for a second "
                   "supervisor)")
    p.set_defaults(func=cmd_account_status)

    sigs = _group(subparsers, "signatory", "register signatories")
    p = sigs.add_parser("add", help="add a signatory to an account (supervisor)")
    p.add_argument("account", metavar="ACCOUNT")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--panel", help="panel letter for mandates like 'any 1 of panel A and any 1 of panel B'")
    p.add_argument("--valid-from", metavar="DATE", help="first day of signing authority (YYYY-MM-DD)")
    p.add_argument("--valid-until", metavar="DATE", help="last day of signing authority (YYYY-MM-DD)")
    _json_flag(p)
    p.set_defaults(func=cmd_signatory_add)
    p = sigs.add_parser("update", help="change a signatory's panel or validity (supervisor)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--panel")
    p.add_argument("--valid-from", metavar="DATE", help="YYYY-MM-DD, or '' to clear")
    p.add_argument("--valid-until", metavar="DATE", help="YYYY-MM-DD, or '' to clear")
    p.set_defaults(func=cmd_signatory_update)

    refs = _group(subparsers, "reference", "reference (specimen) signatures; maker-checker",
                  aliases=["references"])  # fmt: skip
    p = refs.add_parser("add", help="add 1-10 reference signatures (supervisor; pending a second supervisor)")
    p.add_argument("account", metavar="ACCOUNT")
    p.add_argument("signatory", metavar="SIGNATORY", help="signatory name or id")
    p.add_argument("files", metavar="FILES", nargs="+", help="signature images (or cheques / specimen cards)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--from-cheque", action="store_true", help="the files are cheques: the signature is cropped")
    src.add_argument("--from-card", action="store_true", help="the files are specimen signature cards")
    _json_flag(p)
    p.set_defaults(func=cmd_reference_add)
    p = refs.add_parser("pending", help="reference changes waiting for approval")
    _json_flag(p)
    p.set_defaults(func=cmd_reference_pending)
    p = refs.add_parser("approve", help="approve reference changes (a second supervisor)",
                        description="Approve each ID (an addition or a retirement), whatever happens to the "
                        "others; print what was approved and what was not, and why. Exit status: 0 when every "
                        "ID was approved, else the code of the first failure.")  # fmt: skip
    p.add_argument("ids", metavar="ID", type=int, nargs="+")
    p.add_argument("--note", help="optional note")
    _json_flag(p)
    p.set_defaults(func=cmd_reference_approve)
    p = refs.add_parser("reject", help="refuse pending reference changes (a second supervisor)",
                        description="Refuse each ID (an addition or a retirement) with the same reason, whatever "
                        "happens to the others; print what was refused and what was not, and why. Exit status: 0 "
                        "when every ID was refused, else the code of the first failure.")  # fmt: skip
    p.add_argument("ids", metavar="ID", type=int, nargs="+")
    p.add_argument("--reason", required=True)
    _json_flag(p)
    p.set_defaults(func=cmd_reference_reject)
    p = refs.add_parser("retire", help="ask to remove a reference from scoring (supervisor)")
    p.add_argument("id", metavar="ID", type=int)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_reference_retire)
    p = refs.add_parser("re-embed", help="recompute every reference embedding with the current model (supervisor)")
    _json_flag(p)
    p.set_defaults(func=cmd_reference_reembed)

    p = subparsers.add_parser("verify", help="verify a cheque's signature against an account",
                              description="Locate, clean and score the cheque's signature against every signatory "
                              "of the account, and apply the mandate. Prints ACCEPT, REFER or REJECT.")  # fmt: skip
    p.add_argument("cheque", metavar="CHEQUE", help="scanned cheque (PNG, JPEG, TIFF...)")
    p.add_argument("--account", required=True, metavar="NUMBER")
    p.add_argument("--amount", metavar="X", help="the cheque's amount (for mandates by amount)")
    p.add_argument("--box", type=_box, metavar="X0,Y0,X1,Y1", help="signature box, if the located one is wrong")
    p.add_argument("--page", type=int, default=0, help="page of a multi-page TIFF (default 0)")
    _json_flag(p)
    p.set_defaults(func=cmd_verify)

    p = subparsers.add_parser("identify", help="who signed this? top signatories over the workspace")
    p.add_argument("file", metavar="FILE", help="a signature image, or a cheque with --cheque")
    p.add_argument("--cheque", action="store_true", help="FILE is a cheque: locate the signature first")
    p.add_argument("--top", type=int, default=5, metavar="N", help="how many candidates (default 5)")
    _json_flag(p)
    p.set_defaults(func=cmd_identify)

    p = subparsers.add_parser("decide", help="confirm or override the model's decision on a verified cheque")
    p.add_argument("cheque_id", metavar="CHEQUE_ID", type=int)
    choice = p.add_mutually_exclusive_group(required=True)
    for d in ("accept", "refer", "reject"):
        choice.add_argument(f"--{d}", dest="decision", action="store_const", const=d.upper(), help=f"decide {d.upper()}")
    p.add_argument("--reason", metavar="TEXT", help="why (required to override the model)")
    _json_flag(p)
    p.set_defaults(func=cmd_decide)

    overrides = _group(subparsers, "override", "overrides of a model REJECT, approved by a second supervisor")
    p = overrides.add_parser("pending", help="overrides waiting for approval")
    _json_flag(p)
    p.set_defaults(func=cmd_override_pending)
    p = overrides.add_parser("approve", help="approve a clerk's override of a REJECT (supervisor)")
    p.add_argument("cheque_id", metavar="CHEQUE_ID", type=int)
    p.add_argument("--note")
    p.set_defaults(func=cmd_override_approve)
    p = overrides.add_parser("refuse", help="refuse an override: the REJECT stands (supervisor)")
    p.add_argument("cheque_id", metavar="CHEQUE_ID", type=int)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_override_refuse)

    p = subparsers.add_parser("show", help="a verified cheque: scores, decisions")
    p.add_argument("cheque_id", metavar="CHEQUE_ID", type=int)
    _json_flag(p)
    p.set_defaults(func=cmd_show)

    p = subparsers.add_parser("history", help="verified cheques, newest first")
    p.add_argument("--account", metavar="NUMBER")
    _dates(p)
    p.add_argument("--status", choices=("undecided", "final", "awaiting_approval", "refused"))
    p.add_argument("--limit", type=int, default=50)
    _json_flag(p)
    p.set_defaults(func=cmd_history)

    th = _group(subparsers, "thresholds", "the decision thresholds (supervisor changes them)")
    p = th.add_parser("show", help="thresholds in force")
    _json_flag(p)
    p.set_defaults(func=cmd_thresholds_show)
    p = th.add_parser("set", help="change the global thresholds for the current model (supervisor)")
    p.add_argument("--accept", type=float, help="ACCEPT at or above this score")
    p.add_argument("--reject", type=float, help="REJECT below this score")
    p.add_argument("--adapt", dest="adapt", action="store_true", default=None, help="adapt per signatory")
    p.add_argument("--no-adapt", dest="adapt", action="store_false", help="do not adapt per signatory")
    _json_flag(p)
    p.set_defaults(func=cmd_thresholds_set)
    p.add_argument("--reason", metavar="TEXT", help="why (kept with a change that waits for a second supervisor)")
    p = th.add_parser("reset", help="go back to the model's own thresholds (supervisor)")
    p.add_argument("--reason", metavar="TEXT", help="why (kept with a change that waits for a second supervisor)")
    _json_flag(p)
    p.set_defaults(func=cmd_thresholds_reset)

    changes = _group(subparsers, "change", "settings changes that wait for a second supervisor (maker-checker)")
    p = changes.add_parser("pending", help="looser thresholds, mandates, accounts made active again, waiting")
    _json_flag(p)
    p.set_defaults(func=cmd_change_pending)
    p = changes.add_parser("approve", help="approve changes another supervisor asked for; they apply at once")
    p.add_argument("ids", metavar="ID", type=int, nargs="+")
    p.add_argument("--note")
    _json_flag(p)
    p.set_defaults(func=cmd_change_approve)
    p = changes.add_parser("refuse", help="refuse changes (or withdraw one's own)")
    p.add_argument("ids", metavar="ID", type=int, nargs="+")
    p.add_argument("--reason", required=True)
    _json_flag(p)
    p.set_defaults(func=cmd_change_refuse)

    audit = _group(subparsers, "audit", "the audit trail")
    p = audit.add_parser("verify", help="check the audit log's hash chain (exit 12 if altered); prints the head",
                         description="Check the audit log's hash chain and print its head, `head SEQ:HASH`: an "
                         "anchor to keep outside the workspace. Given back with --anchor, it proves that rows 1 "
                         "to SEQ are still the ones it was taken from.")  # fmt: skip
    p.add_argument("--anchor", action="append", metavar="SEQ:HASH",
                   help="an anchor kept from an earlier check or export: row SEQ must still exist with exactly this "
                   "hash (repeatable)")  # fmt: skip
    _json_flag(p)
    p.set_defaults(func=cmd_audit_verify)
    p = audit.add_parser("log", help="list audit events, newest first")
    _dates(p)
    p.add_argument("--by", metavar="USER", help="only events of this user")
    p.add_argument("--kind", help="only this kind of event (e.g. verified, login_failed)")
    p.add_argument("--account", metavar="NUMBER")
    p.add_argument("--limit", type=int, default=100)
    _json_flag(p)
    p.set_defaults(func=cmd_audit_log)

    p = subparsers.add_parser("export", help="write the audit report (CSV or PDF)",
                              description="One row per verified cheque: account, signatories and scores, model "
                              "decision, clerk decision and reason, user, time, model id. The PDF also shows "
                              "each cheque's signature beside the references.")  # fmt: skip
    p.add_argument("--format", choices=("csv", "pdf"), help="default: from the --out suffix")
    p.add_argument("--out", required=True, metavar="FILE")
    _dates(p)
    p.add_argument("--account", metavar="NUMBER")
    _json_flag(p)
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("backup", help="copy the workspace into a new folder, checked (supervisor or admin)",
                              description="A consistent copy of the whole workspace, taken while others work, "
                              "written as FOLDER/workspace.sqlite and checked (SQLite's integrity check and the "
                              "audit chain). The folder must be new or empty and outside the workspace. The copy is "
                              "a workspace of its own (--workspace FOLDER); its SHA-256 and audit head are printed "
                              "and recorded in the audit log.")  # fmt: skip
    p.add_argument("folder", metavar="FOLDER", help="a new or empty folder, e.g. one named by the date")
    _json_flag(p)
    p.set_defaults(func=cmd_backup)

    p = subparsers.add_parser("restore", help="put the whole workspace back to a backup (admin)",
                              description="Replace the whole workspace with a backup made by `chequeverify "
                              "backup`, after checking it (integrity, schema, audit chain). The state it replaces "
                              "is first kept as a backup beside the workspace folder (WORKSPACE.before-restore-TIME); "
                              "the restored audit log records the restore, the backup's SHA-256, the head of the log "
                              "it replaced and where that was kept. Close the app everywhere first.")  # fmt: skip
    p.add_argument("folder", metavar="FOLDER", help="the folder `chequeverify backup` wrote")
    p.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    _json_flag(p)
    p.set_defaults(func=cmd_restore)
