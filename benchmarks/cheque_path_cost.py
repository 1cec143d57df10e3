"""What the cheque path costs the score: the same signatures as specimen images and signed onto cheques.

For each **validation** writer of a set (``--set``, CEDAR by default:
36-45; trained on by no model and no threshold choice looks at the test
writers; the model card's split for the others) the first five genuine images
are the references; twelve later genuine signatures and twelve skilled
forgeries are scored three times: as the image itself; drawn onto a
synthetic cheque (``imaging.draw_cheque``, a seed per signature, the pen's
colour drawn among blue, dark blue and black) then located and cleaned as
verification does (``imaging.extract_signature``); and on the same cheque
signed in black, the colour of the print — where the pen crosses printed
words only shape tells them apart, the hard case of the cheque reader. A
cheque whose signature is not found counts as a miss and is left out of
its path's scores.

Prints the mean genuine and forgery score and the skilled-forgery EER of
each path, and as its last line ``eer_images=<float> eer_cheques=<float>
eer_black_pen=<float> genuine_drop=<float> not_found=<int>/<int>`` (the drop
and the misses of the cheques with the drawn pen).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from chequeverify import config, imaging
from chequeverify.errors import ChequeVerifyError
from chequeverify.model import load_model
from chequeverify.training.metrics import equal_error_rate

#: the validation writers of each set (the model card's split): no model trained on them, no threshold chose them
VALIDATION = {
    "cedar": range(36, 46),
    "bhsig-bengali": range(41, 51),
    "bhsig-hindi": range(86, 101),
    "gpds-synthetic": range(106, 121),
}
REFERENCES, QUERIES = 5, 12
#: the colour of the print on the synthetic cheques: a pen of the same colour
BLACK_PEN = (25, 25, 30)


def writer_files(cedar: Path, number: int) -> tuple[list[Path], list[tuple[bool, Path]]]:
    """One CEDAR writer: its reference files (the first five genuine) and its queries ``(is genuine, file)``."""
    genuine = sorted((cedar / f"{number:03d}" / "genuine").iterdir())
    forged = sorted((cedar / f"{number:03d}" / "forged").iterdir())
    queries = [(True, f) for f in genuine[REFERENCES + 1 : REFERENCES + 1 + QUERIES]]
    return genuine[:REFERENCES], queries + [(False, f) for f in forged[:QUERIES]]


def through_cheque(image: Image.Image, seed: int, pen: tuple[int, int, int] | None = None) -> np.ndarray | None:
    """The signature drawn onto a synthetic cheque, then located and cleaned as verification does; None if not found."""
    cheque, _ = imaging.draw_cheque(image, holder="Account Holder", bank="Demo Bank", seed=seed, pen=pen)
    try:
        return imaging.extract_signature(cheque)[1]
    except ChequeVerifyError:
        return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="model card (.json); default: the shipped model")
    p.add_argument("--set", default="cedar", choices=sorted(VALIDATION), help="signatures of (default cedar)")
    args = p.parse_args()
    model = load_model(args.model)
    root = config.shared_data_dir() / args.set
    scores = {path: {True: [], False: []} for path in ("images", "cheques", "black pen")}
    missed = {"cheques": 0, "black pen": 0}
    total = 0
    for w in VALIDATION[args.set]:
        references, queries = writer_files(root, w)
        refs = model.embed([Image.open(f) for f in references])
        for j, (is_genuine, path) in enumerate(queries):
            image = Image.open(path)
            total += 1
            scores["images"][is_genuine].append(float(model.score(model.embed([image])[0], refs)))
            for name, pen in (("cheques", None), ("black pen", BLACK_PEN)):
                crop = through_cheque(image, w * 100 + j, pen)
                if crop is None:
                    missed[name] += 1
                    continue
                scores[name][is_genuine].append(float(model.score(model.embed([crop])[0], refs)))
    eer = {}
    for name, s in scores.items():
        g, f = np.array(s[True]), np.array(s[False])
        eer[name] = equal_error_rate(g, f)[0]
        print(f"{name:9s} genuine mean {g.mean():+.3f}  forgery mean {f.mean():+.3f}  EER skilled {100 * eer[name]:.1f} %")
    drop = float(np.mean(scores["images"][True]) - np.mean(scores["cheques"][True]))
    print(f"eer_images={eer['images']:.4f} eer_cheques={eer['cheques']:.4f} eer_black_pen={eer['black pen']:.4f} "
          f"genuine_drop={drop:.3f} not_found={missed['cheques']}/{total}")  # fmt: skip


if __name__ == "__main__":
    main()
