"""The workspace commands end to end through ``chequeverify.cli.main``, and the README covering every command."""

from __future__ import annotations

import argparse
import csv
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from chequeverify.cli import build_parser, main
from chequeverify.service import Workspace
from tests.service_fixtures import PASSWORDS, FakeModel, fast_kdf, scribble  # noqa: F401

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(tmp_path, monkeypatch, fast_kdf, capsys):
    """Run ``chequeverify`` in-process on a fresh workspace with the fake model; returns (exit code, stdout, stderr)."""
    import chequeverify.cli.workspace as commands

    folder = tmp_path / "ws"
    model = FakeModel()
    monkeypatch.setattr(commands, "_open_workspace", lambda path: Workspace.open(path, model=model))
    monkeypatch.setenv("CHEQUEVERIFY_WORKSPACE", str(folder))

    def run(*argv: str, user: str | None = None, new_password: str | None = None):
        monkeypatch.delenv("CHEQUEVERIFY_NEW_PASSWORD", raising=False)
        if user:
            monkeypatch.setenv("CHEQUEVERIFY_PASSWORD", PASSWORDS.get(user, "x"))
        if new_password:
            monkeypatch.setenv("CHEQUEVERIFY_NEW_PASSWORD", new_password)
        code = main([*(["--user", user] if user else []), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    run.folder = folder
    return run


def setup_team(cli):
    assert cli("init", "--admin", "root", new_password=PASSWORDS["root"])[0] == 0
    for name, role in (("sue", "supervisor"), ("sam", "supervisor"), ("carl", "clerk")):
        code, out, _ = cli("user", "add", name, "--role", role, user="root", new_password=PASSWORDS[name])
        assert code == 0 and f"Added {role} {name}" in out


def save(tmp_path, array, name):
    path = tmp_path / name
    Image.fromarray(array).save(path)
    return str(path)


def test_a_full_day_on_the_command_line(cli, tmp_path):
    setup_team(cli)
    assert cli("account", "add", "100-1", "--name", "Ada Lovelace", "--mandate", "any one", user="sue")[0] == 0
    assert cli("signatory", "add", "100-1", "Ada", user="sue")[0] == 0
    files = [save(tmp_path, scribble(1, v), f"ref{v}.png") for v in (1, 2, 3)]
    code, out, _ = cli("reference", "add", "100-1", "Ada", *files, "--json", user="sue")
    ids = [str(r["id"]) for r in json.loads(out)]
    assert code == 0 and len(ids) == 3
    code, out, _ = cli("reference", "pending", user="sam")
    assert all(i in out for i in ids)
    assert cli("reference", "approve", *ids, user="sam")[0] == 0
    # another hand: added (a hand changes), with a warning for the maker and the checker; the checker refuses it
    code, out, _ = cli("reference", "add", "100-1", "Ada", save(tmp_path, scribble(2, 1), "other.png"), user="sue")
    assert code == 0 and "warning: reference 4 is unlike the signatory's other 3 specimens" in out
    code, out, _ = cli("reference", "pending", user="sam")
    assert "UNLIKE THE OTHERS" in out
    assert cli("reference", "reject", "4", "--reason", "not Ada's hand", user="sam")[0] == 0
    # the fake model's scale: looser than its own thresholds, so a second supervisor approves it
    code, out, _ = cli("thresholds", "set", "--accept", "0.8", "--reject", "0.6", "--reason", "fake scale", user="sue")
    assert code == 0 and "Change 1 waits for a second supervisor" in out
    code, out, _ = cli("change", "pending", user="carl")
    assert "thresholds" in out and "sue" in out
    assert cli("change", "approve", "1", user="sue")[0] == 7  # not the maker
    code, out, _ = cli("change", "approve", "1", user="sam")
    assert code == 0 and "applied" in out
    page = Image.new("L", (900, 400), 255)
    page.paste(Image.fromarray(scribble(1, 7)), (500, 200))
    page.save(tmp_path / "cheque.png")
    code, out, _ = cli("verify", str(tmp_path / "cheque.png"), "--account", "100-1", "--amount", "12.50",
                       "--box", "500,200,860,340", "--json", user="carl")  # fmt: skip
    result = json.loads(out)
    assert code == 0 and result["decision"] == "ACCEPT" and result["signatories"][0]["name"] == "Ada"
    assert "query_image" not in result and result["amount"] == "12.50"
    cheque_id = str(result["cheque_id"])
    code, out, _ = cli("verify", str(tmp_path / "cheque.png"), "--account", "100-1", "--box", "500,200,860,340",
                       user="carl")  # fmt: skip
    assert code == 0 and "ACCEPT" in out and "verified before" in out
    assert cli("decide", cheque_id, "--accept", user="carl")[0] == 0
    code, out, _ = cli("show", cheque_id, user="carl")
    assert "human decision: ACCEPT [final]" in out
    code, out, _ = cli("history", "--json", user="carl")
    assert [r["cheque_id"] for r in json.loads(out)] == [2, 1]
    code, out, _ = cli("identify", files[0], "--top", "1", "--json", user="carl")
    assert json.loads(out)["candidates"][0]["signatory"] == "Ada"
    code, out, _ = cli("account", "list", "lovelace", user="carl")
    assert "100-1" in out and "Ada Lovelace" in out
    code, out, _ = cli("account", "show", "100-1", user="carl")
    assert "reference 1: active" in out
    assert cli("thresholds", "set", "--accept", "0.95", "--reject", "0.8", user="sue")[0] == 0
    code, out, _ = cli("thresholds", "show", "--json", user="carl")
    assert json.loads(out)["accept"] == 0.95
    code, out, err = cli("thresholds", "reset", "--json", user="sue")  # looser than 0.95 / 0.8: it waits …
    assert code == 2 and "Give a reason" in err  # … and the checker approves knowing why
    code, out, err = cli("thresholds", "reset", "--reason", "back to the model's own", "--json", user="sue")
    assert code == 0 and json.loads(out)["pending"]["summary"].startswith("Go back to the model's own"), err
    assert cli("change", "approve", str(json.loads(out)["pending"]["id"]), user="sam")[0] == 0
    code, out, _ = cli("thresholds", "show", "--json", user="carl")
    assert json.loads(out)["source"] == "model"
    out_csv = tmp_path / "audit.csv"
    code, out, _ = cli("export", "--format", "csv", "--out", str(out_csv), "--account", "100-1", user="sue")
    assert code == 0 and "Wrote 2 cheque(s)" in out
    with open(out_csv, newline="") as fh:
        assert [r["clerk_decision"] for r in csv.DictReader(fh)] == ["ACCEPT", ""]
    assert cli("export", "--out", str(tmp_path / "audit.pdf"), user="root")[0] == 0
    assert (tmp_path / "audit.pdf").read_bytes().startswith(b"%PDF")
    code, out, _ = cli("audit", "verify", user="root")
    assert code == 0 and "chain intact" in out
    code, out, _ = cli("audit", "log", "--kind", "verified", "--json", user="sue")
    assert len(json.loads(out)) == 2
    code, out, _ = cli("references", "re-embed", user="sue")
    assert code == 0 and "Re-embedded 4" in out  # the refused one too: its image is kept


def test_override_commands(cli, tmp_path):
    setup_team(cli)
    cli("account", "add", "1", "--name", "Ada", user="sue")
    cli("signatory", "add", "1", "Ada", user="sue")
    cli("reference", "add", "1", "Ada", *[save(tmp_path, scribble(1, v), f"r{v}.png") for v in (1, 2, 3)], user="sue")
    cli("reference", "approve", "1", "2", "3", user="sam")
    cli("thresholds", "set", "--accept", "0.999", "--reject", "0.99", "--no-adapt", user="sue")
    forged = save(tmp_path, scribble(9, 1), "forged.png")
    page = Image.open(forged)
    code, out, _ = cli("verify", forged, "--account", "1", "--box", f"0,0,{page.width},{page.height}", "--json",
                       user="carl")  # fmt: skip
    assert json.loads(out)["decision"] == "REJECT"
    code, _, err = cli("decide", "1", "--accept", user="carl")
    assert code == 2 and "reason" in err
    code, out, _ = cli("decide", "1", "--accept", "--reason", "customer called", user="carl")
    assert "must approve" in out
    code, out, _ = cli("override", "pending", user="sue")
    assert "customer called" in out
    code, _, err = cli("override", "approve", "1", user="carl")
    assert code == 7 and "clerk may not" in err
    assert cli("override", "approve", "1", "--note", "ok", user="sue")[0] == 0
    cli("verify", forged, "--account", "1", "--box", f"0,0,{page.width},{page.height}", user="carl")
    cli("decide", "2", "--accept", "--reason", "sure", user="carl")
    assert cli("override", "refuse", "2", "--reason", "no", user="sam")[0] == 0
    code, out, _ = cli("history", "--status", "refused", "--json", user="carl")
    assert [r["cheque_id"] for r in json.loads(out)] == [2]


@pytest.mark.parametrize("argv,user,code,words", [
    (["verify", "nope.png", "--account", "1"], "carl", 3, "nope.png"),
    (["verify", "{blank}", "--account", "1"], "carl", 4, ""),
    (["verify", "{cheque}", "--account", "999"], "carl", 6, "no account 999"),
    (["account", "add", "2", "--name", "Bob"], "carl", 7, "clerk may not register accounts"),
    (["reference", "add", "1", "Ada", "{cheque}"], "carl", 7, "clerk may not"),
    (["account", "add", "2", "--name", "Bob", "--mandate", "any twelve"], "sue", 9, "twelve"),
    (["account", "list"], "mallory", 8, "Wrong user name or password"),
    (["signatory", "add", "1", "Bob", "--valid-from", "yesterday"], "sue", 2, "YYYY-MM-DD"),
    (["user", "add", "eve", "--role", "clerk"], "sue", 7, "needs an admin"),
    (["thresholds", "set"], "sue", 2, "Nothing to change"),
])  # fmt: skip
def test_errors_print_one_line_and_exit_with_their_code(cli, tmp_path, argv, user, code, words):
    setup_team(cli)
    cli("account", "add", "1", "--name", "Ada", user="sue")
    cli("signatory", "add", "1", "Ada", user="sue")
    cli("reference", "add", "1", "Ada", *[save(tmp_path, scribble(1, v), f"r{v}.png") for v in (1, 2)], user="sue")
    cli("reference", "approve", "1", "2", user="sam")
    blank = tmp_path / "blank.png"
    Image.new("L", (900, 400), 255).save(blank)
    argv = [a.format(blank=blank, cheque=save(tmp_path, scribble(1, 1), "c.png")) for a in argv]
    before = sqlite3.connect(cli.folder / "workspace.sqlite").execute("SELECT count(*) FROM accounts").fetchone()
    got, out, err = cli(*argv, user=user)
    assert got == code, err
    assert err.startswith("chequeverify: error: ") and err.count("\n") == 1 and words in err
    after = sqlite3.connect(cli.folder / "workspace.sqlite").execute("SELECT count(*) FROM accounts").fetchone()
    assert before == after


def test_missing_user_and_password(cli, monkeypatch):
    setup_team(cli)
    code, _, err = cli("account", "list")
    assert code == 2 and "--user" in err
    monkeypatch.delenv("CHEQUEVERIFY_PASSWORD", raising=False)
    code = main(["--user", "carl", "account", "list"])  # no terminal to prompt on
    assert code == 2


def test_audit_verify_exits_12_when_a_row_was_edited(tmp_path, fast_kdf):
    """Through the real entry point (a subprocess), with no model needed."""
    folder = tmp_path / "ws"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CHEQUEVERIFY_NEW_PASSWORD": "root-pass-1",
           "CHEQUEVERIFY_PASSWORD": "root-pass-1", "CHEQUEVERIFY_USER": "root"}  # fmt: skip
    run = lambda *a: subprocess.run([sys.executable, "-m", "chequeverify", "--workspace", str(folder), *a],  # noqa: E731
                                    env=env, cwd=REPO, capture_output=True, text=True)  # fmt: skip
    assert run("init", "--admin", "root").returncode == 0
    assert run("audit", "verify").returncode == 0
    conn = sqlite3.connect(folder / "workspace.sqlite")
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE seq = 2")
    conn.commit()
    conn.close()
    result = run("audit", "verify")
    assert result.returncode == 12
    assert "row 2 was removed" in result.stderr


# --- the README documents every command ---------------------------------------------------


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[tuple[str, ...], ...] = ()) -> list[tuple]:
    """Every runnable command of the parser as a tuple of word choices, e.g. (("reference", "references"), ("add",))."""
    paths = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                sub = action.choices[choice.dest]
                names = tuple(n for n, p in action.choices.items() if p is sub)  # the name and its aliases
                nested = command_paths(sub, prefix + (names,))
                paths += nested or [prefix + (names,)]
    return paths


