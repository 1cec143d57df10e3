"""Draw the cheque reader's contact sheets: where it found the signature, and the cleaned crop.

    .venv/bin/python docs/cheques/contact_sheet.py               # docs/cheques/wikimedia.png, synthetic.png
    .venv/bin/python docs/cheques/contact_sheet.py --idrbt OUT.png  # the 56 IDRBT cheques (not committed)

Each row: the cheque with the box found (red) — and the hand-checked box
in green where one exists —, the crop as scanned, and the cleaned crop
that goes to the engine. The Wikimedia and IDRBT images are read from
``../shared/data`` at run time. The IDRBT sheet is research data and stays
out of the repository; the Wikimedia sheet carries the images' licences
(see README.md beside this file).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from chequeverify import config
from chequeverify.errors import ChequeVerifyError
from chequeverify.imaging import draw_cheque, extract_signature, load_scan, synthetic_layouts, synthetic_signature

HERE = Path(__file__).resolve().parent
ROW_H = 190
CHEQUE_W = 420
CROP_W = 330
FONT = ImageFont.load_default(size=15)


def iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _fit(img: Image.Image, w: int, h: int) -> Image.Image:
    img = img.copy()
    img.thumbnail((w, h))
    return img


def row(title: str, cheque: Image.Image, truth=None) -> tuple[Image.Image, str]:
    """One row of a sheet, and a line of text for the README table."""
    canvas = Image.new("RGB", (CHEQUE_W + 2 * CROP_W + 40, ROW_H), "white")
    draw = ImageDraw.Draw(canvas)
    shown = cheque.convert("RGB")
    try:
        located, cleaned = extract_signature(cheque)
    except ChequeVerifyError as exc:
        located, cleaned, note = None, None, f"no signature: {exc.message}"
    else:
        note = f"{located.layout}, confidence {located.confidence:.2f}"
        if truth is not None:
            note += f", IoU {iou(located.box, truth):.2f}"
    mark = ImageDraw.Draw(shown)
    width = max(2, shown.width // 250)
    if truth is not None:
        mark.rectangle([truth[0], truth[1], truth[2] - 1, truth[3] - 1], outline=(0, 170, 0), width=width)
    if located is not None:
        b = located.box
        mark.rectangle([b[0], b[1], b[2] - 1, b[3] - 1], outline=(230, 0, 0), width=width)
    canvas.paste(_fit(shown, CHEQUE_W, ROW_H - 30), (5, 25))
    if located is not None:
        b = located.box
        pad = max(4, (b[3] - b[1]) // 8)
        raw = cheque.convert("RGB").crop((b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad))
        canvas.paste(_fit(raw, CROP_W, ROW_H - 30), (CHEQUE_W + 15, 25))
        canvas.paste(_fit(Image.fromarray(cleaned).convert("RGB"), CROP_W, ROW_H - 30), (CHEQUE_W + CROP_W + 30, 25))
    draw.text((5, 3), f"{title}: {note}", fill=(0, 0, 0), font=FONT)
    return canvas, f"| {title} | {note} |"


def sheet(rows: list[Image.Image], header: str) -> Image.Image:
    w = rows[0].width
    out = Image.new("RGB", (w, 30 + sum(r.height + 4 for r in rows)), (200, 200, 200))
    ImageDraw.Draw(out).text(
        (5, 6), header + "   [cheque with box found (red) / hand-checked (green) | crop | cleaned]",
        fill=(0, 0, 0), font=FONT,
    )
    y = 30
    for r in rows:
        out.paste(r, (0, y))
        y += r.height + 4
    return out


def wikimedia(data: Path) -> tuple[Image.Image, list[str]]:
    folder = data / "cheques" / "wikimedia"
    rows, lines = [], []
    for path in sorted(folder.glob("*.*g")):
        r, line = row(path.name, load_scan(path))
        rows.append(r)
        lines.append(line)
    return sheet(rows, "Wikimedia cheques (CC0 / CC-BY-SA, see README.md)"), lines


def synthetic() -> tuple[Image.Image, list[str]]:
    rows, lines = [], []
    for i, layout in enumerate(synthetic_layouts()):
        for signed in (True, False):
            cheque, truth = draw_cheque(synthetic_signature(40 + i) if signed else None, layout, seed=10 + i)
            r, line = row(f"synthetic {layout}{'' if signed else ' (unsigned)'}", cheque, truth)
            rows.append(r)
            lines.append(line)
    return sheet(rows, "Synthetic cheques (chequeverify.imaging.draw_cheque)"), lines


def idrbt(data: Path) -> tuple[Image.Image, list[str]]:
    folder = data / "cheques" / "idrbt"
    with open(folder / "labels.csv", newline="") as f:
        labels = list(csv.DictReader(f))
    rows, lines = [], []
    for r in labels:
        truth = tuple(int(r[k]) for k in ("box_x0", "box_y0", "box_x1", "box_y1"))
        img, line = row(r["file"], load_scan(folder / r["file"]), truth)
        rows.append(img)
        lines.append(line)
    return sheet(rows, "IDRBT cheques (research data: do not commit)"), lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idrbt", type=Path, metavar="OUT.png", help="also draw the IDRBT sheet to OUT.png")
    parser.add_argument("--out", type=Path, default=HERE, help="folder of the committed sheets")
    args = parser.parse_args()
    data = config.shared_data_dir()
    image, lines = synthetic()
    image.save(args.out / "synthetic.png", optimize=True)
    print("\n".join(lines))
    if (data / "cheques" / "wikimedia").is_dir():
        image, lines = wikimedia(data)
        image.save(args.out / "wikimedia.png", optimize=True)
        print("\n".join(lines))
    if args.idrbt:
        image, lines = idrbt(data)
        image.save(args.idrbt, optimize=True)
        print("\n".join(lines))


if __name__ == "__main__":
    main()
