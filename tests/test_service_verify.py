"""Verification, decisions, overrides, identification, thresholds, history and export (with a fake model)."""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image

from chequeverify.errors import (
    AuthenticationFailed,
    InvalidInput,
    MandateError,
    PermissionDenied,
    SignatureNotFound,
    UnknownAccount,
    UnreadableScan,
)
from chequeverify.service import Decision
from tests.service_fixtures import cheque_with, enrol, fast_kdf, read_pdf, reset_thresholds, scribble, set_mandate, set_thresholds, snapshot, team  # noqa: F401


def png_file(tmp_path, image: Image.Image, name="cheque.png"):
    path = tmp_path / name
    image.save(path)
    return path


@pytest.fixture
def enrolled(team):
    enrol(team)  # account 100-1, signatory Ada = writer 1, references = variants 1-3
    return team


def verify(team, signature, account="100-1", seed=0, **kw):
    cheque, box = cheque_with(signature, seed=seed)
    return team.carl.verify(cheque, account, box=box, **kw)


def test_genuine_accepts_and_another_hand_does_not(enrolled):
    v = verify(enrolled, scribble(1, 7))
    assert v.decision is Decision.ACCEPT, v.reasons
    assert v.mandate.met and v.mandate.rule == "any one"
    (ada,) = v.signatories
    assert ada.attributed and ada.valid and ada.score == pytest.approx(v.score)
    assert len(ada.references) == 3 and all(r.image.ndim == 2 for r in ada.references)
    assert v.query_image.dtype == np.uint8 and v.cheque_image is not None
    assert v.thresholds.model_id == "fake-model-v1" and v.model_id == "fake-model-v1"
    assert v.final is None and v.final_decision is Decision.ACCEPT
    other = verify(enrolled, scribble(2, 1))
    assert other.decision in (Decision.REFER, Decision.REJECT)
    assert other.score < v.score


def test_the_signature_is_located_without_a_box(enrolled):
    cheque, true_box = cheque_with(scribble(1, 7), seed=3)
    v = enrolled.carl.verify(cheque, "100-1")
    x0, y0, x1, y1 = v.located.box
    tx0, ty0, tx1, ty1 = true_box
    inter = max(0, min(x1, tx1) - max(x0, tx0)) * max(0, min(y1, ty1) - max(y0, ty0))
    assert inter / ((tx1 - tx0) * (ty1 - ty0)) > 0.7
    assert not v.located.corrected and 0 <= v.located.confidence <= 1


def test_a_coarse_or_black_and_white_image_is_noted_with_the_decision(enrolled, tmp_path):
    """The clerk and the audit see what the decision was made on: CTS-2010's 100 dpi grey
    front and black-and-white images are read, and said to be what they are."""
    from chequeverify.imaging import clearing_image, save_clearing_image

    cheque, _ = cheque_with(scribble(1, 7), seed=3)
    plain = enrolled.carl.verify(cheque, "100-1")
    assert not any("image" in r for r in plain.reasons) and not plain.located.bitonal
    assert plain.located.px_per_mm == pytest.approx(200 / 25.4, rel=0.05)
    notes = {}
    for form, suffix in (("grey-100dpi", ".jpg"), ("bitonal", ".tif")):
        path = tmp_path / f"cheque{suffix}"
        save_clearing_image(clearing_image(cheque, form), path, form)
        v = enrolled.carl.verify(path, "100-1")
        notes[form] = [r for r in v.reasons if "image" in r]
        assert enrolled.carl.get_cheque(v.cheque_id).reasons == v.reasons  # kept with the cheque
    assert notes["grey-100dpi"] == ["a coarse image (about 100 dpi): genuine signatures score lower in it"]
    assert notes["bitonal"] == ["a black-and-white image: a light pen's strokes can be missing from it"]


def test_a_signatory_with_one_specimen_is_noted_with_the_decision(team):
    """One specimen cannot show how a hand varies; the clerk and the supervisors are told, once."""
    enrol(team, "200-1", "Bo", writer=2, variants=(1,), mandate="any two")
    enrol(team, "200-1", "Cy", writer=3, variants=(1, 2, 3))
    v = verify(team, scribble(2, 7), account="200-1")
    notes = [r for r in v.reasons if "specimen" in r]
    assert notes == ["Bo has one specimen: one cannot show how much a hand varies, so most genuine cheques are "
                     "referred; a supervisor should enrol more specimens"], v.reasons  # fmt: skip
    assert team.carl.get_cheque(v.cheque_id).reasons == v.reasons  # kept with the cheque
    enrol(team)  # Ada: three specimens
    assert not any("specimen" in r for r in verify(team, scribble(1, 7)).reasons)


def test_read_cheque_writes_nothing(enrolled):
    cheque, box = cheque_with(scribble(1, 7))
    before = snapshot(enrolled.ws)
    reading = enrolled.carl.read_cheque(cheque, box=box)
    assert reading.located.corrected and reading.located.box == tuple(box)
    assert reading.signature.ndim == 2 and reading.image.size == cheque.size
    assert snapshot(enrolled.ws) == before


