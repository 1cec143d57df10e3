"""The decision score of a query signature against an account's K references.

One function, used by ``evaluate`` and by the app (DESIGN.md): larger
means more likely genuine. Embeddings are unit-norm ``float32`` rows.

Methods (chosen on validation writers, recorded in the model card):

* ``"mean-cosine"``: the mean cosine similarity to the K references;
* ``"snorm"``: that similarity normalised against a *background cohort*
  of signatures of other (training) writers, symmetric score
  normalisation: ``½·((s − μ_R)/σ_R + (s − μ_q)/σ_q)`` where ``μ_R, σ_R``
  are the statistics of the cohort's similarities to the references and
  ``μ_q, σ_q`` those of the query's similarities to the cohort. It turns a
  raw similarity into "how much closer than a stranger", which makes one
  global threshold fit accounts whose signatures are simple or elaborate,
  steady or variable. ``top`` > 0 keeps only the ``top`` most similar
  cohort members for the statistics (adaptive normalisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReferenceStats:
    """What the score needs from a reference set, computed once per set.

    ``centroid``: ``D`` mean of the K unit references (not renormalised,
    so ``q·centroid`` is the mean cosine); ``mu``, ``sigma``: cohort
    statistics of the set (0 and 1 for ``mean-cosine``).
    """

    centroid: np.ndarray
    mu: float
    sigma: float


class ScoreFunction:
    """Scores queries against reference sets (numpy; no torch needed)."""

    def __init__(self, method: str = "mean-cosine", cohort: np.ndarray | None = None, top: int = 0) -> None:
        if method not in ("mean-cosine", "snorm"):
            raise ValueError(f"unknown score method {method!r}")
        if method == "snorm" and (cohort is None or len(cohort) < 10):
            raise ValueError("score normalisation needs a cohort of at least 10 embeddings")
        self.method = method
        self.cohort = None if cohort is None else np.ascontiguousarray(cohort, np.float32)
        self.top = int(top)

    def _stats(self, sims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``…×M`` similarities to the cohort → mean and std over the (top) cohort."""
        if self.top and self.top < sims.shape[-1]:
            sims = -np.partition(-sims, self.top - 1, axis=-1)[..., : self.top]
        return sims.mean(-1), np.maximum(sims.std(-1), 1e-3)

    def reference_stats(self, references: np.ndarray) -> ReferenceStats:
        """``K×D`` references → :class:`ReferenceStats`."""
        refs = np.asarray(references, np.float32)
        if refs.ndim != 2 or len(refs) == 0:
            raise ValueError("references must be a non-empty K×D array")
        centroid = refs.mean(0)
        if self.method == "mean-cosine":
            return ReferenceStats(centroid, 0.0, 1.0)
        mu, sigma = self._stats(self.cohort @ centroid)
        return ReferenceStats(centroid, float(mu), float(sigma))

    def score_many(self, queries: np.ndarray, references: np.ndarray | ReferenceStats) -> np.ndarray:
        """``N×D`` queries against one reference set (``K×D`` or its stats) → ``N`` scores."""
        stats = references if isinstance(references, ReferenceStats) else self.reference_stats(references)
        q = np.asarray(queries, np.float32)
        raw = q @ stats.centroid
        if self.method == "mean-cosine":
            return raw
        mu_q, sd_q = self._stats(q @ self.cohort.T)
        return 0.5 * ((raw - stats.mu) / stats.sigma + (raw - mu_q) / sd_q)

    def score(self, query: np.ndarray, references: np.ndarray | ReferenceStats) -> float:
        """One ``D`` query against one reference set → its score."""
        return float(self.score_many(np.asarray(query, np.float32)[None, :], references)[0])

    def score_groups(
        self, query: np.ndarray, references: np.ndarray, groups: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One query against many reference sets at once (identification).

        ``references``: ``M×D``; ``groups``: ``M`` int labels (one per
        signatory). Returns ``(group ids G, scores G)``. Vectorised: the
        mean cosine of a group is the query's dot product with the group
        centroid, so the cost is one ``M×D`` product and a ``G×M_c`` one.
        """
        refs = np.asarray(references, np.float32)
        ids, inverse, counts = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
        centroids = np.zeros((len(ids), refs.shape[1]), np.float32)
        np.add.at(centroids, inverse, refs)
        centroids /= counts[:, None]
        q = np.asarray(query, np.float32)
        raw = centroids @ q
        if self.method == "mean-cosine":
            return ids, raw
        mu_r, sd_r = self._stats(centroids @ self.cohort.T)
        mu_q, sd_q = self._stats((self.cohort @ q)[None, :])
        return ids, 0.5 * ((raw - mu_r) / sd_r + (raw - mu_q[0]) / sd_q[0])
