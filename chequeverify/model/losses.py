"""Metric-learning losses for the twin network.

Every loss takes a batch of embeddings ``N×D`` with, per sample, the
writer (``writers``: ``N`` int) and whether it is genuine (``genuine``: ``N``
bool; False = a skilled forgery *of that writer*). From these:

* a **positive pair** is two different genuine signatures of one writer;
* a **negative pair** is a genuine signature with anything not by its
  writer: another writer's signature (a random forgery) or a skilled
  forgery of the same writer (the hard negative the product must catch).
  Two forgeries are never paired: they say nothing about the writer.

Losses take a :class:`~chequeverify.model.distances.Distance` and respect
whether it is a similarity (larger = closer) or a distance.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from chequeverify.model.distances import CosineSimilarity, Distance


def pair_masks(writers: torch.Tensor, genuine: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``N`` writers, ``N`` genuine flags → (positive ``N×N`` bool, negative ``N×N`` bool)."""
    same = writers[:, None] == writers[None, :]
    g = genuine.bool()
    both_genuine = g[:, None] & g[None, :]
    not_self = ~torch.eye(len(writers), dtype=torch.bool, device=writers.device)
    positive = same & both_genuine & not_self
    # a genuine anchor against anything that is not a genuine of its writer
    either_genuine = g[:, None] | g[None, :]
    negative = either_genuine & ~(same & both_genuine) & not_self
    return positive, negative


class ContrastiveLoss(nn.Module):
    """Margin contrastive loss over all pairs of the batch.

    For a distance ``d``: positives pay ``max(0, d − pos_margin)²``, negatives
    ``max(0, neg_margin − d)²``. For a similarity ``s`` the roles flip:
    positives pay ``max(0, pos_margin − s)²``, negatives ``max(0, s − neg_margin)²``.
    The loss is the mean over positive pairs plus the mean over negative
    pairs that pay anything (so easy negatives do not dilute the hard ones).
    """

    def __init__(self, distance: Distance | None = None, pos_margin: float = 0.0, neg_margin: float = 1.0) -> None:
        super().__init__()
        self.distance = distance or CosineSimilarity()
        self.pos_margin = pos_margin
        self.neg_margin = neg_margin

    def forward(self, embeddings: torch.Tensor, writers: torch.Tensor, genuine: torch.Tensor) -> torch.Tensor:
        positive, negative = pair_masks(writers, genuine)
        m = self.distance.matrix(embeddings, embeddings)
        if self.distance.is_inverted:
            pos_cost = F.relu(self.pos_margin - m) ** 2
            neg_cost = F.relu(m - self.neg_margin) ** 2
        else:
            pos_cost = F.relu(m - self.pos_margin) ** 2
            neg_cost = F.relu(self.neg_margin - m) ** 2
        loss = embeddings.new_zeros(())
        if positive.any():
            loss = loss + pos_cost[positive].mean()
        active = negative & (neg_cost > 0)
        if active.any():
            loss = loss + neg_cost[active].mean()
        return loss


