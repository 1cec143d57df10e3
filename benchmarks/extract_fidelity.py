"""How faithfully the cheque reader cuts a signature out of a cheque, on all four scripts.

Signatures of the **train and validation** writers of the four shared sets
(never the test writers) are signed onto synthetic CTS-2010 cheques
(``imaging.draw_cheque``: a security pattern, filled-in fields, printed
words under the signature field; a seed per cheque) three ways: with a
coloured pen (blue, dark blue or black, drawn by the seed); the same cheque
scanned in grey; and signed in black, the colour of the print. ``--styles``
adds the forms image clearing sends (``imaging.clearing_image``):
``grey-100dpi`` (CTS-2010's grey front image) and ``bitonal`` (its black and
white front; US image exchange), both of the coloured-pen cheque. Each cheque goes through
verification's path (``imaging.extract_signature``: locate, crop, clean)
and the result is compared with the *ideal* crop: the same ink, at the same
size, alone on white paper at 200 dpi. Resolution is therefore not part of
the figure (but for ``grey-100dpi``, whose figure includes what the coarser
image loses); what is measured is what locating and cleaning take away or
leave in. The comparison is the shipped model's: the cosine of the two
embeddings (1 = the network cannot tell them apart; genuine signatures of
one writer are about 0.7 apart).

A cheque is *damaged* when the cosine is below 0.8, and *not found* when
no signature is found (counted as damaged). ``--offset`` picks which of the
every-``--stride``-th writers are used, so that a change tuned on one
offset can be checked on another.

Prints the worst cheques, a line per set and pen, and as its last line
``mean_cos=<float> damaged=<int>/<int> not_found=<int>``.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from chequeverify import config, imaging
from chequeverify.errors import ChequeVerifyError
from chequeverify.imaging.synthetic import cheque_sized
from chequeverify.model import load_model

#: the writers of each set that are not test writers (../shared/data/README.md)
NOT_TEST = {"cedar": 45, "bhsig-bengali": 50, "bhsig-hindi": 100, "gpds-synthetic": 120}
BLACK_PEN = (25, 25, 30)
#: the pen and image of each cheque: name → (pen colour or None for the seed's, clearing image form)
STYLES = {
    "colour": (None, "scan"),
    "grey": (None, "grey"),
    "black": (BLACK_PEN, "scan"),
    "grey-100dpi": (None, "grey-100dpi"),
    "bitonal": (None, "bitonal"),
}
DEFAULT_STYLES = "colour,grey,black"
DAMAGED = 0.8


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="model card (.json); default: the shipped model")
    p.add_argument("--stride", type=int, default=3, help="every n-th writer of each set (default 3)")
    p.add_argument("--offset", type=int, default=0, help="start at this writer of each stride (default 0)")
    p.add_argument("--per-writer", type=int, default=2, help="genuine signatures per writer (default 2)")
    p.add_argument("--worst", type=int, default=10, help="list this many of the worst cheques")
    p.add_argument("--styles", default=DEFAULT_STYLES,
                   help=f"comma-separated, of {', '.join(STYLES)} (default {DEFAULT_STYLES})")
    args = p.parse_args()
    styles = args.styles.split(",")
    if unknown := [st for st in styles if st not in STYLES]:
        p.error(f"unknown style {unknown[0]!r}; known: {', '.join(STYLES)}")
    model = load_model(args.model)
    root = config.shared_data_dir()
    rows = []
    for name, last in NOT_TEST.items():
        for w in range(1 + args.offset, last + 1, args.stride):
            files = sorted((root / name / f"{w:03d}" / "genuine").iterdir())[: args.per_writer]
            for j, path in enumerate(files):
                signature = Image.open(path)
                for pen_name in styles:
                    pen, form = STYLES[pen_name]
                    cheque, box = imaging.draw_cheque(signature, holder="Account Holder", seed=w * 100 + j, pen=pen)
                    cheque = imaging.clearing_image(cheque, form)
                    # the same ink at the height it has on this cheque at 200 dpi, alone on white
                    ideal = cheque_sized(signature, box[3] - box[1])
                    try:
                        crop = imaging.extract_signature(cheque)[1]
                    except ChequeVerifyError:
                        rows.append((name, pen_name, path.name, None))
                        continue
                    a, b = model.embed([crop, ideal])
                    rows.append((name, pen_name, path.name, float(a @ b)))
    value = [-1.0 if r[3] is None else r[3] for r in rows]
    order = np.argsort(value)
    print(f"worst {args.worst}:")
    for i in order[: args.worst]:
        name, pen_name, file, cos = rows[i]
        print(f"  {name:15s} {pen_name:11s} {file:28s} {'not found' if cos is None else f'{cos:.3f}'}")
    for name in NOT_TEST:
        for pen_name in styles:
            v = np.array([value[i] for i, r in enumerate(rows) if r[0] == name and r[1] == pen_name])
            print(f"{name:15s} {pen_name:11s} n={len(v):3d} mean_cos={v.mean():.3f} damaged={(v < DAMAGED).sum()}")
    v = np.array(value)
    missing = sum(r[3] is None for r in rows)
    print(f"mean_cos={v.mean():.4f} damaged={int((v < DAMAGED).sum())}/{len(v)} not_found={missing}")


if __name__ == "__main__":
    main()