def test_verification_is_stored_and_audited(enrolled, tmp_path):
    cheque, box = cheque_with(scribble(1, 7))
    path = png_file(tmp_path, cheque)
    v = enrolled.carl.verify(path, "100-1", amount="1,250.50", box=box)
    assert v.file_name == "cheque.png" and v.amount == Decimal("1250.50") and v.located.corrected
    again = enrolled.carl.get_cheque(v.cheque_id)
    assert again.decision is v.decision and again.score == pytest.approx(v.score)
    assert again.located.box == v.located.box and again.cheque_image is None
    assert np.array_equal(again.query_image, v.query_image)
    assert [s.name for s in again.signatories] == ["Ada"]
    event = enrolled.sue.audit_events(kind="verified")[0]
    assert event.subject == f"cheque {v.cheque_id}" and event.details["decision"] == v.decision.value
    assert event.details["file_sha256"] == v.file_sha256
    # the same file presented again is flagged
    v2 = enrolled.carl.verify(path, "100-1", box=box)
    assert v2.seen_before == (v.cheque_id,) and any("verified before" in r for r in v2.reasons)
    # … saying by whom, when and what became of it: a re-check reads apart from a cheque paid once already
    note = next(r for r in v2.reasons if "verified before" in r)
    assert f"cheque {v.cheque_id} by carl at " in note and f"model {v.decision.value}, undecided" in note
    enrolled.carl.decide(v2.cheque_id, v2.decision, "")
    v3 = enrolled.carl.verify(path, "100-1", box=box)
    note = next(r for r in v3.reasons if "verified before" in r)
    assert f"cheque {v2.cheque_id} by carl" in note and f"{v2.decision.value} by carl (final)" in note


@pytest.mark.parametrize("case", ["unknown account", "blank cheque", "unreadable", "huge", "huge pixels", "bad amount", "bad box",
                                  "watch-list", "frozen", "expired signatory", "wrong password", "clerk registers"])
def test_every_bad_input_gets_a_clear_error_and_changes_nothing(enrolled, tmp_path, case, monkeypatch):
    team = enrolled
    cheque, box = cheque_with(scribble(1, 7))
    if case == "watch-list":
        team.sue.add_account("WL", "Known forgers", watchlist=True)
    if case == "frozen":
        team.sue.set_account_status("100-1", "frozen")
    if case == "expired signatory":
        team.sue.update_signatory(team.carl.get_account("100-1").signatories[0].id, valid_until="2002-02-02")
    before = snapshot(team.ws)
    if case == "unknown account":
        with pytest.raises(UnknownAccount, match="no account 999"):
            team.carl.verify(cheque, "999", box=box)
    elif case == "blank cheque":
        blank, _ = cheque_with(None)
        with pytest.raises(SignatureNotFound):
            team.carl.verify(blank, "100-1")
    elif case == "unreadable":
        bad = tmp_path / "bad.jpg"
        bad.write_bytes(b"\xff\xd8\xff" + b"\0" * 50)
        with pytest.raises(UnreadableScan, match="^bad.jpg: "):  # the message names the clerk's file
            team.carl.verify(bad, "100-1")
    elif case == "huge":
        from chequeverify import config

        monkeypatch.setattr(config, "MAX_FILE_BYTES", 1000)
        with pytest.raises(UnreadableScan, match="largest"):
            team.carl.verify(png_file(tmp_path, cheque), "100-1")
    elif case == "huge pixels":  # a small file that would decode to 70 million pixels
        bomb = tmp_path / "bomb.png"
        Image.new("1", (10_000, 7_000), 1).save(bomb)
        with pytest.raises(UnreadableScan, match="^bomb.png: the image is too large"):
            team.carl.verify(bomb, "100-1")
    elif case == "bad amount":
        with pytest.raises(InvalidInput, match="not an amount"):
            team.carl.verify(cheque, "100-1", amount="ten", box=box)
    elif case == "bad box":
        with pytest.raises(InvalidInput, match="outside"):
            team.carl.verify(cheque, "100-1", box=(5000, 5000, 6000, 6000))
    elif case == "watch-list":
        with pytest.raises(InvalidInput, match="watch-list"):
            team.carl.verify(cheque, "WL", box=box)
    elif case == "frozen":
        with pytest.raises(InvalidInput, match="frozen"):
            team.carl.verify(cheque, "100-1", box=box)
    elif case == "expired signatory":
        with pytest.raises(MandateError, match="no valid signatory"):
            team.carl.verify(cheque, "100-1", box=box)
    elif case == "wrong password":
        with pytest.raises(AuthenticationFailed):
            team.ws.login("carl", "not-the-password")
    elif case == "clerk registers":
        with pytest.raises(PermissionDenied):
            team.carl.add_references("100-1", "Ada", [scribble(1, 9)])
    assert snapshot(team.ws) == before


def test_an_expired_signatory_is_scored_but_cannot_sign(enrolled):
    enrol(enrolled, name="Old", writer=2)
    old_id = next(s.id for s in enrolled.carl.get_account("100-1").signatories if s.name == "Old")
    enrolled.sue.update_signatory(old_id, valid_until="2003-03-03")  # authority ended after registration
    v = verify(enrolled, scribble(2, 7))
    old = next(s for s in v.signatories if s.name == "Old")
    assert not old.valid and "expired" in old.note and not old.attributed
    assert v.decision is not Decision.ACCEPT
    assert any("expired on 2003-03-03" in r for r in v.reasons)


def test_amount_tiers_and_two_signatures(enrolled):
    enrol(enrolled, name="Bob", writer=2)
    set_mandate(enrolled, "100-1", "up to 1000: any one; above 1000: any two")
    assert verify(enrolled, scribble(1, 7), amount="999").decision is Decision.ACCEPT
    big = verify(enrolled, scribble(1, 7), amount="5000")
    assert big.decision is Decision.REFER and not big.mandate.met and big.mandate.required == 2
    # two boxes, one per signature, satisfy "any two"
    page = Image.new("L", (1400, 300), 255)
    page.paste(Image.fromarray(scribble(1, 7)), (50, 80))
    page.paste(Image.fromarray(scribble(2, 7)), (800, 80))
    v = enrolled.carl.verify(page, "100-1", amount="5000", boxes=[(50, 80, 410, 220), (800, 80, 1160, 220)])
    assert v.decision is Decision.ACCEPT and v.mandate.met
    assert {s.name for s in v.signatories if s.attributed} == {"Ada", "Bob"}


