"""Do the model's thresholds hold on each validation set, not only on their pool?

The accept threshold promises that at most 1 % of skilled forgeries reach
ACCEPT, the reject threshold that at most 2 % of genuine signatures fall in
REJECT (``chequeverify.training.export``). Measured on the validation
writers pooled over the four sets, a set with easy forgeries hides one with
hard ones. This prints, for each row of the model's thresholds (K
references) and each validation set, the share of skilled forgeries at or
above ``accept`` and of genuine signatures below ``reject``.

``--rechoose CARD.json`` applies the current rule of
:func:`chequeverify.training.export.choose_thresholds` (on every set and on
the pool) to the model's validation embeddings and writes a copy of its card
with the new thresholds (weights unchanged; the model id stays) — how the
shipped card's thresholds were re-chosen. Validation writers only: the test
writers are read by ``benchmarks/accuracy.py``.

Prints as its last line ``worst_skilled_accepted=<percent> worst_genuine_rejected=<percent>``
(the highest share over the sets and rows).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from chequeverify import config
from chequeverify.model import load_model
from chequeverify.training.datasets import SignatureArrays, parse_spec
from chequeverify.training.evaluate import protocol_scores
from chequeverify.training.export import MIN_SET_QUERIES, choose_thresholds, embed_arrays, split_by_set


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="model card (.json); default: the shipped model")
    p.add_argument("--rechoose", type=Path, metavar="CARD.json", help="write the card with re-chosen thresholds here")
    args = p.parse_args()
    model = load_model(args.model)
    h, w = model.input_size
    root = config.shared_data_dir()
    val = SignatureArrays.from_specs([parse_spec(str(root / s)) for s in model.card.training["validation"]], h, w)
    emb = embed_arrays(model.network, val.images)
    thresholds = model.card.thresholds
    if args.rechoose:
        thresholds = choose_thresholds(emb, val, model.scorer, model.card.thresholds.chosen_on)
        card = dataclasses.replace(model.card, thresholds=thresholds)
        args.rechoose.write_text(card.to_json())
        print(f"wrote {args.rechoose} (weights {card.weights_file}, model id {card.model_id})")
    parts = split_by_set(emb, val)
    print(f"{'K':>3} {'accept':>7} {'reject':>7}  " + "  ".join(f"{name:>22s}" for name in parts))
    print(f"{'':19s}  " + "  ".join(f"{'forged acc. / gen. rej.':>22s}" for _ in parts))
    worst_far = worst_frr = 0.0
    for row in thresholds.by_references:
        k = int(row["references"])
        cells = []
        for e, d in parts.values():
            s = protocol_scores(e, d, k, model.scorer)
            far = 100 * float((s.skilled >= row["accept"]).mean()) if s.skilled.size else float("nan")
            frr = 100 * float((s.genuine < row["reject"]).mean()) if s.genuine.size else float("nan")
            if s.skilled.size >= MIN_SET_QUERIES:
                worst_far = max(worst_far, far)
            if s.genuine.size >= MIN_SET_QUERIES:
                worst_frr = max(worst_frr, frr)
            cells.append(f"{far:5.1f} % / {frr:4.1f} % ({s.genuine.size:3d})")
        print(f"{k:3d} {row['accept']:7.3f} {row['reject']:7.3f}  " + "  ".join(f"{c:>22s}" for c in cells))
    print(f"(in brackets: genuine queries; a set counts for the rule with at least {MIN_SET_QUERIES} queries)")
    print(f"worst_skilled_accepted={worst_far:.1f} worst_genuine_rejected={worst_frr:.1f}")


if __name__ == "__main__":
    main()