def test_the_readme_documents_every_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    paths = command_paths(build_parser())
    assert (("verify",),) in paths and (("reference", "references"), ("add",)) in paths
    missing = []
    for path in paths:
        words = r" ".join("(?:" + "|".join(map(re.escape, names)) + ")" for names in path)
        pattern = r"chequeverify(?: --?[\w-]+(?:[ =](?!-)\S+)?)* " + words + r"(?![\w-])"
        if not re.search(pattern, readme):
            missing.append(" ".join(names[0] for names in path))
    assert not missing, f"README.md does not document: {', '.join(missing)}"


# --- anchoring the audit log -------------------------------------------------------------------


def test_audit_verify_prints_the_head_and_checks_anchors(cli, tmp_path):
    from tests.test_service_audit_anchor import rewrite_everything

    setup_team(cli)
    code, out, _ = cli("audit", "verify", user="root")
    head = next(line for line in out.splitlines() if line.startswith("head "))
    anchor = head.split()[1]
    assert code == 0 and re.fullmatch(r"head \d+:[0-9a-f]{64}", head)
    assert f"chequeverify audit verify --anchor {anchor}" in out and "outside the workspace" in out
    code, out, _ = cli("audit", "verify", "--anchor", anchor, "--anchor", head, user="sue")  # the line as printed, too
    assert code == 0 and "1 anchor(s) still match" in out
    code, out, _ = cli("audit", "verify", "--anchor", anchor, "--json", user="sue")
    result = json.loads(out)
    assert code == 0 and result["anchors"] == [anchor] and result["anchor"] == f"{result['head_seq']}:{result['head_hash']}"
    code, out, _ = cli("export", "--out", str(tmp_path / "audit.csv"), user="sue")
    assert code == 0 and re.search(r"^head \d+:[0-9a-f]{64}$", out, re.M) and "as of this report" in out
    code, _, err = cli("audit", "verify", "--anchor", "12:abc", user="sue")
    assert code == 2 and err.startswith("chequeverify: error: ") and err.count("\n") == 1 and "not an anchor" in err

    rewrite_everything(cli.folder / "workspace.sqlite")
    assert cli("audit", "verify", user="sue")[0] == 0  # the chain alone cannot tell
    code, out, err = cli("audit", "verify", "--anchor", anchor, user="sue")
    assert code == 12 and err.count("\n") == 1 and "no longer matches the anchor" in err and "head " not in out


