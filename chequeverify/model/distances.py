"""Distances and similarities between embeddings (pytorch-metric-learning's habit).

A distance object computes a matrix between two batches of embeddings and
knows whether a larger value means *closer* (``is_inverted``: similarities)
or *further* (distances). Losses take a distance object, so the same loss
works with any of them. All inputs are ``N×D`` / ``M×D`` tensors; outputs
are ``N×M``; ``pairwise`` gives the ``N`` values of row-aligned pairs.
"""

from __future__ import annotations

import torch
from torch import nn


class Distance(nn.Module):
    #: True when larger means closer (a similarity), False for a distance
    is_inverted: bool = False

    def matrix(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # N×D, M×D → N×M
        raise NotImplementedError

    def pairwise(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # N×D, N×D → N
        raise NotImplementedError

    def closer(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """True where ``x`` means a closer pair than ``y``."""
        return x > y if self.is_inverted else x < y

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.matrix(a, b)


class EuclideanDistance(Distance):
    is_inverted = False

    def matrix(self, a, b):
        # the clamp keeps the square root differentiable at zero distance
        sq = (a * a).sum(1, keepdim=True) - 2 * a @ b.T + (b * b).sum(1)[None, :]
        return sq.clamp(min=1e-12).sqrt()

    def pairwise(self, a, b):
        return ((a - b) ** 2).sum(1).clamp(min=1e-12).sqrt()


class CosineSimilarity(Distance):
    is_inverted = True

    def matrix(self, a, b):
        return nn.functional.normalize(a, dim=1) @ nn.functional.normalize(b, dim=1).T

    def pairwise(self, a, b):
        return (nn.functional.normalize(a, dim=1) * nn.functional.normalize(b, dim=1)).sum(1)


class MahalanobisDistance(Distance):
    """``sqrt((a-b)ᵀ LᵀL (a-b))`` with a learnt ``L`` (rank ``rank``), initialised to the identity."""

    is_inverted = False

    def __init__(self, dim: int, rank: int | None = None) -> None:
        super().__init__()
        rank = rank or dim
        self.L = nn.Parameter(torch.eye(rank, dim))

    def matrix(self, a, b):
        return EuclideanDistance().matrix(a @ self.L.T, b @ self.L.T)

    def pairwise(self, a, b):
        return EuclideanDistance().pairwise(a @ self.L.T, b @ self.L.T)


class DifferenceHead(Distance):
    """A small MLP over ``|f(a) − f(b)|`` and ``f(a) ⊙ f(b)`` giving a similarity logit."""

    is_inverted = True

    def __init__(self, dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(2 * dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def pairwise(self, a, b):
        return self.mlp(torch.cat([(a - b).abs(), a * b], dim=1)).squeeze(1)

    def matrix(self, a, b):
        n, m = a.shape[0], b.shape[0]
        aa = a[:, None, :].expand(n, m, -1).reshape(n * m, -1)
        bb = b[None, :, :].expand(n, m, -1).reshape(n * m, -1)
        return self.pairwise(aa, bb).reshape(n, m)


class FeatureMapHead(nn.Module):
    """A learnt metric over the *spatial* difference of two feature maps.

    ``|f(a) − f(b)|`` and ``f(a) ⊙ f(b)`` are compared position by position
    (the twin network's feature maps before pooling, ``N×C×h×w``), so that
    local evidence — a stroke drawn differently in one place, the tremor of
    a copied loop — is not averaged away before the comparison, as it is
    with pooled embeddings. Output: ``N`` similarity logits (larger = same
    writer). ``is_inverted`` in the sense of :class:`Distance`.
    """

    is_inverted = True

    def __init__(self, channels: int, hidden: int = 64) -> None:
        super().__init__()
        self.reduce = nn.Sequential(nn.Conv2d(2 * channels, hidden, 1), nn.ReLU(inplace=True))
        self.mix = nn.Sequential(nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(inplace=True))
        self.out = nn.Linear(2 * hidden, 1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x = torch.cat([(a - b).abs(), a * b], dim=1)
        x = self.mix(self.reduce(x))
        pooled = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)
        return self.out(pooled).squeeze(1)


DISTANCES = {
    "euclidean": EuclideanDistance,
    "cosine": CosineSimilarity,
    "mahalanobis": MahalanobisDistance,
    "difference-head": DifferenceHead,
}
