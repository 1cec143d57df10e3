"""Losses and distances against values computed by hand on tiny 2-D embeddings.

The batch: writer 0 has two genuine signatures a0 = (1, 0), a1 = (0.8, 0.6)
and one skilled forgery f = (0.6, 0.8); writer 1 has one genuine b = (0, 1).
Cosine similarities: a0·a1 = 0.8, a0·f = 0.6, a0·b = 0, a1·f = 0.96,
a1·b = 0.6, f·b = 0.8.
"""

from __future__ import annotations

import math

import pytest
import torch

from chequeverify.model.distances import (
    CosineSimilarity,
    DifferenceHead,
    EuclideanDistance,
    MahalanobisDistance,
)
from chequeverify.model.losses import CalibrationLoss, ContrastiveLoss, ProxyClassifierLoss, TripletLoss, pair_masks

EMB = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0]])
WRITERS = torch.tensor([0, 0, 0, 1])
GENUINE = torch.tensor([True, True, False, True])


def test_pair_masks_pair_forgeries_only_with_genuine():
    pos, neg = pair_masks(WRITERS, GENUINE)
    assert pos.nonzero().tolist() == [[0, 1], [1, 0]]
    # every pair except self-pairs and the genuine pair of writer 0 is negative
    expected_neg = {(0, 2), (2, 0), (0, 3), (3, 0), (1, 2), (2, 1), (1, 3), (3, 1), (2, 3), (3, 2)}
    assert {tuple(p) for p in neg.nonzero().tolist()} == expected_neg


def test_pair_masks_never_pair_two_forgeries():
    writers = torch.tensor([0, 0, 1])
    genuine = torch.tensor([False, False, False])
    pos, neg = pair_masks(writers, genuine)
    assert not pos.any() and not neg.any()


def test_distances_know_their_direction():
    cos, euc = CosineSimilarity(), EuclideanDistance()
    m = cos.matrix(EMB, EMB)
    assert m[0, 1].item() == pytest.approx(0.8) and m[1, 2].item() == pytest.approx(0.96)
    assert cos.is_inverted and not euc.is_inverted
    assert euc.matrix(EMB, EMB)[0, 1].item() == pytest.approx(math.sqrt(0.4), abs=1e-6)
    assert euc.pairwise(EMB[:1], EMB[3:]).item() == pytest.approx(math.sqrt(2), abs=1e-6)
    assert bool(cos.closer(torch.tensor(0.9), torch.tensor(0.1)))
    assert bool(euc.closer(torch.tensor(0.1), torch.tensor(0.9)))


def test_mahalanobis_starts_as_euclidean_and_head_is_a_matrix():
    maha = MahalanobisDistance(2)
    torch.testing.assert_close(maha.matrix(EMB, EMB), EuclideanDistance().matrix(EMB, EMB))
    head = DifferenceHead(2, hidden=4)
    m = head.matrix(EMB, EMB)
    assert m.shape == (4, 4)
    torch.testing.assert_close(m[1, 2], head.pairwise(EMB[1:2], EMB[2:3])[0])


def test_contrastive_cosine_by_hand():
    loss = ContrastiveLoss(CosineSimilarity(), pos_margin=0.9, neg_margin=0.5)
    # positives: (0.9 - 0.8)² = 0.01; paying negatives (s - 0.5)²:
    # a0f 0.01, a1f 0.2116, a1b 0.01, fb 0.09 → mean 0.0804
    assert loss(EMB, WRITERS, GENUINE).item() == pytest.approx(0.01 + 0.0804, abs=1e-6)


def test_contrastive_euclidean_by_hand():
    loss = ContrastiveLoss(EuclideanDistance(), pos_margin=0.0, neg_margin=1.0)
    # positive: d(a0,a1)² = 0.4; negatives (1 - d)² where d < 1:
    # d(a0,f) = sqrt(0.8), d(a1,f) = sqrt(0.08), d(f,b) = sqrt(0.4)
    # d(a1,b) = sqrt(0.8), d(a0,b) = sqrt(2) pays nothing
    terms = [(1 - math.sqrt(0.8)) ** 2, (1 - math.sqrt(0.08)) ** 2, (1 - math.sqrt(0.8)) ** 2, (1 - math.sqrt(0.4)) ** 2]
    assert loss(EMB, WRITERS, GENUINE).item() == pytest.approx(0.4 + sum(terms) / 4, abs=1e-5)


def test_triplet_batch_hard_by_hand():
    loss = TripletLoss(CosineSimilarity(), margin=0.3, mining="batch-hard")
    # a0: -0.8 - (-0.6) + 0.3 = 0.1 ; a1: -0.8 - (-0.96) + 0.3 = 0.46 ; b has no positive
    assert loss(EMB, WRITERS, GENUINE).item() == pytest.approx((0.1 + 0.46) / 2, abs=1e-6)