# --- several ids, missing workspaces, options after the command, pipes ------------------------------


def test_approving_several_ids_goes_on_past_a_bad_one(cli, tmp_path):
    setup_team(cli)
    cli("account", "add", "1", "--name", "Ada", user="sue")
    cli("signatory", "add", "1", "Ada", user="sue")
    cli("reference", "add", "1", "Ada", *[save(tmp_path, scribble(1, v), f"r{v}.png") for v in range(1, 7)], user="sue")
    code, out, err = cli("reference", "approve", "1", "2", "3", "999", "4", "5", "6", user="sam")
    assert code == 6  # the first failure's code: a script sees that something was left undone...
    assert out.splitlines()[-1] == "approved 1, 2, 3, 4, 5, 6; not approved: 999 (there is no reference 999)."
    assert err.startswith("chequeverify: error: reference 999: There is no reference 999") and err.count("\n") == 1
    code, out, _ = cli("reference", "pending", "--json", user="sam")
    assert json.loads(out) == []  # ...and every good id was done, 4-6 too
    # --json: one result per id, in the order given; a maker may not check their own change
    cli("reference", "add", "1", "Ada", save(tmp_path, scribble(1, 8), "r8.png"), user="sam")
    code, out, err = cli("reference", "reject", "7", "1", "--reason", "blurred", "--json", user="sue")
    results = json.loads(out)
    assert code == 2 and [(r["id"], r["ok"]) for r in results] == [(7, True), (1, False)]
    assert results[0]["result"]["status"] == "rejected" and results[1]["exit_code"] == 2
    assert "nothing to approve" in results[1]["error"] and "reference 1:" in err
    code, out, err = cli("reference", "approve", "1", "2", user="sue")
    assert code == 2 and out == ("approved none; not approved: 1 (reference 1 is active; there is nothing to "
                                 "approve), 2 (reference 2 is active; there is nothing to approve).\n")


