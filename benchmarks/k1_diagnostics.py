"""Where does the error with one reference (K = 1) come from? Measured on validation writers.

With one specimen, refnorm has no spread to measure and the score is an
affine map of the cosine: one global threshold for every account. This
prints, per validation set and pooled, the skilled-forgery EER at K = 1 of

* ``shipped``: the shipped score;
* ``oracle``: the cosine minus the mean cosine of *this account's own*
  genuine queries — not a method (it looks at the queries' labels), the
  bound on what calibrating one reference could give;
* ``tta``: the reference embedded as the mean of 16 small affine
  distortions of it (the training augmentation) instead of once;
* ``typical``: the prior mean moved with how typical the reference is (its
  mean cosine to the 50 nearest members of a cohort of training writers'
  signatures), ``mu0 = prior_mu + 0.5 (t - mean t)``.

The model card reports what this gave. Prints as its last line
``k1_shipped=<float> k1_oracle=<float> k1_tta=<float> k1_typical=<float>``
(pooled over the sets, percent).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from chequeverify import config
from chequeverify.model import load_model
from chequeverify.training.datasets import SignatureArrays, parse_spec
from chequeverify.training.export import embed_arrays, pick_cohort
from chequeverify.training.metrics import equal_error_rate
from chequeverify.training.train import augment_batch

VIEWS = 16
TOP = 50
TYPICALITY_WEIGHT = 0.5


def k1_scores(emb: np.ndarray, data: SignatureArrays, reference_emb: np.ndarray, offset) -> tuple[list, list]:
    """Per writer (first genuine = the reference): genuine and skilled cosines, minus ``offset(w, ref, gen)``."""
    gen, skl = [], []
    for w in range(len(data.writers)):
        g = np.nonzero((data.writer == w) & data.genuine)[0]
        f = np.nonzero((data.writer == w) & ~data.genuine)[0]
        if len(g) < 2 or not len(f):
            continue
        r = reference_emb[g[0]]
        gs, fs = emb[g[1:]] @ r, emb[f] @ r
        shift = offset(g[0], gs)
        gen.append(gs - shift), skl.append(fs - shift)
    return gen, skl


def eer_percent(gen: list, skl: list) -> float:
    return 100 * equal_error_rate(np.concatenate(gen), np.concatenate(skl))[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="model card (.json); default: the shipped model")
    args = p.parse_args()
    model = load_model(args.model)
    h, w = model.input_size
    root = config.shared_data_dir()
    net = model.network
    train = SignatureArrays.from_specs([parse_spec(str(root / s)) for s in model.card.training["data"]], h, w)
    cohort = pick_cohort(embed_arrays(net, train.images), train)
    scorer = model.scorer
    prior_mu = scorer.prior_mu if scorer.method == "refnorm" else 0.0

    def typicality(x: np.ndarray) -> np.ndarray:
        sims = x @ cohort.T
        return (-np.partition(-sims, TOP - 1, axis=1)[:, :TOP]).mean(1)

    gen = torch.Generator().manual_seed(0)
    sets = []
    for spec in model.card.training["validation"]:
        val = SignatureArrays.from_specs([parse_spec(str(root / spec))], h, w)
        emb = embed_arrays(net, val.images)
        firsts = [np.nonzero((val.writer == k) & val.genuine)[0][0] for k in range(len(val.writers))]
        tta = emb.copy()
        with torch.inference_mode():
            for i in firsts:
                x = torch.from_numpy(val.images[i]).float().div(255)[None, None].repeat(VIEWS, 1, 1, 1)
                c = net(augment_batch(x, gen)).numpy().mean(0)
                tta[i] = c / np.linalg.norm(c)
        sets.append((spec, val, emb, tta, typicality(emb), firsts))
    # one centre for every set: a deployment does not know which "set" an account belongs to
    t_mean = float(np.mean(np.concatenate([t[firsts] for *_, t, firsts in sets])))
    pooled: dict[str, tuple[list, list]] = {}
    for spec, val, emb, tta, t, _ in sets:
        variants = {
            "shipped": (emb, lambda i, gs: 0.0),
            "oracle": (emb, lambda i, gs: float(gs.mean())),
            "tta": (tta, lambda i, gs: 0.0),
            "typical": (emb, lambda i, gs, t=t: prior_mu + TYPICALITY_WEIGHT * (t[i] - t_mean)),
        }
        row = []
        for name, (refs, offset) in variants.items():
            g, s = k1_scores(emb, val, refs, offset)
            row.append(f"{name} {eer_percent(g, s):.1f}")
            pooled.setdefault(name, ([], []))
            pooled[name][0].extend(g), pooled[name][1].extend(s)
        print(f"{spec:28s} K=1 skilled EER %: " + "  ".join(row), flush=True)
    figures = {name: eer_percent(g, s) for name, (g, s) in pooled.items()}
    print("pooled                       K=1 skilled EER %: " + "  ".join(f"{n} {v:.1f}" for n, v in figures.items()))
    print(" ".join(f"k1_{n}={v:.1f}" for n, v in figures.items()))


if __name__ == "__main__":
    main()