def test_decide_confirm_and_override(enrolled):
    v = verify(enrolled, scribble(1, 7))
    d = enrolled.carl.decide(v.cheque_id, "accept")
    assert (d.decision, d.status, d.is_override, d.reason) == (Decision.ACCEPT, "final", False, "confirmed")
    # a final decision stays final for a clerk (refused and audited); a supervisor may change it, with a reason
    before = snapshot(enrolled.ws)
    with pytest.raises(PermissionDenied, match="already decided: ACCEPT by carl"):
        enrolled.carl.decide(v.cheque_id, "REFER", "the date is odd")
    assert enrolled.root.audit_events(kind="permission_denied")[0].details["action"] == "change a decision"
    assert snapshot(enrolled.ws)["decisions"] == before["decisions"]
    with pytest.raises(InvalidInput, match="reason"):
        enrolled.sue.decide(v.cheque_id, Decision.ACCEPT)
    d2 = enrolled.sue.decide(v.cheque_id, "REFER", "the date is odd")
    assert d2.is_override and d2.status == "final"
    assert enrolled.root.audit_events(kind="overridden")[0].details["supersedes"]["by"] == "carl"
    assert enrolled.carl.get_cheque(v.cheque_id).final.decision is Decision.REFER
    assert enrolled.carl.get_cheque(v.cheque_id).decision is Decision.ACCEPT  # the model's is kept
    with pytest.raises(UnknownAccount):
        enrolled.carl.decide(424242, "accept")
    with pytest.raises(InvalidInput):
        enrolled.carl.decide(v.cheque_id, "perhaps", "x")


def test_overriding_a_reject_needs_another_supervisor(enrolled):
    set_thresholds(enrolled, accept=0.995, reject=0.99, adapt_per_signatory=False)
    v = verify(enrolled, scribble(2, 1))
    assert v.decision is Decision.REJECT
    d = enrolled.carl.decide(v.cheque_id, "accept", "customer confirmed by phone")
    assert d.status == "awaiting_approval"
    assert [p.cheque_id for p in enrolled.sue.pending_overrides()] == [v.cheque_id]
    assert enrolled.carl.get_cheque(v.cheque_id).final_decision is Decision.REJECT  # not yet
    with pytest.raises(PermissionDenied):
        enrolled.carl.approve_override(v.cheque_id)
    ok = enrolled.sue.approve_override(v.cheque_id, "called too")
    assert ok.status == "final" and ok.reviewed_by == "sue"
    assert enrolled.carl.get_cheque(v.cheque_id).final_decision is Decision.ACCEPT
    with pytest.raises(InvalidInput, match="no override waiting"):
        enrolled.sam.approve_override(v.cheque_id)
    # a supervisor's own override needs the other supervisor; a refusal keeps the REJECT
    v2 = verify(enrolled, scribble(3, 1))
    enrolled.sue.decide(v2.cheque_id, "accept", "I know this customer")
    with pytest.raises(PermissionDenied, match="Another supervisor"):
        enrolled.sue.approve_override(v2.cheque_id)
    assert enrolled.sam.refuse_override(v2.cheque_id, "no evidence").status == "refused"
    assert enrolled.carl.get_cheque(v2.cheque_id).final_decision is Decision.REJECT
    with pytest.raises(PermissionDenied, match="refused by a supervisor"):  # no asking again and again
        enrolled.carl.decide(v2.cheque_id, "accept", "asking again")
    # a clerk may withdraw their own request while it waits
    v3 = verify(enrolled, scribble(3, 2))
    enrolled.carl.decide(v3.cheque_id, "accept", "customer confirmed by phone")
    assert enrolled.carl.decide(v3.cheque_id, "refer", "withdrawn: will check again").status == "final"
    kinds = [e.kind for e in enrolled.root.audit_events()][:6]
    assert "override_refused" in kinds and "override_requested" in kinds


def test_an_override_refused_meanwhile_is_not_approved_after_all(enrolled, monkeypatch):
    """sam (another process) refuses the override between sue's reading it and her approval's write."""
    import threading

    from chequeverify.errors import ChequeVerifyError
    from chequeverify.service import Workspace
    from tests.service_fixtures import PASSWORDS, FakeModel

    set_thresholds(enrolled, accept=0.995, reject=0.99, adapt_per_signatory=False)
    v = verify(enrolled, scribble(2, 1))
    enrolled.carl.decide(v.cheque_id, "accept", "customer confirmed by phone")
    other = Workspace.open(enrolled.path, model=FakeModel())
    sam = other.login("sam", PASSWORDS["sam"])
    store, real, outcome = enrolled.ws._store, enrolled.ws._store.latest_decision, []

    def refuse():
        try:
            outcome.append(sam.refuse_override(v.cheque_id, "no evidence").status)
        except ChequeVerifyError as exc:
            outcome.append(type(exc).__name__)

    def read_then_let_sam_in(cheque_id):
        row = real(cheque_id)
        monkeypatch.setattr(store, "latest_decision", real)
        t = threading.Thread(target=refuse)
        t.start()
        t.join(1.0)  # sam gets in now unless sue's write transaction already holds the workspace
        read_then_let_sam_in.thread = t
        return row

    monkeypatch.setattr(store, "latest_decision", read_then_let_sam_in)
    try:
        enrolled.sue.approve_override(v.cheque_id)
    except InvalidInput:
        pass
    read_then_let_sam_in.thread.join(30)
    other.close()
    kinds = [e.kind for e in enrolled.root.audit_events()]
    assert not ("override_approved" in kinds and "override_refused" in kinds), outcome
    final = enrolled.carl.get_cheque(v.cheque_id).final
    assert (final.status == "refused") == ("override_refused" in kinds)


