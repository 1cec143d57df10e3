"""SIGKILL in the middle of a registration or a verification batch loses nothing committed and leaves nothing half-written.

A child process registers accounts (account + two signatories + five
references, one transaction each) or verifies cheques in a loop and is
killed: once from inside a transaction (a storage test hook sends SIGKILL
between two of its writes) and several times from outside at random
moments. The parent then checks that every account the child reported as
committed is there and complete, that no other account is half there, and
that the database and the audit chain are intact.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from chequeverify.storage import Store
from tests.service_fixtures import enrol, fast_kdf, make_team  # noqa: F401

REPO = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {repo!r})
    import numpy as np
    from PIL import Image
    from tests.service_fixtures import FakeModel, PASSWORDS, scribble
    from chequeverify.service import Workspace
    from chequeverify.storage import store

    mode, folder, kill_at, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    ws = Workspace.open(folder, model=FakeModel())
    sue = ws.login("sue", PASSWORDS["sue"])
    carl = ws.login("carl", PASSWORDS["carl"])
    if kill_at:
        seen = [0]

        def hook(label):
            seen[0] += 1
            if seen[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        store._write_hook = hook
    print("ready", flush=True)
    for i in range(first, first + 10_000):
        if mode == "register":
            sue.register_account(f"acc-{{i}}", f"Holder {{i}}", "any two", {{
                "A": [scribble(1000 + i, v) for v in (1, 2, 3)],
                "B": [scribble(5000 + i, v) for v in (1, 2)],
            }})
            print(f"committed acc-{{i}}", flush=True)
        else:
            page = Image.new("L", (900, 400), 255)
            page.paste(Image.fromarray(scribble(1, 10 + i % 50)), (500, 200))
            v = carl.verify(page, "100-1", box=(500, 200, 860, 340), amount=str(i + 1))
            print(f"committed {{v.cheque_id}}", flush=True)
    """
)

#: storage checkpoints per registration: account + 2 signatories + 5 references, each row with its audit event
WRITES_PER_REGISTRATION = 16
WRITES_PER_VERIFICATION = 2


@pytest.fixture
def crash_workspace(tmp_path, fast_kdf):
    team = make_team(tmp_path / "ws")
    enrol(team)
    team.ws.close()
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(repo=str(REPO)))
    return tmp_path / "ws", script


def start(script: Path, mode: str, folder: Path, kill_at: int = 0, first: int = 0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(script), mode, str(folder), str(kill_at), str(first)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)  # fmt: skip


def committed(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines if line.startswith("committed")]


def read_until(proc: subprocess.Popen, n_committed: int, timeout: float = 120) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if len(committed(lines)) >= n_committed:
            return lines
    raise AssertionError(f"child stopped early: {lines} {proc.stderr.read() if proc.poll() is not None else ''}")


def check_database(folder: Path) -> sqlite3.Connection:
    store = Store(folder / "workspace.sqlite")  # opening recovers the WAL
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    chain = store.check_audit()
    assert chain.ok, chain
    store.close()
    return sqlite3.connect(folder / "workspace.sqlite")


def check_registrations(folder: Path, reported: list[str]) -> int:
    conn = check_database(folder)
    accounts = [r[0] for r in conn.execute("SELECT number FROM accounts WHERE number LIKE 'acc-%' ORDER BY id")]
    # every reported account is there; at most one more (killed between COMMIT and print)
    assert accounts[: len(reported)] == reported
    assert len(accounts) - len(reported) in (0, 1)
    for number in accounts:
        refs = [r[0] for r in conn.execute(
            "SELECT count(r.id) FROM signatories s JOIN accounts a ON a.id = s.account_id"
            " LEFT JOIN reference_signatures r ON r.signatory_id = s.id WHERE a.number = ? GROUP BY s.id ORDER BY s.id",
            (number,))]  # fmt: skip
        assert refs == [3, 2], f"account {number} is half-written: {refs}"
    added = conn.execute("SELECT count(*) FROM audit WHERE kind = 'account_added' AND account LIKE 'acc-%'").fetchone()[0]
    assert added == len(accounts)
    conn.close()
    return len(accounts)


def check_verifications(folder: Path, reported: list[str]) -> int:
    conn = check_database(folder)
    ids = [str(r[0]) for r in conn.execute("SELECT id FROM cheques ORDER BY id")]
    assert ids[: len(reported)] == reported and len(ids) - len(reported) in (0, 1)
    events = conn.execute("SELECT count(*) FROM audit WHERE kind = 'verified'").fetchone()[0]
    assert events == len(ids)  # no cheque without its audit event, and no event without its cheque
    conn.close()
    return len(ids)


def test_kill_inside_a_registration_transaction(crash_workspace):
    folder, script = crash_workspace
    proc = start(script, "register", folder, kill_at=2 * WRITES_PER_REGISTRATION + 9)  # mid third account
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, err
    reported = committed(out.split("\n"))
    assert reported == ["acc-0", "acc-1"]
    assert check_registrations(folder, reported) == 2


def test_kill_inside_a_verification(crash_workspace):
    folder, script = crash_workspace
    proc = start(script, "verify", folder, kill_at=3 * WRITES_PER_VERIFICATION + 1)  # cheque row written, audit not
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, err
    reported = committed(out.split("\n"))
    assert len(reported) == 3
    assert check_verifications(folder, reported) == 3


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["register", "verify"])
def test_kill_at_random_moments(crash_workspace, mode):
    folder, script = crash_workspace
    rng = random.Random(4)
    total_reported: list[str] = []
    for round_ in range(3):
        proc = start(script, mode, folder, first=1000 * round_)  # fresh account numbers each round
        lines = read_until(proc, 2)
        time.sleep(rng.uniform(0, 0.15))
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        reported = committed(lines + out.split("\n"))
        if mode == "register":
            # the unreported extra of an earlier round (killed between COMMIT and print) is legitimate
            conn = sqlite3.connect(folder / "workspace.sqlite")
            before = [r[0] for r in conn.execute(
                "SELECT number FROM accounts WHERE number LIKE 'acc-%' AND CAST(substr(number, 5) AS INTEGER) < ?"
                " ORDER BY id", (1000 * round_,))]  # fmt: skip
            conn.close()
            total_reported = before + reported
            assert check_registrations(folder, total_reported) >= len(total_reported)
        else:
            conn = sqlite3.connect(folder / "workspace.sqlite")
            earlier = [str(r[0]) for r in conn.execute("SELECT id FROM cheques WHERE id < ? ORDER BY id",
                                                       (int(reported[0]) if reported else 10**9,))]  # fmt: skip
            conn.close()
            total_reported = earlier + reported
            assert check_verifications(folder, total_reported) >= len(total_reported)