def test_a_role_that_may_not_review_is_refused_once(cli, tmp_path):
    setup_team(cli)
    cli("account", "add", "1", "--name", "Ada", user="sue")
    cli("signatory", "add", "1", "Ada", user="sue")
    cli("reference", "add", "1", "Ada", *[save(tmp_path, scribble(1, v), f"r{v}.png") for v in (1, 2)], user="sue")
    code, out, err = cli("reference", "approve", "1", "2", user="carl")
    assert code == 7 and out == "" and err.count("\n") == 1 and "clerk may not" in err
    code, out, _ = cli("audit", "log", "--kind", "permission_denied", "--json", user="sue")
    assert len(json.loads(out)) == 1


def test_pending_shows_who_asked_for_a_retirement(cli, tmp_path):
    setup_team(cli)
    cli("account", "add", "1", "--name", "Ada", user="sue")
    cli("signatory", "add", "1", "Ada", user="sue")
    cli("reference", "add", "1", "Ada", *[save(tmp_path, scribble(1, v), f"r{v}.png") for v in (1, 2)], user="sue")
    cli("reference", "approve", "1", "2", user="sam")
    assert cli("reference", "retire", "1", "--reason", "old specimen", user="sam")[0] == 0
    code, out, _ = cli("reference", "pending", user="sue")
    row = next(line.split() for line in out.splitlines() if line.startswith("1 "))
    assert row[3:6] == ["retiring", "r1.png", "sam"]  # the maker of the change, not who added the specimen
    code, out, _ = cli("reference", "pending", "--json", user="sue")
    (ref,) = json.loads(out)
    assert ref["added_by"] == "sue" and ref["change_by"] == "sam"