def test_a_frozen_accounts_cheque_cannot_be_accepted_after_verification(enrolled):
    v = verify(enrolled, scribble(1, 7))
    assert v.decision is Decision.ACCEPT
    enrolled.sue.set_account_status("100-1", "frozen")
    before = snapshot(enrolled.ws)
    with pytest.raises(InvalidInput, match="frozen"):
        enrolled.carl.decide(v.cheque_id, "accept")
    assert snapshot(enrolled.ws) == before
    assert enrolled.carl.decide(v.cheque_id, "refer", "account frozen").decision is Decision.REFER


def test_history_filters_and_scores(enrolled):
    a = verify(enrolled, scribble(1, 7))
    b = verify(enrolled, scribble(2, 1))
    enrolled.carl.decide(a.cheque_id, "accept")
    assert [r.cheque_id for r in enrolled.carl.list_cheques()] == [b.cheque_id, a.cheque_id]
    assert [r.cheque_id for r in enrolled.carl.list_cheques(status="undecided")] == [b.cheque_id]
    assert [r.cheque_id for r in enrolled.carl.list_cheques(status="final")] == [a.cheque_id]
    assert enrolled.carl.list_cheques(account="nope") == []
    today = dt.date.today()
    assert len(enrolled.carl.list_cheques(since=today, until=today)) == 2
    assert enrolled.carl.list_cheques(until=today - dt.timedelta(days=1)) == []
    rec = enrolled.carl.list_cheques(status="final")[0]
    assert rec.final_decision is Decision.ACCEPT and rec.scores[0][0] == "Ada"
    hist = enrolled.carl.recent_scores()
    assert hist.scores.shape == (2,) and hist.final == (None, Decision.ACCEPT)


def test_thresholds_are_global_per_model_and_audited(enrolled):
    t = enrolled.carl.thresholds()
    assert (t.source, t.accept, t.reject) == ("model", 0.9, 0.7)
    with pytest.raises(InvalidInput, match="below the reject"):
        enrolled.sue.set_thresholds(accept=0.5, reject=0.6)
    new = set_thresholds(enrolled, accept=0.95)
    assert (new.source, new.accept, new.reject, new.changed_by) == ("workspace", 0.95, 0.7, "sue")
    v = verify(enrolled, scribble(1, 7))
    assert v.thresholds.accept == 0.95
    assert reset_thresholds(enrolled).source == "model"
    assert [e.kind for e in enrolled.sue.audit_events(kind="thresholds_changed")] == ["thresholds_changed"]


def test_per_signatory_adaptation_is_off_by_default_and_can_be_switched_on(enrolled):
    # off by default: the shipped model's score already normalises by the account's own spread
    assert enrolled.carl.thresholds().adapt_per_signatory is False
    (ada,) = verify(enrolled, scribble(1, 7)).signatories
    assert (ada.accept, ada.reject) == (0.9, 0.7) and ada.note == "model thresholds for 3 references"
    set_thresholds(enrolled, adapt_per_signatory=True)
    (ada,) = verify(enrolled, scribble(1, 7)).signatories
    assert "hand" in ada.note and (ada.accept, ada.reject) != (0.9, 0.7)
    set_thresholds(enrolled, adapt_per_signatory=False)
    (ada,) = verify(enrolled, scribble(1, 7)).signatories
    assert (ada.accept, ada.reject) == (0.9, 0.7) and "adapt" not in ada.note


def test_model_thresholds_follow_the_number_of_references(tmp_path, fast_kdf):
    from tests.service_fixtures import FakeModel, make_team

    # a model whose card has rows for 1 and 3 references (the 3-row also serves 4, 5, ...)
    t = make_team(tmp_path / "ws", FakeModel(accept=0.9, reject=0.7, by_references={1: (0.95, 0.6), 3: (0.8, 0.65)}))
    enrol(t, "100-1", "Ada", writer=1, variants=(1, 2, 3))
    enrol(t, "100-2", "Bea", writer=2, variants=(1,))
    enrol(t, "100-3", "Cy", writer=3, variants=(1, 2, 3, 4))
    seen = {}
    for number, writer in (("100-1", 1), ("100-2", 2), ("100-3", 3)):
        (s,) = verify(t, scribble(writer, 7), account=number).signatories
        seen[number] = (s.accept, s.reject, s.note)
    assert seen["100-1"] == (0.8, 0.65, "model thresholds for 3 references")
    assert seen["100-2"] == (0.95, 0.6, "model thresholds for 1 reference")
    assert seen["100-3"] == (0.8, 0.65, "model thresholds for 4 references")
    # a supervisor's workspace thresholds apply to every signatory alike
    set_thresholds(t, accept=0.85, reject=0.5)
    (s,) = verify(t, scribble(2, 7), account="100-2").signatories
    assert (s.accept, s.reject, s.note) == (0.85, 0.5, "workspace thresholds")
    # the decision follows the signatory's row, not the global thresholds
    strict = make_team(tmp_path / "ws2", FakeModel(accept=0.5, reject=0.4, by_references={3: (0.999, 0.998)}))
    enrol(strict, "100-1", "Ada", writer=1, variants=(1, 2, 3))
    v = verify(strict, scribble(1, 7))
    assert 0.5 <= v.score < 0.998 and v.decision is Decision.REJECT, v.reasons


