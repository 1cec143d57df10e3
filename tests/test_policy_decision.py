"""Thresholds, the grey zone and per-signatory adaptation (hand-computed cases)."""

from __future__ import annotations

import math

import pytest

from chequeverify.errors import InvalidInput
from chequeverify.policy import Decision, Thresholds, adapt_thresholds, decide, worst
from chequeverify.policy.decision import MAX_LOOSEN, MAX_TIGHTEN


def test_decide_uses_inclusive_accept_and_exclusive_reject():
    t = Thresholds(accept=0.8, reject=0.5)
    assert decide(0.8, t) is Decision.ACCEPT
    assert decide(0.79, t) is Decision.REFER
    assert decide(0.5, t) is Decision.REFER
    assert decide(0.4999, t) is Decision.REJECT


def test_nan_score_is_referred_to_a_human():
    assert decide(math.nan, Thresholds(0.8, 0.5)) is Decision.REFER


def test_equal_thresholds_have_no_grey_zone():
    t = Thresholds(0.6, 0.6)
    assert decide(0.6, t) is Decision.ACCEPT and decide(0.59, t) is Decision.REJECT


@pytest.mark.parametrize("accept,reject", [(0.4, 0.5), (math.nan, 0.1), (0.5, math.inf), ("x", 0.1)])
def test_malformed_thresholds_are_refused(accept, reject):
    with pytest.raises(InvalidInput):
        Thresholds(accept, reject)


def test_decision_parse_and_worst():
    assert Decision.parse(" accept ") is Decision.ACCEPT
    with pytest.raises(InvalidInput):
        Decision.parse("maybe")
    assert worst([Decision.ACCEPT, Decision.REFER]) is Decision.REFER
    assert worst([Decision.REFER, Decision.REJECT, Decision.ACCEPT]) is Decision.REJECT
    assert worst([]) is Decision.ACCEPT
    assert str(Decision.REJECT) == "REJECT"


def test_adaptation_needs_three_references():
    base = Thresholds(0.8, 0.6)
    a = adapt_thresholds(base, [0.1, 0.2])
    assert a.thresholds == base and a.shift == 0 and "fewer than" in a.reason


def test_variable_hand_lowers_only_the_reject_threshold_at_most_half_the_grey_zone():
    base = Thresholds(0.8, 0.6)  # w = 0.2
    # median 0.75: wanted = 0.75 - 0.8 - 0.1 = -0.15, clamp at -0.1
    a = adapt_thresholds(base, [0.7, 0.75, 0.9])
    assert a.shift == pytest.approx(-MAX_LOOSEN * 0.2)
    assert a.thresholds.accept == pytest.approx(0.8)  # ACCEPT never becomes easier
    assert a.thresholds.reject == pytest.approx(0.5)
    assert a.typical_score == pytest.approx(0.75) and "variable" in a.reason


def test_small_wanted_shift_is_applied_exactly():
    base = Thresholds(0.8, 0.6)
    # median 0.88: wanted = 0.88 - 0.8 - 0.1 = -0.02
    a = adapt_thresholds(base, [0.86, 0.88, 0.95])
    assert a.shift == pytest.approx(-0.02)
    assert a.thresholds.accept == 0.8 and a.thresholds.reject == pytest.approx(0.58)


def test_consistent_hand_raises_only_the_accept_threshold_at_most_a_quarter():
    base = Thresholds(0.8, 0.6)
    a = adapt_thresholds(base, [0.99, 0.99, 0.99, 0.98])
    assert a.shift == pytest.approx(MAX_TIGHTEN * 0.2)
    assert a.thresholds.accept == pytest.approx(0.85) and a.thresholds.reject == pytest.approx(0.6)
    assert "consistent" in a.reason


@pytest.mark.parametrize("scores", [[0.1] * 5, [0.5, 0.6, 0.7], [0.9] * 4, [1.0] * 10, [0.79, 0.8, 0.81]])
def test_adaptation_never_makes_accept_easier_nor_reject_harder(scores):
    base = Thresholds(0.8, 0.6)
    t = adapt_thresholds(base, scores).thresholds
    assert t.accept >= base.accept and t.reject <= base.reject


def test_non_finite_reference_scores_are_ignored():
    base = Thresholds(0.8, 0.6)
    a = adapt_thresholds(base, [math.nan, 0.9, math.inf])
    assert a.thresholds == base