def test_triplet_semi_hard_by_hand():
    loss = TripletLoss(CosineSimilarity(), margin=0.3, mining="semi-hard")
    # (a0,a1): semi-hard negative f (sim 0.6 < 0.8): 0.1
    # (a1,a0): negatives f (0.96, harder than the positive) and b (0.6): semi-hard is b: 0.1
    assert loss(EMB, WRITERS, GENUINE).item() == pytest.approx(0.1, abs=1e-6)


def test_triplet_all_by_hand():
    loss = TripletLoss(CosineSimilarity(), margin=0.3, mining="all")
    # triplets (a, p, n) paying: (a0,a1,f) 0.1 ; (a0,a1,b) -0.5 no ;
    # (a1,a0,f) 0.46 ; (a1,a0,b) 0.1  → mean of paying = 0.22
    assert loss(EMB, WRITERS, GENUINE).item() == pytest.approx((0.1 + 0.46 + 0.1) / 3, abs=1e-6)


def test_triplet_euclidean_batch_hard_by_hand():
    loss = TripletLoss(EuclideanDistance(), margin=0.5, mining="batch-hard")
    # a0: d_ap = sqrt(0.4), closest negative f at sqrt(0.8)
    # a1: d_ap = sqrt(0.4), closest negative f at sqrt(0.08)
    a0 = max(0.0, math.sqrt(0.4) - math.sqrt(0.8) + 0.5)
    a1 = max(0.0, math.sqrt(0.4) - math.sqrt(0.08) + 0.5)
    assert loss(EMB, WRITERS, GENUINE).item() == pytest.approx((a0 + a1) / 2, abs=1e-5)


def test_triplet_without_anchors_is_zero():
    loss = TripletLoss()
    assert loss(EMB[:1], WRITERS[:1], GENUINE[:1]).item() == 0.0


def test_losses_have_gradients_that_separate_the_forgery():
    emb = EMB.clone().requires_grad_(True)
    TripletLoss(CosineSimilarity(), 0.3, "batch-hard")(emb, WRITERS, GENUINE).backward()
    # moving the forgery along -grad must lower its similarity to a1
    step = emb - 0.1 * emb.grad
    before = torch.nn.functional.cosine_similarity(EMB[1], EMB[2], dim=0)
    after = torch.nn.functional.cosine_similarity(step[1], step[2], dim=0)
    assert after < before


def test_proxy_classifier_by_hand():
    loss = ProxyClassifierLoss(num_classes=2, dim=2, scale=1.0, margin=0.0)
    with torch.no_grad():
        loss.proxies.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    x = torch.tensor([[1.0, 0.0]])
    assert loss(x, torch.tensor([0])).item() == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)
    loss.margin = 0.5
    assert loss(x, torch.tensor([0])).item() == pytest.approx(math.log(1 + math.exp(-0.5)), abs=1e-6)


def unit(deg: float) -> list[float]:
    return [math.cos(math.radians(deg)), math.sin(math.radians(deg))]


def test_calibration_is_the_variance_of_the_writers_genuine_levels():
    # writer 0: genuine at 0° and 60° (cosine 0.5), a forgery that does not count;
    # writer 1: genuine at 0°, 0° and 90° (pairs 1, 0, 0: mean 1/3); writer 2: one genuine only (left out)
    emb = torch.tensor([unit(0), unit(60), unit(30), unit(0), unit(0), unit(90), unit(45)])
    writers = torch.tensor([0, 0, 0, 1, 1, 1, 2])
    genuine = torch.tensor([1, 1, 0, 1, 1, 1, 1])
    means = torch.tensor([0.5, 1 / 3])
    expected = float(((means - means.mean()) ** 2).mean())
    assert CalibrationLoss()(emb, writers, genuine).item() == pytest.approx(expected, abs=1e-6)
    # equal levels cost nothing; one usable writer alone costs nothing
    same = torch.tensor([unit(0), unit(60), unit(10), unit(70)])
    assert CalibrationLoss()(same, torch.tensor([0, 0, 1, 1]), torch.ones(4)).item() == pytest.approx(0.0, abs=1e-6)
    assert CalibrationLoss()(emb[:3], writers[:3], genuine[:3]).item() == 0.0


def test_calibration_gradient_pulls_the_tight_writer_apart_and_the_loose_one_together():
    emb = torch.tensor([unit(0), unit(10), unit(0), unit(80)], requires_grad=True)
    loss = CalibrationLoss()(torch.nn.functional.normalize(emb, dim=1), torch.tensor([0, 0, 1, 1]), torch.ones(4))
    loss.backward()
    step = emb.detach() - 0.5 * emb.grad
    step = torch.nn.functional.normalize(step, dim=1)
    assert float(step[0] @ step[1]) < math.cos(math.radians(10))  # the tight writer's pair moves apart
    assert float(step[2] @ step[3]) > math.cos(math.radians(80))  # the loose writer's pair comes closer