def test_identify_judges_each_candidate_by_its_own_thresholds(tmp_path, fast_kdf):
    from tests.service_fixtures import FakeModel, make_team

    # rows: one reference → accept 0.999 (nothing passes), three or more → accept 0.8
    t = make_team(tmp_path / "ws", FakeModel(accept=0.99, reject=0.4, by_references={1: (0.999, 0.3), 3: (0.8, 0.4)}))
    t.sue.add_account("WL-1", "Known forgers", watchlist=True)
    for name, writer, variants in (("Mallory", 4, (1, 2, 3)), ("Trudy", 5, (1,))):
        t.sue.add_signatory("WL-1", name)
        for r in t.sue.add_references("WL-1", name, [scribble(writer, v) for v in variants]):
            t.sam.approve_reference(r.id)
    hit = t.carl.identify(scribble(4, 9), top=2)
    mallory = next(c for c in hit.candidates if c.signatory == "Mallory")
    assert (mallory.accept, mallory.reject, mallory.references) == (0.8, 0.4, 3)
    assert 0.8 <= mallory.score < 0.99  # a hit by its row, not by the global accept of 0.99
    assert [c.signatory for c in hit.watchlist_hits] == ["Mallory"]
    trudy = t.carl.identify(scribble(5, 9), top=2)
    top = trudy.candidates[0]
    assert top.signatory == "Trudy" and (top.accept, top.references) == (0.999, 1)
    assert trudy.watchlist_hits == ()  # one reference: its row asks for more than it scores
    # workspace thresholds apply to every candidate alike
    set_thresholds(t, accept=0.55, reject=0.2)
    assert {(c.accept, c.reject) for c in t.carl.identify(scribble(5, 9), top=2).candidates} == {(0.55, 0.2)}


def test_one_threshold_alone_does_not_silently_replace_the_models_rows(tmp_path, fast_kdf):
    from tests.service_fixtures import FakeModel, make_team

    t = make_team(tmp_path / "ws", FakeModel(accept=0.99, reject=0.4, by_references={1: (0.999, 0.3), 3: (0.8, 0.4)}))
    assert t.sue.thresholds().for_references(3) == (0.8, 0.4) and t.sue.thresholds().for_references(2) == (0.999, 0.3)
    before = snapshot(t.ws)
    with pytest.raises(InvalidInput, match="Give both"):
        t.sue.set_thresholds(reject=0.1)
    assert snapshot(t.ws) == before
    set_thresholds(t, accept=0.9, reject=0.1, adapt_per_signatory=True)
    assert t.sue.thresholds().for_references(3) == (0.9, 0.1)  # a workspace pair: every K alike
    set_thresholds(t, reject=0.2)  # now one value changes one value
    reset = reset_thresholds(t)
    assert reset.source == "model" and not reset.adapt_per_signatory and reset.for_references(3) == (0.8, 0.4)


def test_rows_per_k_change_one_value_at_a_time_and_a_stricter_one_applies_at_once(tmp_path, fast_kdf):
    from tests.service_fixtures import FakeModel, make_team

    # the pooled reject (0.4) is below the rows' rejects for 3 or more references
    t = make_team(tmp_path / "ws", FakeModel(accept=0.99, reject=0.4, by_references={1: (0.999, 0.3), 3: (0.8, 0.5)}))
    enrol(t, "100-1", "Ada", writer=1, variants=(1, 2, 3))
    # accept raised on every row, the rejects as they are: stricter for every K, so in force at once
    info = t.sue.set_thresholds(accept=0.995, by_references=[(1, 0.999, 0.3), (3, 0.805, 0.5)])
    assert info.pending is None and info.source == "workspace"
    assert info.workspace_by_references == ((1, 0.999, 0.3), (3, 0.805, 0.5))
    assert (info.accept, info.reject) == (0.995, 0.4)  # the pooled pair beside the rows
    assert info.for_references(2) == (0.999, 0.3) and info.for_references(7) == (0.805, 0.5)
    event = t.root.audit_events(kind="thresholds_changed")[0]
    assert event.details["by_references"] == {"from": [[1, 0.999, 0.3], [3, 0.8, 0.5]],
                                              "to": [[1, 0.999, 0.3], [3, 0.805, 0.5]]}  # fmt: skip
    # verification decides each signatory by its row, and a cheque keeps the rows it was decided with
    v = verify(t, scribble(1, 7))
    (s,) = v.signatories
    assert (s.accept, s.reject, s.note) == (0.805, 0.5, "workspace thresholds for 3 references")
    assert t.carl.get_cheque(v.cheque_id).thresholds.workspace_by_references == info.workspace_by_references
    # one row's reject lowered: looser for that row only, so it waits
    waiting = t.sue.set_thresholds(by_references=[(1, 0.999, 0.25), (3, 0.805, 0.5)], reason="K=1 too strict")
    assert waiting.pending is not None and waiting.workspace_by_references == info.workspace_by_references
    assert "K = 1-2: accept 0.999 → 0.999, reject 0.300 → 0.250" in waiting.pending.summary
    assert "K = 3" not in waiting.pending.summary
    t.sam.approve_change(waiting.pending.id)
    assert t.sue.thresholds().for_references(1) == (0.999, 0.25)
    # one value alone would replace the rows by one pair: refused, as for the model's rows
    with pytest.raises(InvalidInput, match="Give both"):
        t.sue.set_thresholds(accept=0.9)
    for bad in ([(1, 0.5, 0.6)], [(1, 0.9, 0.5), (1, 0.95, 0.5)], [], [(0, 0.9, 0.5)], [("x", 0.9, 0.5)]):
        with pytest.raises(InvalidInput):
            t.sue.set_thresholds(by_references=bad)
    assert reset_thresholds(t).workspace_by_references == ()


