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
    assert [(e.user, e.details["reason"]) for e in events] == [("nobody", "unknown user"), ("carl", "wrong password")]
    assert snapshot(team.ws) == before


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
