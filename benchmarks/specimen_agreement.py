"""How often registration flags a new specimen as unlike the signatory's approved ones. Validation writers.

Registration scores each new specimen against the signatory's approved
specimens the way a cheque is scored, and flags it ("unlike the others")
when a cheque would be rejected: below the shipped reject threshold for
that number of references (``Session._agreements``; the same score and
thresholds). With five approved scans per writer (the first five genuine
images of each validation writer of the four sets), this prints the share
flagged of

* ``genuine``: the writer's later genuine scans (false alarms);
* ``skilled``: its skilled forgeries offered as specimens (a forger's
  specimen slipped into the account);
* on CEDAR, signatures cut from synthetic cheques (``imaging.draw_cheque``
  then ``imaging.extract_signature``: the twelve genuine and twelve forged
  queries per writer of ``cheque_path_cost.py``): a specimen of another kind.

Last line: ``flag_genuine=<float> flag_skilled=<float> flag_cheque_genuine=<float> flag_cheque_skilled=<float>``.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from cheque_path_cost import REFERENCES, through_cheque, writer_files  # the same cheques, beside this file

from chequeverify import config
from chequeverify.model import load_model
from chequeverify.training.datasets import SignatureArrays, parse_spec
from chequeverify.training.export import embed_arrays

APPROVED = REFERENCES


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="model card (.json); default: the shipped model")
    args = p.parse_args()
    model = load_model(args.model)
    reject = float(model.thresholds_for(APPROVED).reject)
    root = config.shared_data_dir()
    h, w = model.input_size
    flags: dict[str, list[bool]] = {"genuine": [], "skilled": [], "cheque genuine": [], "cheque skilled": []}
    for spec in model.card.training["validation"]:
        data = SignatureArrays.from_specs([parse_spec(str(root / spec))], h, w)
        emb = embed_arrays(model.network, data.images)
        for wr in range(len(data.writers)):
            g = np.nonzero((data.writer == wr) & data.genuine)[0]
            f = np.nonzero((data.writer == wr) & ~data.genuine)[0]
            if len(g) <= APPROVED:
                continue
            approved = emb[g[:APPROVED]]
            flags["genuine"] += [model.score(v, approved) < reject for v in emb[g[APPROVED:]]]
            flags["skilled"] += [model.score(v, approved) < reject for v in emb[f]]
        print(f"{spec:24s} genuine flagged {100 * np.mean(flags['genuine']):5.1f} %  skilled {100 * np.mean(flags['skilled']):5.1f} % (cumulative)")
    for spec in model.card.training["validation"]:
        if not spec.startswith("cedar:"):
            continue
        for number in parse_spec(str(root / spec)).writers or ():
            references, offered = writer_files(root / "cedar", number)
            approved = model.embed([Image.open(x) for x in references])
            for j, (is_genuine, path) in enumerate(offered):
                crop = through_cheque(Image.open(path), number * 100 + j)
                if crop is None:
                    continue  # registration refuses it with its own message
                flags["cheque genuine" if is_genuine else "cheque skilled"].append(
                    model.score(model.embed([crop])[0], approved) < reject)
    rates = {k: float(np.mean(v)) for k, v in flags.items()}
    for k, v in flags.items():
        print(f"{k:15s} flagged {100 * rates[k]:5.1f} % of {len(v)}")
    print(f"flag_genuine={rates['genuine']:.4f} flag_skilled={rates['skilled']:.4f} "
          f"flag_cheque_genuine={rates['cheque genuine']:.4f} flag_cheque_skilled={rates['cheque skilled']:.4f}")


if __name__ == "__main__":
    main()
