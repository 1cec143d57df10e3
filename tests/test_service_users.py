"""Users, passwords, roles: every refusal is clear, audited, and changes nothing else."""

from __future__ import annotations

import pytest

from chequeverify.errors import AuthenticationFailed, InvalidInput, PermissionDenied, UnknownAccount
from chequeverify.service import ROLE_RIGHTS, Workspace
from chequeverify.service.passwords import hash_password, verify_password
from tests.service_fixtures import PASSWORDS, FakeModel, fast_kdf, scribble, snapshot, team  # noqa: F401


def kinds(session, **kw):
    return [e.kind for e in session.audit_events(**kw)]


def test_passwords_are_salted_scrypt_hashes(fast_kdf):
    a, b = hash_password("same-password"), hash_password("same-password")
    assert a != b and a.startswith("scrypt$")
    assert verify_password("same-password", a) and not verify_password("other-password", a)
    assert not verify_password("x", "garbage") and not verify_password("x", None)


def test_plain_passwords_are_never_stored(team):
    rows = team.ws._store.list_users()
    for row in rows:
        assert PASSWORDS[row["name"]] not in row["password_hash"]


def test_init_only_once(team):
    with pytest.raises(InvalidInput, match="already initialised"):
        team.ws.init("other", "password-123")


def test_login_before_init_says_what_to_do(tmp_path):
    ws = Workspace.open(tmp_path / "w", model=FakeModel())
    with pytest.raises(AuthenticationFailed, match="init"):
        ws.login("x", "y")


def test_wrong_password_and_unknown_user_are_audited(team):
    before = snapshot(team.ws)
    with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
        team.ws.login("carl", "wrong-password")
    with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
        team.ws.login("nobody", "whatever-pw")
    events = team.root.audit_events(kind="login_failed")
    assert [(e.user, e.details["reason"]) for e in events] == [(None, "unknown user"), ("carl", "wrong password")]
    # what was typed as an unknown name may be a password typed in the wrong field: only a fingerprint is kept
    assert "nobody" not in repr(events[0]) and len(events[0].details["typed_name_sha256"]) == 16
    assert snapshot(team.ws) == before


def test_a_disabled_user_is_told_nothing_about_the_password(team):
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            team.ws.login("carl", "wrong-password")
    messages = set()
    for password in (PASSWORDS["carl"], "wrong-password"):  # right or wrong: one message, no oracle
        with pytest.raises(AuthenticationFailed) as err:
            team.ws.login("carl", password)
        messages.add(str(err.value))
    assert len(messages) == 1 and "disabled or locked" in messages.pop()
    assert [e.details["reason"] for e in team.root.audit_events(kind="login_failed")][:2] == ["disabled user"] * 2
    assert team.ws._store.get_user("carl")["failed_logins"] == 5  # guesses on a disabled user are not even counted


def test_the_last_admin_is_locked_for_a_while_not_disabled(team, monkeypatch):
    from chequeverify.service import workspace as wsmod

    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            team.ws.login("root", "wrong-password")
    assert team.ws._store.get_user("root")["active"] == 1  # nobody could enable the only admin
    with pytest.raises(AuthenticationFailed, match="locked"):
        team.ws.login("root", PASSWORDS["root"])  # locked: the right password does not open it now
    assert team.root.audit_events(kind="login_failed")[0].details["reason"] == "locked user"
    monkeypatch.setattr(wsmod, "ADMIN_LOCK_MINUTES", 0)  # the lock has run out
    assert team.ws.login("root", PASSWORDS["root"]).user.name == "root"
    # with a second admin, the first is disabled like anyone else
    team.root.add_user("ada", "admin", "ada-pass-123")
    monkeypatch.setattr(wsmod, "ADMIN_LOCK_MINUTES", 15)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            team.ws.login("root", "wrong-password")
    assert team.ws._store.get_user("root")["active"] == 0


def test_parallel_guesses_are_all_counted(team):
    import threading

    from chequeverify.service import Workspace

    workspaces = [Workspace.open(team.path, model=FakeModel()) for _ in range(8)]
    barrier = threading.Barrier(len(workspaces))

    def guess(ws):
        barrier.wait()
        for _ in range(2):
            try:
                ws.login("carl", "wrong-password")
            except AuthenticationFailed:
                pass

    threads = [threading.Thread(target=guess, args=(w,)) for w in workspaces]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in workspaces:
        w.close()
    reasons = [e.details["reason"] for e in team.root.audit_events(kind="login_failed", limit=100)]
    assert len(reasons) == 16 and reasons.count("wrong password") == 5  # the sixth guess found carl disabled
    assert team.ws._store.get_user("carl")["active"] == 0


def test_a_weaker_stored_hash_is_upgraded_at_login(team, monkeypatch):
    from chequeverify.service import passwords as pw

    old = team.ws._store.get_user("carl")["password_hash"]
    monkeypatch.setattr(pw, "SCRYPT_N", pw.SCRYPT_N * 2)
    team.ws.login("carl", PASSWORDS["carl"])
    new = team.ws._store.get_user("carl")["password_hash"]
    assert new != old and new.split("$")[1] == str(pw.SCRYPT_N) and verify_password(PASSWORDS["carl"], new)