def test_the_effect_of_a_waiting_thresholds_change_is_computed_for_its_checker(enrolled):
    for k, writer in enumerate((1, 1, 2)):
        v = verify(enrolled, scribble(writer, 7 + k), seed=k)
        if writer == 2:
            enrolled.carl.decide(v.cheque_id, "REJECT", "" if v.decision is Decision.REJECT else "not her hand")
    scores = [float(x) for x in enrolled.sam.recent_scores().scores]
    change = enrolled.sue.set_thresholds(accept=min(scores) - 0.01, reject=min(scores) - 0.02,
                                         reason="accept everything").pending  # fmt: skip
    effect = enrolled.sam.thresholds_change_effect(change.id)
    assert effect.cheques == 3 and effect.after == {"ACCEPT": 3, "REFER": 0, "REJECT": 0}
    assert sum(effect.before.values()) == 3 and effect.compared_with == "thresholds"
    assert effect.now_accepted == 3 - effect.before["ACCEPT"] >= 1
    assert effect.people_rejected_now_accepted == 1
    assert effect.no_longer_rejected == effect.before["REJECT"]
    enrolled.sam.refuse_change(change.id, "no")
    adapt = enrolled.sue.set_thresholds(adapt_per_signatory=True, reason="variable hands").pending
    assert enrolled.sam.thresholds_change_effect(adapt.id) is None  # no threshold moves
    with pytest.raises(UnknownAccount):
        enrolled.sam.thresholds_change_effect(9999)


def test_identify_ranks_signatories_and_flags_watch_lists(enrolled):
    enrol(enrolled, "200-2", "Bob", writer=2)
    enrol(enrolled, "WL-1", "Forger", writer=3, mandate="any one")
    enrolled.sue.add_account("WL-2", "Known forgers", watchlist=True)
    enrolled.sue.add_signatory("WL-2", "Mallory")
    for r in enrolled.sue.add_references("WL-2", "Mallory", [scribble(4, v) for v in (1, 2, 3)]):
        enrolled.sam.approve_reference(r.id)
    set_thresholds(enrolled, accept=0.8, reject=0.6)
    result = enrolled.carl.identify(scribble(2, 8), top=3)
    assert [c.rank for c in result.candidates] == [1, 2, 3]
    assert result.candidates[0].signatory == "Bob" and result.candidates[0].account == "200-2"
    assert result.references_searched == 12 and result.signatories_searched == 4
    assert result.candidates[0].reference_image is not None
    hit = enrolled.carl.identify(scribble(4, 9))
    assert hit.candidates[0].watchlist and [c.signatory for c in hit.watchlist_hits] == ["Mallory"]
    cheque, _ = cheque_with(scribble(1, 9))
    on_cheque = enrolled.carl.identify(cheque, cheque=True, top=1)
    assert on_cheque.located is not None and on_cheque.candidates[0].signatory == "Ada"
    with pytest.raises(InvalidInput):
        enrolled.carl.identify(scribble(1, 9), top=0)
    assert enrolled.sue.audit_events(kind="identified")[0].details["watchlist_hits"] == []


def test_identify_sees_reference_changes_at_once(enrolled):
    assert enrolled.carl.identify(scribble(2, 8)).references_searched == 3
    enrol(enrolled, "200-2", "Bob", writer=2)
    assert enrolled.carl.identify(scribble(2, 8)).candidates[0].signatory == "Bob"


def test_export_never_overwrites_the_workspace_or_a_database(enrolled, tmp_path):
    import sqlite3 as sq

    verify(enrolled, scribble(1, 7))
    before = snapshot(enrolled.ws)
    for target in (enrolled.path / "workspace.sqlite", enrolled.path / "report.csv"):
        with pytest.raises(InvalidInput, match="inside the workspace folder"):
            enrolled.sue.export(target, format="csv")
    other = tmp_path / "other.db"
    sq.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(InvalidInput, match="is a database"):
        enrolled.sue.export(other, format="csv")
    with pytest.raises(InvalidInput, match="not a file"):
        enrolled.sue.export(tmp_path, format="csv")
    assert snapshot(enrolled.ws) == before
    assert enrolled.ws.login("carl", "carl-pass-1")  # the workspace still opens


def test_export_holds_every_decision(enrolled, tmp_path):
    ids = [verify(enrolled, scribble(w, 7)).cheque_id for w in (1, 2, 1)]
    enrolled.carl.decide(ids[0], "accept")
    enrolled.carl.decide(ids[1], "reject", "not her hand")
    summary = enrolled.sue.export(tmp_path / "audit.csv")
    assert summary.cheques == 3 and summary.format == "csv"
    with open(tmp_path / "audit.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["cheque_id"]) for r in rows] == ids
    assert rows[1]["clerk_decision"] == "REJECT" and rows[1]["reason"] == "not her hand"
    assert rows[2]["decision_status"] == "undecided" and rows[0]["verified_by"] == "carl"
    assert all(r["model_id"] == "fake-model-v1" and r["signatories"].startswith("Ada") for r in rows)
    enrolled.sue.export(tmp_path / "audit.pdf", since=dt.date.today(), account="100-1")
    pdf = read_pdf(tmp_path / "audit.pdf")
    for i in ids:
        assert f"Cheque {i} " in pdf.text
    assert "not her hand" in pdf.text
    assert len(pdf.images) >= 4  # query signatures and references
    assert enrolled.sue.export(tmp_path / "none.csv", until="2000-01-01").cheques == 0
    with pytest.raises(PermissionDenied):
        enrolled.carl.export(tmp_path / "x.csv")
    with pytest.raises(InvalidInput, match="format"):
        enrolled.sue.export(tmp_path / "x.docx")
    with pytest.raises(InvalidInput, match="does not exist"):
        enrolled.sue.export(tmp_path / "missing" / "x.csv")
    with pytest.raises(UnknownAccount):
        enrolled.sue.export(tmp_path / "x.csv", account="nope")
    assert not (tmp_path / "x.csv").exists()
    assert [e.kind for e in enrolled.root.audit_events(kind="export")] == ["export"] * 3


def test_audit_check_catches_direct_edits(enrolled):
    v = verify(enrolled, scribble(1, 7))
    assert enrolled.root.check_audit().ok
    conn = sqlite3.connect(enrolled.ws.db_path)
    conn.execute("DROP TRIGGER audit_no_update")
    seq = conn.execute("SELECT seq FROM audit WHERE kind = 'verified'").fetchone()[0]
    conn.execute("UPDATE audit SET details = replace(details, 'ACCEPT', 'REJECT') WHERE seq = ?", (seq,))
    conn.commit()
    conn.close()
    check = enrolled.root.check_audit()
    assert not check.ok and check.first_bad_seq == seq
    assert v.decision is Decision.ACCEPT


def test_sessions_can_be_used_from_worker_threads(enrolled):
    """The GUI verifies on a thread pool: concurrent use cases serialise on the workspace, none is lost."""
    from concurrent.futures import ThreadPoolExecutor

    cheque, box = cheque_with(scribble(1, 7))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: enrolled.carl.verify(cheque, "100-1", box=box, amount=str(i + 1)), range(8)))
        list(pool.map(lambda _: enrolled.carl.get_account("100-1"), range(8)))
    assert sorted(v.cheque_id for v in results) == list(range(1, 9))
    assert enrolled.root.check_audit().ok
    assert len(enrolled.carl.list_cheques()) == 8


