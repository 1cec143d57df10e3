"""Verification metrics on score lists (numpy only).

Convention: a larger score means "more likely genuine", and a query is
accepted when ``score >= threshold``. Then

* FRR(t) = fraction of genuine scores ``< t`` (genuine rejected),
* FAR(t) = fraction of impostor scores ``>= t`` (forgeries accepted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curve:
    """FAR and FRR at every candidate threshold (ascending thresholds)."""

    thresholds: np.ndarray
    far: np.ndarray
    frr: np.ndarray


def error_curve(genuine: np.ndarray, impostor: np.ndarray) -> Curve:
    """Exact FAR/FRR at every distinct score (plus ±∞), ``O((n+m) log(n+m))``."""
    g = np.sort(np.asarray(genuine, np.float64))
    i = np.sort(np.asarray(impostor, np.float64))
    if g.size == 0 or i.size == 0:
        raise ValueError("need both genuine and impostor scores")
    t = np.unique(np.concatenate([g, i, [np.inf]]))
    t = np.concatenate([[-np.inf], t])
    frr = np.searchsorted(g, t, side="left") / g.size  # genuine strictly below t
    far = 1.0 - np.searchsorted(i, t, side="left") / i.size  # impostors at or above t
    return Curve(t, far, frr)


def rates_at(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """(FRR, FAR) at one threshold."""
    g, i = np.asarray(genuine), np.asarray(impostor)
    frr = float((g < threshold).mean()) if g.size else float("nan")
    far = float((i >= threshold).mean()) if i.size else float("nan")
    return frr, far


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): the point where FAR and FRR cross.

    On the step curves the two rates rarely meet exactly; the EER is the
    mean of FAR and FRR at the threshold where they are closest (the usual
    convention), and that threshold is returned.
    """
    c = error_curve(genuine, impostor)
    k = int(np.argmin(np.abs(c.far - c.frr)))
    eer = (c.far[k] + c.frr[k]) / 2
    t = c.thresholds[k]
    if not np.isfinite(t):  # perfectly separable: pick a threshold between the classes
        t = float((np.min(genuine) + np.max(impostor)) / 2)
    return float(eer), float(t)


def auc(genuine: np.ndarray, impostor: np.ndarray) -> float:
    """Area under the ROC curve = P(genuine score > impostor score) (ties count half)."""
    g, i = np.asarray(genuine, np.float64), np.asarray(impostor, np.float64)
    scores = np.concatenate([g, i])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(scores.size, np.float64)
    sorted_scores = scores[order]
    # average ranks for ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[: g.size].sum() - g.size * (g.size + 1) / 2) / (g.size * i.size))


def frr_at_far(genuine: np.ndarray, impostor: np.ndarray, far: float = 0.01) -> tuple[float, float]:
    """(FRR, threshold) at the lowest threshold whose FAR is at most ``far``."""
    c = error_curve(genuine, impostor)
    ok = np.nonzero(c.far <= far)[0]
    k = int(ok[0])
    return float(c.frr[k]), float(c.thresholds[k])


def threshold_at_far(impostor: np.ndarray, far: float) -> float:
    """The lowest threshold accepting at most ``far`` of the impostor scores."""
    i = np.sort(np.asarray(impostor, np.float64))
    n_accept = int(np.floor(far * i.size))
    if n_accept <= 0:
        return float(np.nextafter(i[-1], np.inf))
    return float(np.nextafter(i[-n_accept - 1], np.inf)) if n_accept < i.size else float(i[0])


def threshold_at_frr(genuine: np.ndarray, frr: float) -> float:
    """The highest threshold rejecting at most ``frr`` of the genuine scores."""
    g = np.sort(np.asarray(genuine, np.float64))
    n_reject = int(np.floor(frr * g.size))
    return float(g[min(n_reject, g.size - 1)])
