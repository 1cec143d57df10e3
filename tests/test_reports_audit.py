"""The audit report writers: CSV columns and a PDF that a strict reader can take apart."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from chequeverify.reports import CSV_COLUMNS, PdfDocument, RasterImage, ReportRow, write_csv, write_pdf
from tests.service_fixtures import read_pdf, scribble


def raster(a: np.ndarray) -> RasterImage:
    return RasterImage(a.shape[1], a.shape[0], "L", a.tobytes())


def row(i: int, **kw) -> ReportRow:
    base = dict(
        cheque_id=i, verified_at=f"2025-01-0{i}T10:00:00.000000Z", account="100-200", holder="Ada (Lovelace) \\ Ltd",
        file_name=f"cheque{i}.png", file_sha256="ab" * 32, amount="1250.50",
        signatories=(("Ada", 0.93, "ACCEPT"), ("Bob", None, "REJECT")), model_decision="ACCEPT", score=0.93,
        clerk_decision="ACCEPT", decision_status="final", reason="matches; customer known — café", decided_by="carl",
        decided_at="2025-01-01T10:01:00Z", approved_by="", verified_by="carl", model_id="m-1",
        reasons=("a note",), query_image=raster(scribble(i)), reference_images=(raster(scribble(10)), raster(scribble(11))),
    )  # fmt: skip
    base.update(kw)
    return ReportRow(**base)


def test_csv_has_every_column_and_row(tmp_path):
    path = tmp_path / "r.csv"
    assert write_csv(path, [row(1), row(2, clerk_decision="", decision_status="undecided", reason="")]) == 2
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["signatories"] == "Ada 0.9300 ACCEPT; Bob REJECT"
    assert rows[0]["reason"] == "matches; customer known — café"
    assert rows[1]["decision_status"] == "undecided" and rows[1]["clerk_decision"] == ""
    assert rows[0]["model_score"] == "0.9300"


def test_pdf_is_well_formed_and_holds_every_cheque(tmp_path):
    path = tmp_path / "r.pdf"
    rows = [row(i) for i in range(1, 8)]
    write_pdf(path, rows, title="Audit report", subtitle="all cheques")
    pdf = read_pdf(path)
    text = pdf.text
    for i in range(1, 8):
        assert f"Cheque {i}" in text
    assert "Ada (Lovelace) \\ Ltd" in text  # escaped parentheses and backslash survive
    assert "café" in text  # WinAnsi
    # query images (7 distinct) + 2 shared references, deduplicated
    assert len(pdf.images) == 9
    assert all(mode == "L" for _, _, mode, _ in pdf.images)


def test_pdf_paginates_long_reports(tmp_path):
    path = tmp_path / "long.pdf"
    write_pdf(path, [row(i % 9 + 1, cheque_id=i) for i in range(120)], title="t")
    pdf = read_pdf(path)
    assert len(pdf.pages) > 5
    assert all(f"Cheque {i} " in pdf.text for i in range(120))


def test_empty_report_says_so(tmp_path):
    path = tmp_path / "empty.pdf"
    write_pdf(path, [], title="t")
    assert "No cheque matches" in read_pdf(path).text


def test_rgb_images_and_bad_rasters():
    doc = PdfDocument()
    name = doc.add_image(RasterImage(2, 1, "RGB", bytes(6)))
    assert doc.add_image(RasterImage(2, 1, "RGB", bytes(6))) == name  # deduplicated
    with pytest.raises(ValueError):
        RasterImage(2, 2, "L", bytes(3))
    with pytest.raises(ValueError):
        RasterImage(2, 2, "CMYK", bytes(16))


def test_wrap_and_fit():
    doc = PdfDocument()
    lines = doc.wrap("word " * 100, 10, 200)
    assert len(lines) > 5 and all(len(line) <= 200 / (10 * 0.52) for line in lines)
    assert doc.wrap("x" * 200, 10, 100)[0] == "x" * 19
    assert doc.fit("abcdefghijklmnop", 10, 40).endswith("...")
