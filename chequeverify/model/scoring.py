"""The decision score of a query signature against an account's K references.

One function, used by ``evaluate`` and by the app (DESIGN.md): larger
means more likely genuine. Embeddings are unit-norm ``float32`` rows. The
raw similarity of a query ``q`` to references ``r_1..r_K`` is their mean
cosine, ``q·c`` with ``c`` the references' mean (not renormalised).

Methods (chosen on validation writers, recorded in the model card):

* ``"mean-cosine"``: the raw similarity;
* ``"refnorm"``: the raw similarity as a z-score of *this account's own*
  genuine variability, ``(q·c − μ_R)/σ_R``. ``μ_R, σ_R`` are the mean and
  spread of the references' leave-one-out similarities (each reference
  against the mean of the others — like the query, an average of pairwise
  cosines, so it has the same expectation), shrunk towards a prior
  (``prior_mu``, ``prior_sigma``, measured on validation writers) with the
  weight of ``prior_weight`` references. A steady hand gets a high bar, a
  variable one a lower bar, and one global threshold fits both. With one
  reference there is no spread to measure: the score is the prior's affine
  map of the cosine;
* ``"snorm"``: the raw similarity normalised against a *background cohort*
  of other writers' signatures (symmetric score normalisation:
  ``½·((s − μ_R)/σ_R + (s − μ_q)/σ_q)``, the cohort's similarities to the
  references and to the query): "how much closer than a stranger". ``top``
  > 0 keeps only the most similar cohort members (adaptive normalisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("mean-cosine", "refnorm", "snorm")
#: smallest spread a reference set may claim (avoids dividing by ~0 for near-identical specimens)
MIN_SIGMA = 0.02


@dataclass(frozen=True)
class ReferenceStats:
    """What the score needs from one reference set, computed once per set.

    ``centroid``: ``D`` mean of the K unit references; ``mu``, ``sigma``:
    the normalisation of the set (0 and 1 for ``mean-cosine``).
    """

    centroid: np.ndarray
    mu: float
    sigma: float


@dataclass(frozen=True)
class GroupStats:
    """:class:`ReferenceStats` of many reference sets at once (``G`` groups, e.g. signatories).

    ``ids``: ``G`` group labels (sorted); ``centroids``: ``G×D``; ``mu``,
    ``sigma``: ``G``; ``counts``: ``G`` references per group.
    """

    ids: np.ndarray
    centroids: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


class ScoreFunction:
    """Scores queries against reference sets (numpy; no torch needed)."""

    def __init__(
        self,
        method: str = "mean-cosine",
        cohort: np.ndarray | None = None,
        top: int = 0,
        *,
        prior_mu: float = 0.0,
        prior_sigma: float = 1.0,
        prior_weight: float = 0.0,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown score method {method!r}; known: {', '.join(METHODS)}")
        if method == "snorm" and (cohort is None or len(cohort) < 10):
            raise ValueError("score normalisation needs a cohort of at least 10 embeddings")
        if method == "refnorm" and (prior_weight <= 0 or prior_sigma <= 0):
            raise ValueError("reference normalisation needs a prior with positive weight and spread")
        self.method = method
        self.cohort = None if cohort is None else np.ascontiguousarray(cohort, np.float32)
        self.top = int(top)
        self.prior_mu = float(prior_mu)
        self.prior_sigma = float(prior_sigma)
        self.prior_weight = float(prior_weight)

    def describe(self) -> dict:
        """The parameters a model card records."""
        out: dict = {"method": self.method}
        if self.method == "snorm":
            out.update(top=self.top, cohort_size=int(len(self.cohort)))
        if self.method == "refnorm":
            out.update(prior_mu=self.prior_mu, prior_sigma=self.prior_sigma, prior_weight=self.prior_weight)
        return out

    # --- statistics ------------------------------------------------------------
    def _cohort_stats(self, sims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``…×M`` similarities to the cohort → mean and std over the (top) cohort."""
        if self.top and self.top < sims.shape[-1]:
            sims = -np.partition(-sims, self.top - 1, axis=-1)[..., : self.top]
        return sims.mean(-1), np.maximum(sims.std(-1), 1e-3)

    def group_stats(self, references: np.ndarray, groups: np.ndarray) -> GroupStats:
        """``M×D`` references labelled by ``M`` group ids → the statistics of every group (vectorised)."""
        refs = np.asarray(references, np.float32)
        if refs.ndim != 2 or len(refs) == 0:
            raise ValueError("references must be a non-empty M×D array")
        ids, inverse, counts = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
        order = np.argsort(inverse, kind="stable")
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        centroids = (np.add.reduceat(refs[order], starts, axis=0) / counts[:, None]).astype(np.float32)
        g = len(ids)
        if self.method == "mean-cosine":
            mu, sigma = np.zeros(g, np.float32), np.ones(g, np.float32)
        elif self.method == "snorm":
            mu, sigma = self._cohort_stats(centroids @ self.cohort.T)
        else:  # refnorm: leave-one-out similarities, r_i · mean(others) = (K r_i·c − |r_i|²) / (K − 1)
            k = counts[inverse].astype(np.float64)
            dots = np.einsum("ij,ij->i", refs, centroids[inverse]).astype(np.float64)
            sq = np.einsum("ij,ij->i", refs, refs).astype(np.float64)
            usable = k >= 2
            loo = np.where(usable, (k * dots - sq) / np.maximum(k - 1, 1), 0.0)
            n = np.where(counts >= 2, counts, 0).astype(np.float64)
            mean = np.bincount(inverse, loo, minlength=g) / np.maximum(n, 1)
            dev = np.where(usable, (loo - mean[inverse]) ** 2, 0.0)
            var = np.bincount(inverse, dev, minlength=g) / np.maximum(n, 1)
            w = self.prior_weight
            mu = (n * mean + w * self.prior_mu) / (n + w)
            sigma = np.sqrt((n * var + w * self.prior_sigma**2) / (n + w))
        sigma = np.maximum(np.asarray(sigma, np.float64), MIN_SIGMA if self.method == "refnorm" else 1e-3)
        return GroupStats(ids, centroids, np.asarray(mu, np.float64), sigma, counts)

    def reference_stats(self, references: np.ndarray) -> ReferenceStats:
        """``K×D`` references → :class:`ReferenceStats`."""
        refs = np.asarray(references, np.float32)
        s = self.group_stats(refs, np.zeros(len(refs), np.int64))
        return ReferenceStats(s.centroids[0], float(s.mu[0]), float(s.sigma[0]))

    # --- scores ------------------------------------------------------------------
    def _normalise(self, raw: np.ndarray, mu, sigma, queries: np.ndarray) -> np.ndarray:
        if self.method == "mean-cosine":
            return raw
        z = (raw - mu) / sigma
        if self.method == "refnorm":
            return z
        mu_q, sd_q = self._cohort_stats(queries @ self.cohort.T)
        return 0.5 * (z + (raw - mu_q) / sd_q)

    def score_many(self, queries: np.ndarray, references: np.ndarray | ReferenceStats) -> np.ndarray:
        """``N×D`` queries against one reference set (``K×D`` or its stats) → ``N`` scores."""
        stats = references if isinstance(references, ReferenceStats) else self.reference_stats(references)
        q = np.asarray(queries, np.float32)
        return np.asarray(self._normalise(q @ stats.centroid, stats.mu, stats.sigma, q), np.float64)

    def score(self, query: np.ndarray, references: np.ndarray | ReferenceStats) -> float:
        """One ``D`` query against one reference set → its score."""
        return float(self.score_many(np.asarray(query, np.float32)[None, :], references)[0])

    def score_against(self, query: np.ndarray, stats: GroupStats, rows: np.ndarray | None = None) -> np.ndarray:
        """One ``D`` query against every group of ``stats`` (or the ``rows`` given) → scores.

        One ``G×D`` product: this is what identification over a whole
        workspace costs per query once the group statistics are cached.
        """
        q = np.asarray(query, np.float32)
        if rows is None:
            centroids, mu, sigma = stats.centroids, stats.mu, stats.sigma
        else:
            centroids, mu, sigma = stats.centroids[rows], stats.mu[rows], stats.sigma[rows]
        return np.asarray(self._normalise((centroids @ q).astype(np.float64), mu, sigma, q[None, :]), np.float64)

    def score_groups(
        self, query: np.ndarray, references: np.ndarray, groups: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One query against many reference sets at once (identification).

        ``references``: ``M×D``; ``groups``: ``M`` int labels (one per
        signatory). Returns ``(group ids G, scores G)``.
        """
        stats = self.group_stats(references, groups)
        return stats.ids, self.score_against(query, stats)
