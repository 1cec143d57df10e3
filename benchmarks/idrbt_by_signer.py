"""Lay the shared IDRBT cheques out by signer for ``chequeverify evaluate --cheques``.

``../shared/data/cheques/idrbt/labels.csv`` names the signer of each cheque
(the same label = the same signature design). This writes symbolic links
``OUT/<signer>/genuine/<cheque>.jpg`` (nothing is copied) so that the
protocol runs on whole cheques::

    python benchmarks/idrbt_by_signer.py /tmp/idrbt
    chequeverify evaluate /tmp/idrbt --cheques --references 1

``--as FORM`` writes each cheque instead in the form image clearing sends
it (``imaging.clearing_image``): ``grey`` and ``grey-100dpi`` as JPEG (the
CTS-2010 grey front image is a JPEG at 100 dpi), ``bitonal`` as a CCITT
Group 4 TIFF (CTS-2010's black-and-white front at 200 dpi; US image
exchange)::

    python benchmarks/idrbt_by_signer.py /tmp/idrbt-100 --as grey-100dpi
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from chequeverify import config
from chequeverify.imaging import CLEARING_FORMS, CLEARING_SUFFIX, clearing_image, load_scan, save_clearing_image


def layout_by_signer(out: Path, source: Path | None = None, form: str = "scan") -> int:
    """Create the layout under ``out`` (links, or files in ``form``); returns the number of cheques."""
    source = source or config.shared_data_dir() / "cheques" / "idrbt"
    n = 0
    with open(source / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            folder = out / row["signer"] / "genuine"
            folder.mkdir(parents=True, exist_ok=True)
            n += 1
            if form != "scan":
                image = clearing_image(load_scan(source / row["file"]), form)
                save_clearing_image(image, folder / (Path(row["file"]).stem + CLEARING_SUFFIX[form]), form)
                continue
            link = folder / row["file"]
            if not link.exists():
                link.symlink_to((source / row["file"]).resolve())
    return n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--as", dest="form", choices=CLEARING_FORMS, default="scan",
                   help="write each cheque in the form image clearing sends it (default: link the scan)")
    args = p.parse_args()
    print(f"{layout_by_signer(args.out, form=args.form)} cheques laid out under {args.out}")


if __name__ == "__main__":
    main()
