"""Cheque commands: ``locate`` (find the signature on scans) and ``layouts``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from chequeverify.errors import ChequeVerifyError, InvalidInput, SignatureNotFound, UnreadableScan


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "locate",
        help="find the signature on scanned cheques and print its box",
        description="For each file, print the signature's box (x0 y0 x1 y1, exclusive ends, in pixels "
        "of the image as loaded, after EXIF orientation) and the confidence. A file without a "
        "signature, or that cannot be read, gets no box and an error. Exit status: 0 when every "
        f"file had a signature, {SignatureNotFound.exit_code} when some had none, "
        f"{UnreadableScan.exit_code} when some could not be read.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="cheque scans (JPEG, PNG, BMP, TIFF)")
    p.add_argument("--json", action="store_true", help="one JSON object per file: file, box, confidence, ...")
    p.add_argument("--save-crops", type=Path, metavar="DIR", help="also write each cleaned signature as DIR/<name>.png")
    p.add_argument("--page", type=int, default=0, help="page of multi-page TIFFs (0 = front)")
    p.set_defaults(func=cmd_locate)

    p = subparsers.add_parser(
        "layouts",
        help="list the cheque layouts the locator knows, or check a bank's layout file",
        description="Without arguments, list the registered layouts (shipped and from "
        "$CHEQUEVERIFY_LAYOUTS). With FILE, check that a layout JSON file is valid.",
    )
    p.add_argument("check", nargs="?", type=Path, metavar="FILE", help="a layout JSON file to check")
    p.set_defaults(func=cmd_layouts)


def _locate_one(path: Path, page: int, crops: Path | None) -> dict:
    from chequeverify.imaging import extract_signature, load_scan, locate_signature

    image = load_scan(path, page=page)
    if crops is None:
        located = locate_signature(image)
    else:
        located, cleaned = extract_signature(image)
        from PIL import Image

        Image.fromarray(cleaned).save(crops / f"{path.stem}.png")
    return {
        "file": str(path),
        "box": list(located.box),
        "confidence": located.confidence,
        "layout": located.layout,
        "rotated": located.rotated,
    }


def _without_name(message: str, path: Path) -> str:
    """The reader's message without the file name it starts with, which the line already begins with."""
    for name in (str(path), path.name):
        if message.startswith(f"{name}: "):
            return message[len(name) + 2 :]
    return message


def cmd_locate(args: argparse.Namespace) -> int:
    if args.page < 0:
        raise InvalidInput("--page counts from 0.")
    if args.save_crops is not None:
        try:
            args.save_crops.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(f"Cannot create the folder {args.save_crops}: {exc.strerror or exc}.") from None
    status = 0
    for path in args.files:
        problem = ""
        try:
            result = _locate_one(path, args.page, args.save_crops)
        except ChequeVerifyError as exc:
            result = {"file": str(path), "box": None, "confidence": 0.0, "error": str(exc)}
            what = ("no signature" if isinstance(exc, SignatureNotFound) else
                    "unreadable" if isinstance(exc, UnreadableScan) else "error")  # fmt: skip
            problem = f"{what}: {_without_name(str(exc), path)}"
            # an unreadable file is worse news than an unsigned cheque
            if status == 0 or isinstance(exc, UnreadableScan):
                status = exc.exit_code
        if args.json:
            print(json.dumps(result), flush=True)
        elif result["box"] is None:
            print(f"{path}: {problem}", flush=True)
        else:
            x0, y0, x1, y1 = result["box"]
            print(f"{path}: {x0} {y0} {x1} {y1}  confidence {result['confidence']:.2f}  ({result['layout']})", flush=True)
    return status


def cmd_layouts(args: argparse.Namespace) -> int:
    from chequeverify.imaging.layouts import all_layouts, load_layout_file

    if args.check is not None:
        layout = load_layout_file(args.check)
        print(f"{args.check}: valid layout {layout.name!r} ({layout.size_mm[0]:g}×{layout.size_mm[1]:g} mm)")
        return 0
    for name, layout in sorted(all_layouts().items()):
        tag = "  (fallback)" if layout.generic else ""
        print(f"{name:16} {layout.size_mm[0]:g}×{layout.size_mm[1]:g} mm  {layout.title}{tag}")
    sys.stdout.flush()
    return 0