@pytest.mark.parametrize("make", ["absent", "empty folder"])
def test_commands_refuse_a_missing_workspace_and_create_nothing(cli, tmp_path, make):
    setup_team(cli)
    folder = tmp_path / "other ws"
    if make == "empty folder":
        folder.mkdir()
    for argv in (["--workspace", str(folder), "account", "list"], ["account", "list", "--workspace", str(folder)],
                 ["--workspace", str(folder), "audit", "verify"]):  # fmt: skip
        code, out, err = cli(*argv, user="carl")
        assert code == 11 and out == ""
        assert err == (f"chequeverify: error: There is no workspace at {folder}. Create one with "
                       f"`chequeverify --workspace '{folder}' init --admin NAME`.\n")  # fmt: skip
    assert folder.exists() == (make == "empty folder") and not (folder / "workspace.sqlite").exists()


@pytest.mark.parametrize("admin,password,words", [("  ", "long-enough-1", "name is empty"),
                                                  ("root", "short", "at least")])  # fmt: skip
def test_init_checks_the_name_and_password_before_creating_anything(cli, tmp_path, admin, password, words):
    folder = tmp_path / "new ws"
    code, _, err = cli("--workspace", str(folder), "init", "--admin", admin, new_password=password)
    assert code == 2 and words in err
    assert not folder.exists()
    assert cli("init", "--admin", "root", "--workspace", str(folder), new_password="long-enough-1")[0] == 0
    assert (folder / "workspace.sqlite").is_file()


def test_global_options_also_follow_the_command(cli, monkeypatch):
    setup_team(cli)
    monkeypatch.setenv("CHEQUEVERIFY_PASSWORD", PASSWORDS["sue"])
    code, out, _ = cli("account", "add", "7", "--name", "Bob", "--user", "sue", "--workspace", str(cli.folder))
    assert code == 0 and "Added account 7" in out
    parser = build_parser()
    args = parser.parse_args(["demo", "--workspace", "/tmp/x y"])
    assert args.workspace == "/tmp/x y" and args.func.__name__ == "cmd_demo"
    # given before the command and not after, the value before stands
    args = parser.parse_args(["--workspace", "A", "--user", "u", "reference", "approve", "1"])
    assert (args.workspace, args.user) == ("A", "u")
    assert parser.parse_args(["reference", "pending"]).workspace is None


def test_demo_hint_quotes_a_folder_with_spaces(tmp_path, monkeypatch, capsys):
    import shlex
    from types import SimpleNamespace

    from chequeverify.service import demo

    folder = tmp_path / "demo ws"
    summary = SimpleNamespace(seconds=0.1, accounts=1, references=2, cheques=3, cheques_dir=folder / "cheques",
                              history=0)  # fmt: skip
    monkeypatch.setattr(demo, "build_demo", lambda *a, **k: summary)
    assert main(["demo", "--workspace", str(folder)]) == 0
    hint = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert hint.startswith("Open it with:")
    assert shlex.split(hint.split(":", 1)[1]) == ["chequeverify", "gui", "--demo", "--workspace", str(folder)]