def test_a_disabled_users_open_session_cannot_change_its_password(team):
    team.root.set_user_active("carl", False)
    with pytest.raises(AuthenticationFailed):
        team.carl.set_password("carl", "new-password-1")


def test_repeated_failures_disable_the_user_until_an_admin_enables_it(team):
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            team.ws.login("carl", "wrong-password")
    with pytest.raises(AuthenticationFailed, match="disabled"):
        team.ws.login("carl", PASSWORDS["carl"])
    # the open session stops working too
    with pytest.raises(AuthenticationFailed):
        team.carl.list_accounts()
    team.root.set_user_active("carl", True)
    assert team.ws.login("carl", PASSWORDS["carl"]).user.name == "carl"


def test_a_successful_login_resets_the_failure_count(team):
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            team.ws.login("carl", "wrong-password")
    team.ws.login("carl", PASSWORDS["carl"])
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            team.ws.login("carl", "wrong-password")
    team.ws.login("carl", PASSWORDS["carl"])


def test_user_management_is_for_admins(team):
    with pytest.raises(PermissionDenied, match="A supervisor may not add users"):
        team.sue.add_user("eve", "admin", "password-123")
    assert kinds(team.root, kind="permission_denied") == ["permission_denied"]
    with pytest.raises(InvalidInput, match="Unknown role"):
        team.root.add_user("eve", "boss", "password-123")
    with pytest.raises(InvalidInput, match="at least 8"):
        team.root.add_user("eve", "clerk", "short")
    with pytest.raises(InvalidInput, match="already exists"):
        team.root.add_user("CARL", "clerk", "password-123")  # names are case-insensitive
    assert [u.name for u in team.root.list_users()] == ["carl", "root", "sam", "sue"]
    with pytest.raises(InvalidInput, match="yourself"):
        team.root.set_user_active("root", False)
    with pytest.raises(UnknownAccount):
        team.root.set_user_active("nobody", False)


def test_passwords_can_be_changed(team):
    team.carl.set_password("carl", "new-password-1")
    with pytest.raises(AuthenticationFailed):
        team.ws.login("carl", PASSWORDS["carl"])
    assert team.ws.login("carl", "new-password-1")
    with pytest.raises(PermissionDenied):
        team.carl.set_password("sue", "whatever-123")
    team.root.set_password("sue", "reset-by-admin")
    assert team.ws.login("sue", "reset-by-admin")


def test_role_changes_take_effect_at_once_and_rights_are_separated(team):
    assert team.carl.can("verify") and not team.carl.can("register")
    assert team.sue.can("register") and team.sue.can("verify") and not team.sue.can("users")
    assert team.root.can("users") and not team.root.can("verify")
    assert ROLE_RIGHTS["admin"].isdisjoint({"verify", "decide", "register"})


def test_a_clerk_registering_references_is_refused_audited_and_changes_nothing(team):
    team.sue.add_account("1", "Ada", "any one")
    team.sue.add_signatory("1", "Ada")
    before = snapshot(team.ws)
    with pytest.raises(PermissionDenied, match="A clerk may not register reference signatures") as err:
        team.carl.add_references("1", "Ada", [scribble(1, 1)])
    assert "supervisor" in str(err.value)
    with pytest.raises(PermissionDenied):
        team.carl.add_account("2", "Bob")
    with pytest.raises(PermissionDenied):
        team.carl.set_thresholds(0.9, 0.8)
    assert snapshot(team.ws) == before
    denied = team.root.audit_events(kind="permission_denied")
    assert [e.user for e in denied] == ["carl"] * 3
    assert denied[-1].details["action"] == "register reference signatures"


def test_logout_is_audited(team):
    team.carl.logout()
    assert team.root.audit_events(limit=1)[0].kind == "logout"


def test_guesses_during_the_last_admins_lock_do_not_prolong_it(team, monkeypatch):
    import time

    from chequeverify.service import workspace as wsmod

    monkeypatch.setattr(wsmod, "ADMIN_LOCK_MINUTES", 0.02)  # 1.2 s
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            team.ws.login("root", "wrong-password")
    locked_at = time.monotonic()
    while time.monotonic() - locked_at < 1.0:  # someone keeps guessing through the lock
        with pytest.raises(AuthenticationFailed):
            team.ws.login("root", "wrong-password")
        time.sleep(0.2)
    time.sleep(max(0.0, 1.4 - (time.monotonic() - locked_at)))
    assert team.ws.login("root", PASSWORDS["root"]).user.name == "root"


def test_an_id_beyond_64_bits_is_no_such_thing(team):
    huge = 10**23
    for call in (lambda: team.sue.approve_change(huge), lambda: team.sue.approve_reference(huge),
                 lambda: team.sue.approve_override(huge), lambda: team.carl.get_cheque(huge)):
        with pytest.raises(UnknownAccount):
            call()
