"""Verification metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from chequeverify.training.evaluate import ProtocolScores, protocol_scores, summarise
from chequeverify.training.metrics import (
    auc,
    equal_error_rate,
    frr_at_far,
    rates_at,
    threshold_at_far,
    threshold_at_frr,
)


def test_rates_at_a_threshold():
    g, i = np.array([0.9, 0.8, 0.4, 0.7]), np.array([0.1, 0.5, 0.75, 0.2])
    frr, far = rates_at(g, i, 0.6)
    assert frr == 0.25 and far == 0.25


def test_eer_by_hand():
    g = np.array([0.9, 0.8, 0.7, 0.3])
    i = np.array([0.1, 0.2, 0.35, 0.75])
    eer, t = equal_error_rate(g, i)
    # at t in (0.35, 0.7]: FRR = 1/4 (0.3), FAR = 1/4 (0.75)
    assert eer == pytest.approx(0.25)
    assert 0.35 < t <= 0.7
    assert equal_error_rate(np.array([0.9, 0.8]), np.array([0.1, 0.2]))[0] == 0.0


def test_auc_by_hand():
    g, i = np.array([0.9, 0.6]), np.array([0.5, 0.7, 0.6])
    # pairs: 0.9 beats all 3; 0.6 beats 0.5, ties 0.6 (1/2), loses to 0.7 → (3 + 1.5) / 6
    assert auc(g, i) == pytest.approx(4.5 / 6)


def test_frr_at_far_and_threshold_helpers():
    rng = np.random.default_rng(0)
    g, i = rng.normal(2, 1, 1000), rng.normal(0, 1, 1000)
    frr, t = frr_at_far(g, i, 0.01)
    assert (i >= t).mean() <= 0.01 and abs(frr - (g < t).mean()) < 1e-12
    t_far = threshold_at_far(i, 0.05)
    assert (i >= t_far).mean() <= 0.05 and (i >= np.nextafter(t_far, -np.inf) - 1e-3).mean() > 0.04
    t_frr = threshold_at_frr(g, 0.05)
    assert (g < t_frr).mean() <= 0.05


def test_protocol_counts_and_reference_choice():
    """Two writers, K = 2: references are the first two genuine of each writer."""

    class Data:
        writers = ["s/1", "s/2"]
        writer = np.array([0, 0, 0, 0, 0, 1, 1, 1])
        genuine = np.array([True, True, True, True, False, True, True, True])

    emb = np.eye(8, 4, dtype=np.float32)
    emb[:] = 0
    emb[:, 0] = 1  # everything identical: every score is 1
    s = protocol_scores(emb, Data, 2)
    # writer 1: 2 genuine queries, 1 skilled, 1 random (writer 2's first); writer 2: 1 genuine, 0 skilled, 1 random
    assert (s.genuine.size, s.skilled.size, s.random.size, s.writers) == (3, 1, 2, 2)
    out = summarise(ProtocolScores(np.array([0.9, 0.8]), np.array([0.1]), np.array([0.2, 0.95]), 1), threshold=0.5)
    assert out["eer_skilled"] == 0.0 and out["operational"]["far_random"] == 0.5


def test_thresholds_by_references_follow_the_rule_and_never_rise_with_k():
    from types import SimpleNamespace

    from chequeverify.model import ScoreFunction
    from chequeverify.training.export import ACCEPT_FAR, thresholds_by_references

    # 30 writers, 12 genuine + 6 forgeries each, on a noisy circle: forgeries sit further from the writer
    rng = np.random.default_rng(0)
    emb, writer, genuine = [], [], []
    for w in range(30):
        centre = rng.normal(size=16)
        for g, n, noise in ((True, 12, 0.6), (False, 6, 1.1)):
            for _ in range(n):
                v = centre + rng.normal(scale=noise, size=16)
                emb.append(v / np.linalg.norm(v)), writer.append(w), genuine.append(g)
    data = SimpleNamespace(writer=np.array(writer), genuine=np.array(genuine), writers=[str(w) for w in range(30)])
    emb = np.asarray(emb, np.float32)
    rows = thresholds_by_references(emb, data, ScoreFunction("mean-cosine"))
    # K = 10 leaves 2 genuine queries per writer (60 >= 50); rows stop where the counts get too small
    assert [r["references"] for r in rows] == [1, 2, 3, 4, 5, 6, 8, 10]
    accepts = [r["accept"] for r in rows]
    assert accepts == sorted(accepts, reverse=True)
    for r in rows:
        assert r["reject"] <= r["decision"] <= r["accept"]
        scores = protocol_scores(emb, data, r["references"], ScoreFunction("mean-cosine"))
        assert (scores.skilled >= r["accept"]).mean() <= ACCEPT_FAR


def test_accept_and_reject_thresholds_hold_on_every_validation_set():
    """Pooled, an easy set hides a hard one; the rule holds the accept and reject rates on each set."""
    from types import SimpleNamespace

    from chequeverify.model import ScoreFunction
    from chequeverify.training.export import ACCEPT_FAR, MIN_SET_QUERIES, REJECT_FRR, choose_thresholds, split_by_set

    rng = np.random.default_rng(1)
    emb, writer, genuine, names = [], [], [], []
    # "easy": forgeries far from the writer; "hard": forgeries close to it (and a shakier genuine hand)
    for s, (gen_noise, forged_noise, writers) in {"easy": (0.5, 1.6, 40), "hard": (0.7, 0.9, 15)}.items():
        for w in range(writers):
            names.append(f"{s}/{w:03d}")
            centre = rng.normal(size=16)
            for g, n, noise in ((True, 12, gen_noise), (False, 8, forged_noise)):
                for _ in range(n):
                    v = centre + rng.normal(scale=noise, size=16)
                    emb.append(v / np.linalg.norm(v)), writer.append(len(names) - 1), genuine.append(g)
    data = SimpleNamespace(writer=np.array(writer), genuine=np.array(genuine), writers=names)
    emb = np.asarray(emb, np.float32)
    score = ScoreFunction("mean-cosine")
    parts = split_by_set(emb, data)
    assert sorted(parts) == ["easy", "hard"] and [len(d.writers) for _, d in parts.values()] == [40, 15]
    t = choose_thresholds(emb, data, score, "test")
    for row in t.by_references:
        k = row["references"]
        for e, d in parts.values():
            s = protocol_scores(e, d, k, score)
            assert (s.skilled >= row["accept"]).mean() <= ACCEPT_FAR  # 120+ forgeries in each set
            if s.genuine.size >= MIN_SET_QUERIES:  # the hard set at K = 10: 30 genuine queries, not counted
                assert (s.genuine < row["reject"]).mean() <= REJECT_FRR
    # the pool alone would have let more than 1 % of the hard set's forgeries through at K = 1
    pooled_only = protocol_scores(emb, data, 1, score)
    from chequeverify.training.metrics import threshold_at_far

    hard = protocol_scores(*parts["hard"], 1, score)
    assert (hard.skilled >= threshold_at_far(pooled_only.skilled, ACCEPT_FAR)).mean() > ACCEPT_FAR


def test_a_small_validation_folder_still_sets_the_accept_threshold_above_its_forgeries():
    """Under 50 forgeries no set counts on its own, but the pool always does."""
    from types import SimpleNamespace

    from chequeverify.model import ScoreFunction
    from chequeverify.training.export import choose_thresholds

    rng = np.random.default_rng(2)
    emb, writer, genuine = [], [], []
    for w in range(6):
        centre = rng.normal(size=16)
        for g, n, noise in ((True, 12, 0.6), (False, 3, 0.9)):
            for _ in range(n):
                v = centre + rng.normal(scale=noise, size=16)
                emb.append(v / np.linalg.norm(v)), writer.append(w), genuine.append(g)
    data = SimpleNamespace(writer=np.array(writer), genuine=np.array(genuine), writers=[f"bank/{w}" for w in range(6)])
    emb = np.asarray(emb, np.float32)
    score = ScoreFunction("mean-cosine")
    t = choose_thresholds(emb, data, score, "test")
    skilled = np.concatenate([protocol_scores(emb, data, k, score).skilled for k in (1, 5)])
    assert skilled.size < 50 and (skilled >= t.accept).sum() == 0 and t.accept > t.decision