class TripletLoss(nn.Module):
    """Triplet loss with genuine anchors, ``max(0, d(a,p) − d(a,n) + margin)``.

    ``mining``:

    * ``"batch-hard"``: per anchor, its furthest positive and closest negative
      (Hermans et al.); with skilled forgeries in the batch the closest
      negative is usually the anchor's own forgery;
    * ``"semi-hard"``: per (anchor, positive), the closest negative that is
      still further than the positive, else the furthest negative (FaceNet):
      gentler at the start of training, which avoids the collapse to zero
      distances that batch-hard mining can cause from random weights;
    * ``"all"``: the mean over every valid triplet that pays anything.

    With a similarity the distance is taken as ``−s`` throughout.
    """

    def __init__(self, distance: Distance | None = None, margin: float = 0.2, mining: str = "batch-hard") -> None:
        super().__init__()
        if mining not in ("batch-hard", "semi-hard", "all"):
            raise ValueError(f"unknown mining {mining!r}")
        self.distance = distance or CosineSimilarity()
        self.margin = margin
        self.mining = mining

    def forward(self, embeddings: torch.Tensor, writers: torch.Tensor, genuine: torch.Tensor) -> torch.Tensor:
        positive, negative = pair_masks(writers, genuine)
        m = self.distance.matrix(embeddings, embeddings)
        d = -m if self.distance.is_inverted else m
        anchors = positive.any(1) & negative.any(1) & genuine.bool()
        if not anchors.any():
            return embeddings.new_zeros(())
        big = torch.finfo(d.dtype).max / 4
        if self.mining == "batch-hard":
            d_ap = torch.where(positive, d, torch.full_like(d, -big)).max(1).values
            d_an = torch.where(negative, d, torch.full_like(d, big)).min(1).values
            return F.relu(d_ap - d_an + self.margin)[anchors].mean()
        # triplets: a × p × n
        valid = positive[:, :, None] & negative[:, None, :] & anchors[:, None, None]
        gap = d[:, :, None] - d[:, None, :] + self.margin  # d(a,p) − d(a,n) + margin
        if self.mining == "all":
            paying = valid & (gap > 0)
            return gap[paying].mean() if paying.any() else embeddings.new_zeros(())
        # semi-hard: negatives further than the positive but inside the margin
        d_an = d[:, None, :].expand_as(gap)
        d_ap = d[:, :, None].expand_as(gap)
        semi = valid & (d_an > d_ap)
        hardest_semi = torch.where(semi, d_an, torch.full_like(gap, big)).min(2).values
        furthest = torch.where(valid, d_an, torch.full_like(gap, -big)).max(2).values
        chosen = torch.where(hardest_semi < big, hardest_semi, furthest)
        pairs = positive & anchors[:, None]
        losses = F.relu(d - chosen + self.margin)[pairs]
        return losses.mean() if losses.numel() else embeddings.new_zeros(())


class CalibrationLoss(nn.Module):
    """Variance across writers of their mean genuine-pair similarity.

    With one reference an account's score is its cosine, and one threshold
    serves every account: writers whose genuine signatures sit closer
    together than others' need a higher bar. This pulls every writer's
    mean genuine-pair cosine towards the others' (``N×D`` unit embeddings,
    ``N`` writer labels and genuine flags; writers with fewer than two
    genuine signatures in the batch are left out; 0 with fewer than two
    writers left).
    """

    def forward(self, embeddings: torch.Tensor, writers: torch.Tensor, genuine: torch.Tensor) -> torch.Tensor:
        positive, _ = pair_masks(writers, genuine)  # genuine pairs, each within one writer
        sims = embeddings @ embeddings.T
        # per writer: the sum and number of its genuine pairs (each counted twice: the mean is unchanged)
        uniq, inverse = torch.unique(writers, return_inverse=True)
        sums = sims.new_zeros(len(uniq)).index_add(0, inverse, (sims * positive).sum(1))
        counts = sims.new_zeros(len(uniq)).index_add(0, inverse, positive.sum(1).to(sims.dtype))
        usable = counts > 0
        if int(usable.sum()) < 2:
            return embeddings.new_zeros(())
        means = sums[usable] / counts[usable]
        return means.var(unbiased=False)


class ProxyClassifierLoss(nn.Module):
    """Additive-margin softmax (CosFace) over learnt class proxies.

    An auxiliary loss that trains the embedding to separate *training*
    writers; ``num_classes`` usually counts one class per writer's
    genuine signatures plus one per writer's skilled forgeries, so that a
    forgery is pulled away from the writer it imitates. Logits are
    ``scale · (cos θ − margin·[true class])`` over unit-norm proxies.
    """

    def __init__(self, num_classes: int, dim: int, scale: float = 30.0, margin: float = 0.35) -> None:
        super().__init__()
        self.proxies = nn.Parameter(torch.randn(num_classes, dim) * 0.01)
        self.scale = scale
        self.margin = margin

    def forward(self, embeddings: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        cos = F.normalize(embeddings, dim=1) @ F.normalize(self.proxies, dim=1).T
        logits = self.scale * (cos - self.margin * F.one_hot(classes, cos.shape[1]).to(cos.dtype))
        return F.cross_entropy(logits, classes)
