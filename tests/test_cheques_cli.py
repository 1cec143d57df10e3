"""``chequeverify locate`` and ``chequeverify layouts`` on synthetic cheques."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from chequeverify.cli import main
from chequeverify.imaging import draw_cheque, synthetic_signature


@pytest.fixture(scope="module")
def cheque_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cheques")
    signed, box = draw_cheque(synthetic_signature(4), "cts2010", seed=3)
    signed.save(folder / "signed.jpg", quality=92)
    # the same cheque as a phone would store it: sideways, with an EXIF orientation
    exif = Image.Exif()
    exif[0x0112] = 8  # shown turned 90° counter-clockwise
    signed.rotate(-90, expand=True).save(folder / "phone.jpg", exif=exif, quality=92)
    draw_cheque(None, "north_american", seed=1)[0].save(folder / "blank.png")
    (folder / "notes.jpg").write_text("not a scan")
    return folder, box


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_locate_json_per_file(cheque_files, capsys, tmp_path):
    folder, box = cheque_files
    crops = tmp_path / "crops"
    status = main(
        ["locate", str(folder / "signed.jpg"), str(folder / "phone.jpg"), str(folder / "blank.png"),
         "--json", "--save-crops", str(crops)]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"].rsplit("/", 1)[-1] for r in lines] == ["signed.jpg", "phone.jpg", "blank.png"]
    signed, phone, blank = lines
    assert iou(signed["box"], box) > 0.8 and 0 < signed["confidence"] <= 1
    # EXIF applied: the box is in the upright image as loaded
    assert iou(phone["box"], box) > 0.8
    assert blank["box"] is None and "blank" in blank["error"]
    assert status == 4  # some file had no signature
    assert sorted(p.name for p in crops.iterdir()) == ["phone.png", "signed.png"]


def test_locate_plain_text_and_unreadable_file(cheque_files, capsys):
    folder, _ = cheque_files
    status = main(["locate", str(folder / "signed.jpg"), str(folder / "notes.jpg")])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(str(folder / "signed.jpg") + ": ") and "confidence" in out[0]
    # what went wrong, after the file's name given once (the reader's message names the file too)
    assert out[1] == (f"{folder / 'notes.jpg'}: unreadable: this is a text file, not an image "
                      "(a JPEG, PNG, BMP or TIFF scan is needed).")
    assert status == 3  # unreadable


def test_locate_all_found_exits_zero(cheque_files, capsys):
    folder, _ = cheque_files
    assert main(["locate", str(folder / "signed.jpg")]) == 0


def test_layouts_lists_and_checks(capsys, tmp_path):
    assert main(["layouts"]) == 0
    out = capsys.readouterr().out
    assert "cts2010" in out and "north_american" in out
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["layouts", str(bad)]) == 2
    assert "name" in capsys.readouterr().err


def test_locate_names_a_missing_page_by_the_number_asked(cheque_files, capsys, tmp_path):
    folder, _ = cheque_files
    front = Image.open(folder / "signed.jpg")
    tiff = tmp_path / "two pages.tif"
    front.save(tiff, save_all=True, append_images=[front.rotate(180)])
    assert main(["locate", str(tiff), "--page", "2"]) == 2
    out = capsys.readouterr().out
    assert out == f"{tiff}: error: two pages.tif has 2 pages (pages 0 and 1); there is no page 2.\n"
    assert main(["locate", str(tiff), "--page", "1"]) in (0, 4)  # the back, page 1, exists (signed or not)
    assert "there is no page" not in capsys.readouterr().out