def watch_list_imitating_ada(team) -> None:
    """A watch-list WL-9 whose forger's specimens imitate Ada well: her genuine-looking hand matches it too."""
    team.sue.add_account("WL-9", "Known forgers", watchlist=True)
    team.sue.add_signatory("WL-9", "Mallory")
    for r in team.sue.add_references("WL-9", "Mallory", [scribble(1, v) for v in (4, 5, 6)]):
        team.sam.approve_reference(r.id)
    set_thresholds(team, accept=0.8, reject=0.6)


def test_verification_flags_a_watch_list_match_and_refers_an_accept(enrolled):
    watch_list_imitating_ada(enrolled)
    v = verify(enrolled, scribble(1, 9))
    assert [(h.account, h.signatory, h.signature) for h in v.watchlist_hits] == [("WL-9", "Mallory", 0)]
    assert v.watchlist_hits[0].score >= v.watchlist_hits[0].accept == 0.8
    assert v.signatories[0].decision is Decision.ACCEPT  # Ada's own score passes …
    assert v.decision is Decision.REFER  # … but a person must look
    assert "watch-list" in v.reasons[0] and "Known forgers" in v.reasons[0]
    again = enrolled.carl.get_cheque(v.cheque_id)
    assert again.watchlist_hits == v.watchlist_hits and again.decision is Decision.REFER
    event = enrolled.sue.audit_events(kind="verified")[0]
    assert event.details["watchlist_hits"] == ["WL-9"] and event.details["decision"] == "REFER"
    # another hand: no hit, nothing changes
    clean = verify(enrolled, scribble(2, 9))
    assert clean.watchlist_hits == ()


def test_looser_thresholds_wait_for_a_second_supervisor_and_stricter_ones_do_not(enrolled):
    before = enrolled.sue.thresholds()
    stricter = enrolled.sue.set_thresholds(accept=0.95, reject=0.8)
    assert (stricter.accept, stricter.reject, stricter.pending) == (0.95, 0.8, None)  # at once
    with pytest.raises(InvalidInput, match="Give a reason"):  # the checker approves knowing why
        enrolled.sue.set_thresholds(accept=0.5, reject=0.3)
    waiting = enrolled.sue.set_thresholds(accept=0.5, reject=0.3, reason="the fake model's scale")
    assert (waiting.accept, waiting.reject) == (0.95, 0.8)  # not in force yet
    change = waiting.pending
    assert change.kind == "thresholds" and change.requested_by == "sue" and "looser" in change.summary
    assert "K = 1-10: accept 0.950 → 0.500, reject 0.800 → 0.300" in change.summary
    assert [c.id for c in enrolled.carl.pending_changes()] == [change.id]
    with pytest.raises(InvalidInput, match="already waiting"):
        enrolled.sue.set_thresholds(accept=0.4, reject=0.3, reason="lower still")
    with pytest.raises(PermissionDenied, match="second supervisor"):
        enrolled.sue.approve_change(change.id)
    with pytest.raises(PermissionDenied):
        enrolled.carl.approve_change(change.id)
    assert enrolled.sue.thresholds().accept == 0.95
    done = enrolled.sam.approve_change(change.id, "checked the histogram")
    assert (done.status, done.reviewed_by) == ("applied", "sam")
    now = enrolled.sue.thresholds()
    assert (now.accept, now.reject, now.pending) == (0.5, 0.3, None)
    event = enrolled.root.audit_events(kind="thresholds_changed")[0]
    assert event.user == "sue" and event.details["approved_by"] == "sam"
    with pytest.raises(InvalidInput, match="nothing to review"):
        enrolled.sam.approve_change(change.id)
    # adaptation either way can make paying easier for some signatory; its maker may withdraw the request
    on = enrolled.sue.set_thresholds(adapt_per_signatory=True, reason="variable hands").pending
    assert on is not None and "adaptation turned on" in on.summary
    assert enrolled.sue.refuse_change(on.id, "changed my mind").status == "withdrawn"
    assert not enrolled.sue.thresholds().adapt_per_signatory and before.source == "model"


