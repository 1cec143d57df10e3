"""The evaluation protocol of ``../shared/data/README.md``.

For every writer with more than K genuine images in a set folder:

* references: the first K genuine images by sorted file name;
* genuine queries: the writer's remaining genuine images;
* skilled-forgery queries: all of the writer's ``forged`` images;
* random-forgery queries: the first genuine image of every other writer;
* the score of a query: the product's own score against the K references
  (:class:`~chequeverify.model.scoring.ScoreFunction`, as in the app).

Reported over all writers with one global threshold: EER (skilled and
random), AUC (genuine vs skilled), FRR at FAR = 1 % (skilled), and the
operational FRR / FAR at the threshold the model ships with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
import numpy as np

from chequeverify.model.scoring import ScoreFunction
from chequeverify.training.datasets import SignatureArrays, format_ranges, writer_number
from chequeverify.training.metrics import auc, equal_error_rate, frr_at_far, rates_at

log = logging.getLogger(__name__)


@dataclass
class ProtocolScores:
    genuine: np.ndarray
    skilled: np.ndarray
    random: np.ndarray
    writers: int


def protocol_scores(
    embeddings: np.ndarray, data: SignatureArrays, k: int, score: ScoreFunction | None = None
) -> ProtocolScores:
    """Scores of every query of the protocol; ``embeddings`` is ``N×D`` aligned with ``data``.

    ``data`` needs only ``writer`` (``N`` int), ``genuine`` (``N`` bool) and
    ``writers``; samples of a writer are in sorted file-name order.
    """
    score = score or ScoreFunction("mean-cosine")
    writer, genuine = np.asarray(data.writer), np.asarray(data.genuine, bool)
    genuine_idx = {w: np.nonzero((writer == w) & genuine)[0] for w in range(len(data.writers))}
    forged_idx = {w: np.nonzero((writer == w) & ~genuine)[0] for w in range(len(data.writers))}
    firsts = {w: g[0] for w, g in genuine_idx.items() if len(g)}
    gen, skl, rnd = [], [], []
    n_writers = 0
    for w, g in genuine_idx.items():
        if len(g) <= k:
            continue
        n_writers += 1
        stats = score.reference_stats(embeddings[g[:k]])
        gen.append(score.score_many(embeddings[g[k:]], stats))
        if len(forged_idx[w]):
            skl.append(score.score_many(embeddings[forged_idx[w]], stats))
        others = [i for v, i in firsts.items() if v != w]
        if others:
            rnd.append(score.score_many(embeddings[others], stats))

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    return ProtocolScores(cat(gen), cat(skl), cat(rnd), n_writers)


def summarise(scores: ProtocolScores, threshold: float | None = None) -> dict:
    """The figures of the protocol; rates are fractions in [0, 1]; skilled figures None without forgeries."""
    out: dict = {
        "counts": {"genuine": int(scores.genuine.size), "skilled": int(scores.skilled.size), "random": int(scores.random.size)},
        "eer_skilled": None,
        "eer_random": None,
        "auc_skilled": None,
        "frr_at_far1_skilled": None,
    }
    if scores.genuine.size and scores.skilled.size:
        out["eer_skilled"] = equal_error_rate(scores.genuine, scores.skilled)[0]
        out["auc_skilled"] = auc(scores.genuine, scores.skilled)
        out["frr_at_far1_skilled"] = frr_at_far(scores.genuine, scores.skilled, 0.01)[0]
    if scores.genuine.size and scores.random.size:
        out["eer_random"] = equal_error_rate(scores.genuine, scores.random)[0]
    if threshold is not None:
        frr, far_s = rates_at(scores.genuine, scores.skilled, threshold)
        _, far_r = rates_at(scores.genuine, scores.random, threshold)
        out["threshold"] = float(threshold)
        out["operational"] = {
            "frr": frr,
            "far_skilled": far_s if scores.skilled.size else None,
            "far_random": far_r if scores.random.size else None,
        }
    return out


def decision_zones(scores: ProtocolScores, accept: float, reject: float) -> dict:
    """Share of each kind of query in the app's three zones: ACCEPT (``>= accept``), REJECT (``< reject``), REFER.

    ``{"genuine": {"accept", "refer", "reject"}, "skilled": ..., "random": ...}``
    (fractions; a kind without queries is None).
    """
    out: dict = {}
    for kind in ("genuine", "skilled", "random"):
        v = np.asarray(getattr(scores, kind))
        if not v.size:
            out[kind] = None
            continue
        out[kind] = {"accept": float((v >= accept).mean()), "refer": float(((v >= reject) & (v < accept)).mean()),
                     "reject": float((v < reject).mean())}  # fmt: skip
    return out


def evaluation_report(
    set_name: str, writers: frozenset[int] | None, data: SignatureArrays, k: int, scores: ProtocolScores,
    threshold: float, extra: dict | None = None,
) -> dict:
    """The JSON document of ``chequeverify evaluate`` (keys fixed by the issue)."""
    numbers = writers or frozenset(n for n in (writer_number(w.split("/")[-1]) for w in data.writers) if n is not None)
    report = {"set": set_name, "writers": format_ranges(numbers), "references": k}
    report.update(summarise(scores, threshold))
    if extra:
        report.update(extra)
    return report

