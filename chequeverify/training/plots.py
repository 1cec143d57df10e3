"""ROC and DET curves and score histograms, drawn with Pillow (no plotting library).

One PNG with three panels: ROC (genuine acceptance vs skilled and random
forgery acceptance), DET (FRR vs FAR on normal-deviate axes, the usual
biometric plot), and the score histograms of genuine, skilled and random
queries with the operating threshold.
"""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist

import numpy as np
from PIL import Image, ImageDraw

from chequeverify.training.metrics import error_curve

COLOURS = {"genuine": (30, 120, 40), "skilled": (200, 40, 40), "random": (40, 80, 200)}
PANEL = 360
MARGIN = 48


def _frame(draw: ImageDraw.ImageDraw, x0: int, title: str, xlabel: str, ylabel: str) -> tuple[int, int, int, int]:
    box = (x0 + MARGIN, MARGIN, x0 + PANEL - 12, PANEL - MARGIN + 20)
    draw.rectangle(box, outline=(0, 0, 0))
    draw.text((x0 + MARGIN, 16), title, fill=(0, 0, 0))
    draw.text((box[0] + 4, box[3] + 8), xlabel, fill=(0, 0, 0))
    draw.text((x0 + 4, MARGIN - 14), ylabel, fill=(0, 0, 0))
    return box


def _polyline(draw, box, xs, ys, colour) -> None:
    x0, y0, x1, y1 = box
    pts = [(x0 + float(x) * (x1 - x0), y1 - float(y) * (y1 - y0)) for x, y in zip(xs, ys)
           if np.isfinite(x) and np.isfinite(y)]
    if len(pts) > 1:
        draw.line(pts, fill=colour, width=2)


def _probit(p: np.ndarray, lo: float = 0.001, hi: float = 0.5) -> np.ndarray:
    """Rates → [0, 1] positions on a DET axis from ``lo`` to ``hi``."""
    nd = NormalDist()
    a, b = nd.inv_cdf(lo), nd.inv_cdf(hi)
    clipped = np.clip(p, lo, hi)
    return np.array([(nd.inv_cdf(float(v)) - a) / (b - a) for v in clipped])


def draw_evaluation_plot(scores, path: Path, title: str, threshold: float | None = None) -> None:
    """``scores``: a ProtocolScores (genuine, skilled, random arrays) → PNG at ``path``."""
    img = Image.new("RGB", (3 * PANEL, PANEL + 30), "white")
    d = ImageDraw.Draw(img)
    d.text((8, PANEL + 12), title, fill=(0, 0, 0))
    impostors = {"skilled": scores.skilled, "random": scores.random}
    # ROC
    box = _frame(d, 0, "ROC", "false acceptance rate", "true acceptance")
    for name, imp in impostors.items():
        if imp.size and scores.genuine.size:
            c = error_curve(scores.genuine, imp)
            _polyline(d, box, c.far[::-1], 1 - c.frr[::-1], COLOURS[name])
    # DET
    box = _frame(d, PANEL, "DET (0.1% - 50%)", "FAR", "FRR")
    for name, imp in impostors.items():
        if imp.size and scores.genuine.size:
            c = error_curve(scores.genuine, imp)
            _polyline(d, box, _probit(c.far), _probit(c.frr), COLOURS[name])
    # histograms
    box = _frame(d, 2 * PANEL, "score histograms", "score", "share")
    groups = {"genuine": scores.genuine, **impostors}
    every = np.concatenate([g for g in groups.values() if g.size])
    lo, hi = float(np.percentile(every, 0.5)), float(np.percentile(every, 99.5))
    bins = np.linspace(lo, hi + 1e-9, 41)
    hists = {n: np.histogram(np.clip(g, lo, hi), bins)[0] / max(g.size, 1) for n, g in groups.items() if g.size}
    top = max(h.max() for h in hists.values()) or 1.0
    centres = (np.arange(40) + 0.5) / 40
    for n, h in hists.items():
        _polyline(d, box, centres, h / top, COLOURS[n])
    if threshold is not None and hi > lo:
        x = box[0] + (threshold - lo) / (hi - lo) * (box[2] - box[0])
        d.line([(x, box[1]), (x, box[3])], fill=(0, 0, 0), width=1)
    for i, (n, colour) in enumerate(COLOURS.items()):
        d.text((2 * PANEL + MARGIN + 6, MARGIN + 6 + 14 * i), n, fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