def test_a_change_approved_after_what_it_was_asked_from_has_changed_is_refused(enrolled):
    loose = enrolled.sue.set_thresholds(accept=0.5, reject=0.3, reason="the fake model's scale").pending
    enrolled.sue.set_thresholds(accept=0.99, reject=0.95)  # a fraud spree: tightened at once meanwhile
    with pytest.raises(InvalidInput, match="other thresholds were in force"):
        enrolled.sam.approve_change(loose.id)
    assert enrolled.sue.thresholds().accept == 0.99  # the tightening stands
    assert enrolled.sam.refuse_change(loose.id, "stale").status == "refused"
    enrolled.sue.set_account_status("100-1", "frozen")
    back = enrolled.sue.set_account_status("100-1", "active", reason="the customer paid").pending_changes[0]
    enrolled.sam.set_account_status("100-1", "closed")  # closed meanwhile
    with pytest.raises(InvalidInput, match="the account was frozen"):
        enrolled.sam.approve_change(back.id)  # (sam is not its maker)
    assert enrolled.carl.get_account("100-1").account.status == "closed"
    enrolled.sam.refuse_change(back.id, "stale")
    # closed → frozen loosens too (a step back towards active)
    assert enrolled.sue.set_account_status("100-1", "frozen", reason="to reopen").pending_changes[0].summary == (
        "Account 100-1: closed → frozen")


def test_the_account_list_says_which_accounts_have_a_change_waiting(enrolled):
    enrol(enrolled, "200-2", "Bob", writer=2)
    assert all(a.pending_changes == () for a in enrolled.carl.list_accounts())
    (change,) = enrolled.sue.set_mandate("100-1", "all", reason="the customer's letter").pending_changes
    enrolled.sue.set_thresholds(accept=0.5, reject=0.3, reason="scale")  # workspace-wide: no account's
    listed = {a.number: a.pending_changes for a in enrolled.carl.list_accounts()}
    assert [c.id for c in listed["100-1"]] == [change.id] and listed["200-2"] == ()
    enrolled.sam.approve_change(change.id)
    assert enrolled.carl.list_accounts("100-1")[0].pending_changes == ()


def test_widening_a_signatorys_authority_on_an_account_in_use_waits(enrolled):
    ada = enrolled.carl.list_signatories("100-1")[0]
    narrowed = enrolled.sue.update_signatory(ada.id, valid_until="2020-01-01")  # narrower: at once
    assert str(narrowed.valid_until) == "2020-01-01"
    enrolled.sue.update_signatory(ada.id, valid_until="", reason="mandate renewed")  # wider: waits
    assert str(enrolled.carl.list_signatories("100-1")[0].valid_until) == "2020-01-01"
    (change,) = [c for c in enrolled.carl.pending_changes() if c.kind == "signatory"]
    assert "valid until 2020-01-01 → (none)" in change.summary
    enrolled.sam.approve_change(change.id)
    assert enrolled.carl.list_signatories("100-1")[0].valid_until is None


def test_accepting_a_watch_list_match_or_a_file_rejected_before_needs_a_supervisor(enrolled):
    watch_list_imitating_ada(enrolled)
    hit = verify(enrolled, scribble(1, 9))
    assert hit.decision is Decision.REFER and hit.watchlist_hits
    with pytest.raises(InvalidInput, match="reason"):
        enrolled.carl.decide(hit.cheque_id, "accept")
    d = enrolled.carl.decide(hit.cheque_id, "accept", "customer seen in the branch")
    assert d.status == "awaiting_approval"
    assert "watch-list" in enrolled.root.audit_events(kind="override_requested")[0].details["why_a_supervisor"]
    # a file whose earlier verification stands rejected: verifying it again does not get round the REJECT
    cheque, box = cheque_with(scribble(2, 1), seed=7)
    first = enrolled.carl.verify(cheque, "100-1", box=box)
    enrolled.carl.decide(first.cheque_id, "reject", "" if first.decision is Decision.REJECT else "not her hand")
    again = enrolled.carl.verify(cheque, "100-1", box=box)
    assert enrolled.carl.decide(again.cheque_id, "accept", "looks fine to me").status == "awaiting_approval"
    event = enrolled.root.audit_events(kind="override_requested")[0]
    assert f"rejected before (cheque {first.cheque_id})" in event.details["why_a_supervisor"]
    # nor a REFER a clerk made final: verified again (F5, another box or amount), accepting it needs a supervisor
    cheque, box = cheque_with(scribble(2, 3), seed=9)  # another hand: no watch-list match
    referred = enrolled.carl.verify(cheque, "100-1", box=box)
    enrolled.carl.decide(referred.cheque_id, "refer", "" if referred.decision is Decision.REFER else "unsure")
    again = enrolled.carl.verify(cheque, "100-1", box=box)
    d = enrolled.carl.decide(again.cheque_id, "accept", "second look, fine")
    assert d.status == "awaiting_approval"
    assert "referred before" in enrolled.root.audit_events(kind="override_requested")[0].details["why_a_supervisor"]


def test_a_mandate_change_on_an_account_in_use_and_a_reactivation_wait_for_a_second_supervisor(enrolled):
    enrolled.sue.add_account("NEW-1", "New customer")
    assert enrolled.sue.set_mandate("NEW-1", "any two").mandate == "any two"  # being set up: at once
    acc = enrolled.sue.set_mandate("100-1", "up to 1000: any one; above 1000: any two", reason="customer's letter")
    assert acc.mandate == "any one" and [c.kind for c in acc.pending_changes] == ["mandate"]
    (change,) = acc.pending_changes
    assert "'any one' → 'up to 1000: any one; above 1000: any two'" in change.summary
    assert enrolled.sam.refuse_change(change.id, "no letter on file").status == "refused"
    assert enrolled.carl.get_account("100-1").account.mandate == "any one"
    assert enrolled.sue.set_account_status("100-1", "frozen").status == "frozen"  # freezing: at once
    acc = enrolled.sue.set_account_status("100-1", "active", reason="the customer paid")
    assert acc.status == "frozen" and acc.pending_changes[0].summary == "Account 100-1: frozen → active"
    enrolled.sam.approve_change(acc.pending_changes[0].id)
    assert enrolled.carl.get_account("100-1").account.status == "active"
    kinds = [e.kind for e in enrolled.root.audit_events(account="100-1")][:4]
    assert kinds == ["change_approved", "account_status_changed", "change_requested", "account_status_changed"]
