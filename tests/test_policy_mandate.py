"""Mandates: parsing (with clear refusals) and applying them to a cheque's signatures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chequeverify.errors import MandateError
from chequeverify.policy import Decision, Signer, Thresholds, check_feasible, evaluate, parse_amount, parse_mandate

T = Thresholds(accept=0.8, reject=0.5)


def signers(*panels):
    return [Signer(i + 1, f"s{i + 1}", p, T) for i, p in enumerate(panels)]


@pytest.mark.parametrize(
    "text,canonical",
    [
        ("any one", "any one"),
        ("Any 1", "any one"),
        ("any two", "any two"),
        ("ALL", "all"),
        ("jointly", "all"),
        ("any 1 of panel a and any 1 of panel B", "any one of panel A and any one of panel B"),
        ("any 1 from panel A + any two", "any one of panel A and any two"),
        ("up to 10000: any one; above 10000: any two", "up to 10000: any one; above 10000: any two"),
        ("up to 10,000.00: any one ; otherwise: all", "up to 10000: any one; above 10000: all"),
        ("up to 5000: any one; up to 50000: any two; above 50000: all",
         "up to 5000: any one; up to 50000: any two; above 50000: all"),
    ],
)
def test_parse_gives_canonical_text(text, canonical):
    m = parse_mandate(text)
    assert str(m) == canonical
    assert str(parse_mandate(str(m))) == canonical  # canonical text round-trips


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("some of them", "Cannot read"),
        ("any zero", "count from 1 to 10"),
        ("any 11", "count from 1 to 10"),
        ("up to 100: any one", "does not say what applies above 100"),
        ("up to 100: any one; above 200: any two", "must follow 'up to 200'"),
        ("up to 100: any one; up to 50: any two; above 50: all", "must increase"),
        ("above 100: any two", "without an 'up to' tier"),
        ("up to 100 any one; above 100: all", "lacks ':'"),
        ("up to ten: any one; above 10: all", "not an amount"),
        ("up to -5: any one; above -5: all", "not an amount"),
        ("up to 10: any one; above 10: all; up to 20: any two", "nothing may follow"),
        ("between 1 and 2: any one; above 2: all", "must start with"),
        ("up to 10: ; above 10: all", "empty rule"),
    ],
)
def test_malformed_mandates_say_why(text, words):
    with pytest.raises(MandateError) as err:
        parse_mandate(text)
    assert words in str(err.value)


def test_tier_selection_by_amount():
    m = parse_mandate("up to 10000: any one; above 10000: any two")
    assert str(m.rule_for(Decimal("10000"))[0]) == "any one"
    assert str(m.rule_for(Decimal("10000.01"))[0]) == "any two"
    rule, note = m.rule_for(None)
    assert str(rule) == "any two" and "no amount" in note


def test_any_one_follows_the_signature():
    m = parse_mandate("any one")
    s = signers(None, None)
    assert evaluate(m, s, [[0.3, 0.9]]).decision is Decision.ACCEPT
    r = evaluate(m, s, [[0.3, 0.6]])
    assert r.decision is Decision.REFER and not r.met
    r = evaluate(m, s, [[0.3, 0.2]])
    assert r.decision is Decision.REJECT
    assert r.outcomes[0].signer_id == 1  # the better of two rejects


def test_any_two_needs_two_different_signatories():
    m = parse_mandate("any two")
    s = signers(None, None, None)
    r = evaluate(m, s, [[0.9, 0.1, 0.1]])
    assert r.decision is Decision.REFER and not r.met and "1 signature found" in r.reasons[-1]
    # the same hand twice: one signature must be attributed to another signatory, whom it does not match
    r = evaluate(m, s, [[0.9, 0.1, 0.1], [0.95, 0.1, 0.1]])
    assert r.decision is Decision.REJECT and not r.met
    r = evaluate(m, s, [[0.9, 0.85, 0.1], [0.95, 0.2, 0.1]])
    # the attribution that accepts both: signature 0 -> s2, signature 1 -> s1
    assert r.decision is Decision.ACCEPT and r.met
    assert {o.signer_id for o in r.outcomes} == {1, 2}


def test_a_forged_second_signature_rejects():
    m = parse_mandate("any two")
    r = evaluate(m, signers(None, None), [[0.9, 0.1], [0.2, 0.3]])
    assert r.decision is Decision.REJECT


def test_all_needs_every_valid_signatory():
    m = parse_mandate("all")
    s = signers(None, None)
    assert evaluate(m, s, [[0.9, 0.1], [0.1, 0.9]]).decision is Decision.ACCEPT
    assert evaluate(m, s, [[0.9, 0.1]]).decision is Decision.REFER


def test_panels():
    m = parse_mandate("any 1 of panel A and any 1 of panel B")
    s = signers("A", "A", "B")
    assert evaluate(m, s, [[0.9, 0.1, 0.1], [0.1, 0.1, 0.9]]).decision is Decision.ACCEPT
    r = evaluate(m, s, [[0.9, 0.1, 0.1], [0.1, 0.9, 0.1]])  # two of panel A
    assert r.decision is Decision.REFER and not r.met


def test_amount_tier_applies():
    m = parse_mandate("up to 1000: any one; above 1000: any two")
    s = signers(None, None)
    assert evaluate(m, s, [[0.9, 0.1]], Decimal(500)).decision is Decision.ACCEPT
    assert evaluate(m, s, [[0.9, 0.1]], Decimal(5000)).decision is Decision.REFER


def test_adapted_thresholds_are_per_signer():
    m = parse_mandate("any one")
    s = [Signer(1, "loose", None, Thresholds(0.6, 0.4)), Signer(2, "strict", None, Thresholds(0.95, 0.7))]
    r = evaluate(m, s, [[0.65, 0.9]])
    # 0.65 clears the loose signer's accept threshold; 0.9 does not clear the strict one's
    assert r.decision is Decision.ACCEPT and r.outcomes[0].signer_id == 1


def test_infeasible_mandates_raise():
    with pytest.raises(MandateError, match="no valid signatory"):
        check_feasible(parse_mandate("any one"), [])
    with pytest.raises(MandateError, match="needs 2 different"):
        check_feasible(parse_mandate("any two"), signers(None))
    with pytest.raises(MandateError, match="panel B"):
        check_feasible(parse_mandate("any 1 of panel B"), signers("A"))
    # the amount picks the tier: a small cheque on a one-signatory account is fine
    check_feasible(parse_mandate("up to 10: any one; above 10: any two"), signers(None), Decimal(5))


def test_score_matrix_shape_is_checked():
    with pytest.raises(MandateError):
        evaluate(parse_mandate("any one"), signers(None, None), [[0.9]])


def test_no_signature_refers():
    r = evaluate(parse_mandate("any one"), signers(None), [])
    assert r.decision is Decision.REFER


@pytest.mark.parametrize("text,value", [
    ("10,000.50", Decimal("10000.50")), ("1,00,000", Decimal("100000")), (" 250.00 ", Decimal("250.00")),
    ("0.5", Decimal("0.5")), (10000, Decimal("10000")), (10000.5, Decimal("10000.5")),
])  # fmt: skip
def test_amounts_as_cheques_write_them(text, value):
    assert parse_amount(text) == value


@pytest.mark.parametrize("text", [
    "25.000,00",  # a decimal comma would read as 25 and pick the wrong tier
    "0", "0.00",  # not a cheque's amount
    "1,50", "1,000,00", "1e4", "-5", "10000.005", "\u0661\u0662\u0663", ".5", "NaN", "", True,
])  # fmt: skip
def test_an_ambiguous_or_malformed_amount_is_refused(text):
    with pytest.raises(MandateError):
        parse_amount(text)


def test_a_tiered_mandate_without_an_amount_says_to_give_one():
    mandate = parse_mandate("up to 10000: any one; above 10000: any two")
    one = [Signer(1, "Ada", None, Thresholds(0.9, 0.5))]
    with pytest.raises(MandateError, match="depends on the amount") as err:
        check_feasible(mandate, one)
    assert "amount" in err.value.hint
    check_feasible(mandate, one, Decimal("500"))
