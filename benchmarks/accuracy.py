"""Accuracy of the shipped model on the test writers of the shared splits.

Runs the evaluation protocol of ``../shared/data/README.md`` (the same code
as ``chequeverify evaluate``) for every set at K = 1 and K = 5 and prints a
Markdown table; ``--json DIR`` keeps each report, ``--card`` writes the
figures into the model card's ``metrics.test`` (the card's checksum covers
the weights only, so this does not invalidate it).

Equivalent, one set at a time::

    chequeverify evaluate ../shared/data/bhsig-bengali --writers 51-100 --references 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from chequeverify import config
from chequeverify.model import load_model
from chequeverify.model.signature_model import _resolve
from chequeverify.training.datasets import parse_spec
from chequeverify.training.protocol import evaluate_folder

#: the fixed test writers of ../shared/data/README.md
TEST_SPLITS = {
    "cedar": "46-55",
    "bhsig-bengali": "51-100",
    "bhsig-hindi": "101-160",
    "gpds-synthetic": "121-150",
}


def pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="model card (.json); default: the shipped model")
    p.add_argument("--data", type=Path, default=config.shared_data_dir())
    p.add_argument("--k", type=int, nargs="+", default=[1, 5])
    p.add_argument("--sets", nargs="+", default=list(TEST_SPLITS))
    p.add_argument("--json", type=Path, metavar="DIR", help="write one JSON report per set and K")
    p.add_argument("--card", action="store_true", help="record the figures in the model card")
    args = p.parse_args()
    model = load_model(args.model)
    rows, reports = [], {}
    for name in args.sets:
        for k in args.k:
            t0 = time.time()
            spec = parse_spec(str(args.data / name), TEST_SPLITS[name])
            r = evaluate_folder(model, spec, k)
            reports[f"{name}_k{k}"] = r
            op = r["operational"]
            rows.append(
                f"| {name} | {r['writers']} | {k} | {pct(r['eer_skilled'])} | {pct(r['eer_random'])} | "
                f"{r['auc_skilled']:.3f} | {pct(r['frr_at_far1_skilled'])} | {pct(op['frr'])} | "
                f"{pct(op['far_skilled'])} | {pct(op['far_random'])} |"
            )
            print(f"{name} K={k}: {time.time() - t0:.0f}s", flush=True)
            if args.json:
                args.json.mkdir(parents=True, exist_ok=True)
                (args.json / f"{name}_k{k}.json").write_text(json.dumps(r, indent=2) + "\n")
    print()
    used = ", ".join(f"K={k}: {model.thresholds_for(k).decision:.4f}" for k in args.k)
    print(f"Model `{model.model_id}`; operational figures at the decision threshold for K references ({used}),")
    print("chosen on validation writers.")
    print()
    print("| set | test writers | K | EER skilled % | EER random % | AUC skilled | FRR@FAR1% skilled % "
          "| FRR % | FAR skilled % | FAR random % |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print()
    print("What the app does with these queries (accept / refer / reject zones of the thresholds for K references):")
    print()
    print("| set | K | genuine: accept / refer / reject % | skilled forgeries: accept / refer / reject % "
          "| random forgeries: accept / refer / reject % |")
    print("|---|---|---|---|---|")
    for key, r in reports.items():
        z = r["zones"]
        cells = [" / ".join(pct(z[kind][zone]) for zone in ("accept", "refer", "reject")) if z[kind] else "—"
                 for kind in ("genuine", "skilled", "random")]  # fmt: skip
        print(f"| {r['set']} | {r['references']} | " + " | ".join(cells) + " |")
    if args.card:
        card_path = _resolve(args.model)
        card = json.loads(card_path.read_text())
        card.setdefault("metrics", {})["test"] = reports
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        print(f"\nrecorded in {card_path}")


if __name__ == "__main__":
    main()
