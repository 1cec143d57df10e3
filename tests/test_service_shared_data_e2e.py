"""End to end on real signatures (reads ../shared/data/cedar at run time; nothing of it is committed).

A supervisor registers an account for CEDAR test writer 046 (five specimen
images and one cropped from a cheque), a second supervisor approves; a
clerk verifies synthetic cheques (``imaging.draw_cheque``) carrying the
writer's *unseen* genuine signatures — never rejected — and its skilled
forgeries — never accepted; decisions, an override with its approval, identification
and the CSV/PDF exports follow, and the audit chain verifies.
"""

from __future__ import annotations

import csv

import pytest
from PIL import Image

from chequeverify.service import Decision, Workspace
from tests.service_fixtures import PASSWORDS, fast_kdf, read_pdf  # noqa: F401

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

WRITER, OTHER = "046", "047"


@pytest.fixture(scope="module")
def model():
    from chequeverify.model import load_model

    return load_model()


def writer_files(shared_data, writer):
    folder = shared_data / "cedar" / writer
    return sorted((folder / "genuine").iterdir()), sorted((folder / "forged").iterdir())


def test_register_verify_decide_export_on_cedar(shared_data, model, tmp_path, fast_kdf):
    from chequeverify import imaging

    genuine, forged = writer_files(shared_data, WRITER)
    other_genuine, _ = writer_files(shared_data, OTHER)
    ws = Workspace.open(tmp_path / "ws", model=model)
    ws.init("root", PASSWORDS["root"])
    root = ws.login("root", PASSWORDS["root"])
    for name, role in (("sue", "supervisor"), ("sam", "supervisor"), ("carl", "clerk")):
        root.add_user(name, role, PASSWORDS[name])
    sue, sam, carl = (ws.login(n, PASSWORDS[n]) for n in ("sue", "sam", "carl"))

    # --- registration: maker sue, checker sam ------------------------------------------------
    sue.add_account("046-001", "Writer Forty-Six", "up to 10000: any one; above 10000: any two")
    sue.add_signatory("046-001", "Writer 46")
    refs = sue.add_references("046-001", "Writer 46", genuine[:5])
    card_cheque, _ = imaging.draw_cheque(Image.open(genuine[5]), holder="Writer Forty-Six", bank="Demo Bank", seed=5)
    card_path = tmp_path / "specimen-cheque.png"
    card_cheque.save(card_path)
    refs += sue.add_references("046-001", "Writer 46", [card_path], source="cheque")
    assert [r.status for r in refs] == ["pending"] * 6
    for r in refs:
        assert sam.approve_reference(r.id).status == "active"
    sue.register_account("047-001", "Writer Forty-Seven", "any one", {"Writer 47": other_genuine[:5]})
    for r in sue.pending_references():
        sam.approve_reference(r.id)

    # --- verification by the clerk -------------------------------------------------------
    def cheque_file(src, name, seed):
        image, _ = imaging.draw_cheque(Image.open(src), holder="Writer Forty-Six", bank="Demo Bank", seed=seed)
        path = tmp_path / f"{name}.png"
        image.save(path)
        return path

    results = {}
    for i, src in enumerate(genuine[6:12]):
        v = carl.verify(cheque_file(src, f"genuine-{i}", seed=100 + i), "046-001", amount="250.00")
        results[f"genuine-{i}"] = v
    for i, src in enumerate(forged[:6]):
        v = carl.verify(cheque_file(src, f"forged-{i}", seed=200 + i), "046-001", amount="250.00")
        results[f"forged-{i}"] = v
    summary = {k: (v.decision.value, round(v.score, 4)) for k, v in results.items()}
    for v in results.values():
        assert v.model_id == model.model_id and v.mandate.rule == "any one"
    # the two costly errors never happen automatically: no genuine cheque is rejected and no
    # forgery accepted; what the model is unsure of goes to a person (REFER). With
    # signet-lite-v3 and its thresholds held on every validation set (accept from -0.265 at six
    # references), 2 of the 6 genuine cheques are accepted (0.37, 0.32) and 4 referred (-0.38 to
    # -2.41); 3 of the 6 forgeries are rejected and 3 referred (the highest at -0.73). Under the
    # thresholds chosen on the pooled validation sets (accept from -0.70) 5 genuine cheques were
    # accepted and the -0.73 forgery was 0.03 from ACCEPT; those thresholds let 9.2 % of CEDAR's
    # test forgeries through at K = 5 (model card, *Thresholds*).
    genuine_v = [results[f"genuine-{i}"] for i in range(6)]
    forged_v = [results[f"forged-{i}"] for i in range(6)]
    assert all(v.decision is not Decision.REJECT for v in genuine_v), summary
    assert all(v.decision is not Decision.ACCEPT for v in forged_v), summary
    assert sum(v.decision is Decision.ACCEPT for v in genuine_v) >= 2, summary
    assert sum(v.decision is Decision.REJECT for v in forged_v) >= 2, summary
    assert sum(v.score for v in genuine_v) / 6 > sum(v.score for v in forged_v) / 6 + 1.5, summary

    # --- decisions, an override and its approval ---------------------------------------------------
    for i in range(6):
        carl.decide(results[f"genuine-{i}"].cheque_id, "accept", "matches the specimen card")
    f0, f1 = results["forged-0"], results["forged-1"]
    carl.decide(f0.cheque_id, "reject", "forgery: pen lifts, tremor")
    d = carl.decide(f1.cheque_id, "accept", "customer confirmed by phone")
    if f1.decision is Decision.REJECT:
        assert d.status == "awaiting_approval"
        assert sue.approve_override(f1.cheque_id, "called back").status == "final"
    assert carl.get_cheque(f1.cheque_id).final_decision is Decision.ACCEPT
    assert carl.get_cheque(f1.cheque_id).decision is f1.decision  # the model's decision is kept

    # --- identification ----------------------------------------------------------------------
    who = carl.identify(Image.open(genuine[12]), top=2)
    assert who.candidates[0].account == "046-001", who.candidates
    on_cheque = carl.identify(cheque_file(other_genuine[8], "other", seed=7), cheque=True, top=1)
    assert on_cheque.candidates[0].account == "047-001"

    # --- exports hold every decision -----------------------------------------------------------
    sue.export(tmp_path / "audit.csv")
    with open(tmp_path / "audit.csv", newline="", encoding="utf-8") as fh:
        rows = {int(r["cheque_id"]): r for r in csv.DictReader(fh)}
    assert set(rows) == {v.cheque_id for v in results.values()}
    for v in results.values():
        row = rows[v.cheque_id]
        assert row["model_decision"] == v.decision.value and row["model_id"] == model.model_id
        assert row["signatories"].startswith("Writer 46") and row["verified_by"] == "carl"
    assert rows[f0.cheque_id]["clerk_decision"] == "REJECT" and "tremor" in rows[f0.cheque_id]["reason"]
    assert rows[f1.cheque_id]["clerk_decision"] == "ACCEPT"
    sue.export(tmp_path / "audit.pdf", account="046-001")
    pdf = read_pdf(tmp_path / "audit.pdf")
    for v in results.values():
        assert f"Cheque {v.cheque_id} " in pdf.text
    assert "customer confirmed by phone" in pdf.text
    assert len(pdf.images) >= len(results) + 6  # every query signature and the six references
    assert root.check_audit().ok
    ws.close()
