"""Lay the shared IDRBT cheques out by signer for ``chequeverify evaluate --cheques``.

``../shared/data/cheques/idrbt/labels.csv`` names the signer of each cheque
(the same label = the same signature design). This writes symbolic links
``OUT/<signer>/genuine/<cheque>.jpg`` (nothing is copied) so that the
protocol runs on whole cheques::

    python benchmarks/idrbt_by_signer.py /tmp/idrbt
    chequeverify evaluate /tmp/idrbt --cheques --references 1
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from chequeverify import config


def layout_by_signer(out: Path, source: Path | None = None) -> int:
    """Create the layout under ``out``; returns the number of cheques linked."""
    source = source or config.shared_data_dir() / "cheques" / "idrbt"
    n = 0
    with open(source / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            folder = out / row["signer"] / "genuine"
            folder.mkdir(parents=True, exist_ok=True)
            link = folder / row["file"]
            if not link.exists():
                link.symlink_to((source / row["file"]).resolve())
            n += 1
    return n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    args = p.parse_args()
    print(f"{layout_by_signer(args.out)} cheques laid out under {args.out}")


if __name__ == "__main__":
    main()
