"""How well the cheque reader finds the signature on the 56 real IDRBT cheques.

``../shared/data/cheques/idrbt/labels.csv`` holds the hand-checked box of
the signature ink on each scan; this locates the signature on every scan
(``chequeverify.imaging.locate_signature``, no per-file tuning) and compares
the boxes by intersection over union. ``--as FORM`` reads each scan in the
form image clearing sends it (``imaging.clearing_image``): ``grey``,
``grey-100dpi`` (CTS-2010's grey front image; the true boxes are scaled
with it) or ``bitonal`` (CTS-2010's black-and-white front, 200 dpi; US
image exchange); ``--grey`` is ``--as grey``.

Prints one line per cheque with ``-v``, and as its last line
``found=<int>/<int> mean_iou=<float> median_iou=<float>`` (found: IoU ≥ 0.5).
"""

from __future__ import annotations

import argparse
import csv
import statistics

from chequeverify import config
from chequeverify.errors import ChequeVerifyError
from chequeverify.imaging import CLEARING_FORMS, clearing_image, load_scan, locate_signature


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two ``(x0, y0, x1, y1)`` boxes (x1, y1 exclusive)."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="one line per cheque")
    p.add_argument("--as", dest="form", choices=CLEARING_FORMS, default="scan",
                   help="read each scan in the form image clearing sends it")
    p.add_argument("--grey", action="store_const", dest="form", const="grey", help="the same as --as grey")
    args = p.parse_args()
    folder = config.shared_data_dir() / "cheques" / "idrbt"
    with open(folder / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    scores = []
    for row in rows:
        truth = tuple(int(row[k]) for k in ("box_x0", "box_y0", "box_x1", "box_y1"))
        try:
            scan = load_scan(folder / row["file"])
            image = clearing_image(scan, args.form)
            if image.size != scan.size:  # the true box in the pixels of the image read
                sx, sy = image.width / scan.width, image.height / scan.height
                truth = (round(truth[0] * sx), round(truth[1] * sy), round(truth[2] * sx), round(truth[3] * sy))
            box, note = locate_signature(image).box, ""
            value = iou(box, truth)
        except ChequeVerifyError as exc:
            value, note = 0.0, f" ({exc})"
        scores.append(value)
        if args.verbose:
            print(f"{row['file']}: IoU {value:.3f}{note}")
    found = sum(v >= 0.5 for v in scores)
    print(f"found={found}/{len(scores)} mean_iou={statistics.fmean(scores):.3f} median_iou={statistics.median(scores):.3f}")


if __name__ == "__main__":
    main()