def test_show_says_how_to_decide_only_while_undecided(cli, tmp_path):
    setup_team(cli)
    cli("account", "add", "1", "--name", "Ada", user="sue")
    cli("signatory", "add", "1", "Ada", user="sue")
    cli("reference", "add", "1", "Ada", *[save(tmp_path, scribble(1, v), f"r{v}.png") for v in (1, 2)], user="sue")
    cli("reference", "approve", "1", "2", user="sam")
    cli("thresholds", "set", "--accept", "0.999", "--reject", "0.99", "--no-adapt", user="sue")
    forged = save(tmp_path, scribble(9, 1), "forged.png")
    w, h = Image.open(forged).size
    code, out, _ = cli("verify", forged, "--account", "1", "--box", f"0,0,{w},{h}", user="carl")
    assert code == 0 and "decide with: chequeverify decide 1" in out
    assert "decide with" in cli("show", "1", user="carl")[1]
    cli("decide", "1", "--accept", "--reason", "customer called", user="carl")  # an override of a REJECT: waits
    out = cli("show", "1", user="carl")[1]
    assert "decide with" not in out and "override approve|refuse 1" in out
    cli("override", "approve", "1", user="sue")
    out = cli("show", "1", user="carl")[1]
    assert "human decision: ACCEPT [final]" in out and "decide with" not in out and "override" not in out


def test_history_of_an_unknown_account_is_an_error(cli, tmp_path):
    setup_team(cli)
    cli("account", "add", "1", "--name", "Ada", user="sue")
    code, out, _ = cli("history", "--account", "1", "--json", user="carl")
    assert code == 0 and json.loads(out) == []  # a known account without cheques is no error
    code, _, err = cli("history", "--account", "NOPE", user="carl")
    assert code == 6 and "There is no account NOPE" in err


def test_export_refuses_a_file_named_for_the_other_format(cli, tmp_path):
    setup_team(cli)
    out = tmp_path / "report.csv"
    code, _, err = cli("export", "--format", "pdf", "--out", str(out), user="sue")
    assert code == 2 and "CSV" in err and not out.exists()


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    """`chequeverify ... | head -1`: the reader goes away; no BrokenPipeError traceback, exit 141 (SIGPIPE)."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line
    try:
        result = subprocess.run([sys.executable, "-m", "chequeverify", "layouts"], stdout=write_end,
                                stderr=subprocess.PIPE, cwd=REPO, text=True, timeout=120)  # fmt: skip
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == ""


def test_audit_verify_fails_on_state_edited_behind_its_back(cli, tmp_path):
    import sqlite3

    setup_team(cli)
    code, out, _ = cli("audit", "verify", user="root")
    assert code == 0 and "accounted for" in out
    conn = sqlite3.connect(tmp_path / "ws" / "workspace.sqlite")
    conn.execute("UPDATE users SET role = 'admin' WHERE name = 'carl'")
    conn.commit()
    conn.close()
    code, out, err = cli("audit", "verify", user="root")
    assert code == 12 and "unaccounted: user carl is admin, but was created clerk" in err
    assert "chain is intact" in err


def test_backup_and_restore_on_the_command_line(cli, tmp_path):
    setup_team(cli)
    cli("account", "add", "100-1", "--name", "Ada", user="sue")
    code, out, _ = cli("backup", str(tmp_path / "nightly"), user="root")
    assert code == 0 and "Backed up the workspace to" in out and "sha256 " in out
    head = next(line.split()[1] for line in out.splitlines() if line.startswith("head "))
    code, out, _ = cli("backup", str(tmp_path / "b2"), "--json", user="sue")
    assert code == 0 and json.loads(out)["chain_ok"] is True
    code, _, err = cli("backup", str(tmp_path / "nightly"), user="sue")
    assert code == 2 and "not empty" in err
    code, _, err = cli("backup", str(tmp_path / "b3"), user="carl")
    assert code == 7 and not (tmp_path / "b3").exists()
    cli("account", "add", "200-2", "--name", "Bo", user="sue")
    code, _, err = cli("restore", str(tmp_path / "nightly"), user="root")  # no terminal to ask: --yes is needed
    assert code == 2 and "--yes" in err
    code, _, err = cli("restore", str(tmp_path / "nightly"), "--yes", user="sue")
    assert code == 7 and "may not restore" in err
    code, out, _ = cli("restore", str(tmp_path / "nightly"), "--yes", user="root")
    assert code == 0 and "Restored the workspace" in out
    code, out, _ = cli("account", "list", "--json", user="sue")
    assert [a["number"] for a in json.loads(out)] == ["100-1"]
    code, out, _ = cli("audit", "verify", "--anchor", head, user="root")
    assert code == 0 and "1 anchor(s) still match" in out
