"""The identification index: a centroid-cosine shortlist gives the same top candidates as scoring everyone."""

from __future__ import annotations

import numpy as np
import pytest

from chequeverify.model.scoring import ScoreFunction
from chequeverify.service.workspace import IdentificationIndex


class ScorerModel:
    """Just the part of the model identification calls."""

    def __init__(self, scorer: ScoreFunction) -> None:
        self.scorer = scorer

    def score_groups(self, query, references, groups):
        return self.scorer.score_groups(query, references, groups)

    def group_stats(self, references, groups):
        return self.scorer.group_stats(references, groups)

    def score_against(self, query, stats, rows=None):
        return self.scorer.score_against(query, stats, rows)


def unit(a: np.ndarray) -> np.ndarray:
    return (a / np.linalg.norm(a, axis=-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("method", ["mean-cosine", "snorm", "refnorm"])
def test_shortlist_finds_the_exact_top_candidates(method, monkeypatch):
    rng = np.random.default_rng(1)
    groups, per, dim = 3000, 5, 64
    writers = unit(rng.normal(size=(groups, dim)))
    refs = unit(np.repeat(writers, per, axis=0) + 0.6 * rng.normal(size=(groups * per, dim)))
    labels = np.repeat(np.arange(groups) * 7 + 3, per)  # arbitrary signatory ids, sorted
    cohort = unit(rng.normal(size=(300, dim))) if method == "snorm" else None
    prior = dict(prior_mu=0.6, prior_sigma=0.15, prior_weight=3.0) if method == "refnorm" else {}
    model = ScorerModel(ScoreFunction(method, cohort, **prior))
    index = IdentificationIndex(("k",), len(refs), model.group_stats(refs, labels), np.arange(groups))
    monkeypatch.setattr(IdentificationIndex, "SHORTLIST", 300)
    for w in rng.choice(groups, 20, replace=False):
        query = unit(writers[w] + 0.6 * rng.normal(size=dim))
        ids, exact = model.score_groups(query, refs, labels)
        positions, scores = index.search(model, query, top=5)
        top_exact = ids[np.argsort(-exact)[:5]]
        top_short = labels[::per][positions[np.argsort(-scores)[:5]]]
        assert list(top_short) == list(top_exact)
        np.testing.assert_allclose(np.sort(scores)[-5:], np.sort(exact)[-5:], rtol=1e-5)
