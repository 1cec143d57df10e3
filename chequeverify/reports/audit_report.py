"""The audit report: one row per verified cheque, as CSV or PDF.

The service builds :class:`ReportRow` objects (plain values and raw
images); this module only lays them out. Standard library only.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chequeverify.reports.pdf import PdfDocument, RasterImage

#: CSV columns, in order (also the report's contract with auditors: add at the end, never rename)
CSV_COLUMNS = (
    "cheque_id", "verified_at", "account", "holder", "file_name", "file_sha256", "amount",
    "signatories", "model_decision", "model_score", "clerk_decision", "decision_status", "reason",
    "decided_by", "decided_at", "approved_by", "verified_by", "model_id", "notes",
    "final_decision", "refused_by", "reviewed_at", "review_note",
)  # fmt: skip
#: columns holding numbers: written as they are (a negative score stays a number in a spreadsheet)
NUMERIC_COLUMNS = frozenset({"cheque_id", "amount", "model_score"})
#: a cell starting with one of these is a formula to Excel or LibreOffice (CSV injection, OWASP);
#: the full-width forms are folded to ASCII by some spreadsheet locales
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class ReportRow:
    """One verified cheque as reported.

    ``signatories``: (name, score or None, that signatory's decision), best
    first; ``clerk_decision``: the latest human decision, as the clerk made
    it ("" when nobody decided); ``decision_status``: ``undecided``,
    ``final``, ``awaiting_approval`` (an override of a REJECT waiting for a
    second supervisor), ``refused`` (that override refused: the model's
    REJECT stands). ``approved_by`` / ``refused_by``: the supervisor who
    approved / refused that override (at most one is set), at
    ``reviewed_at``, with ``review_note``. ``final_decision``: the decision
    in force ("" while undecided or awaiting approval). ``query_image`` /
    ``reference_images``: the cheque's signature and the references of the
    signatory it was attributed to (PDF only).
    """

    cheque_id: int
    verified_at: str
    account: str
    holder: str
    file_name: str
    file_sha256: str
    amount: str
    signatories: tuple[tuple[str, float | None, str], ...]
    model_decision: str
    score: float | None
    clerk_decision: str
    decision_status: str
    reason: str
    decided_by: str
    decided_at: str
    approved_by: str
    verified_by: str
    model_id: str
    final_decision: str = ""
    refused_by: str = ""
    reviewed_at: str = ""
    review_note: str = ""
    reasons: tuple[str, ...] = ()
    query_image: RasterImage | None = field(default=None, repr=False)
    reference_images: tuple[RasterImage, ...] = field(default=(), repr=False)


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def signatories_text(row: ReportRow) -> str:
    return "; ".join(" ".join(p for p in (name, _score(score), decision) if p) for name, score, decision in row.signatories)


def csv_cell(value: object, column: str) -> str:
    """``value`` as a CSV cell that a spreadsheet shows as text and never runs as a formula.

    A text cell starting with ``= + - @``, a tab or a line break gets a
    leading ``'`` (the OWASP mitigation for CSV injection); a number in a
    :data:`NUMERIC_COLUMNS` column is written as it is.
    """
    text = "" if value is None else str(value)
    if column in NUMERIC_COLUMNS and _NUMBER.fullmatch(text):
        return text
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(path: str | Path, rows: Iterable[ReportRow]) -> int:
    """Write the report as UTF-8 CSV (a header, cells made safe by :func:`csv_cell`); returns the number of cheques."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            values = (
                r.cheque_id, r.verified_at, r.account, r.holder, r.file_name, r.file_sha256, r.amount,
                signatories_text(r), r.model_decision, _score(r.score), r.clerk_decision, r.decision_status,
                r.reason, r.decided_by, r.decided_at, r.approved_by, r.verified_by, r.model_id, " | ".join(r.reasons),
                r.final_decision, r.refused_by, r.reviewed_at, r.review_note,
            )  # fmt: skip
            writer.writerow([csv_cell(v, c) for c, v in zip(CSV_COLUMNS, values, strict=True)])
            n += 1
    return n


def _time(stamp: str) -> str:
    return stamp[:19].replace("T", " ")


def decision_text(r: ReportRow) -> str:
    """The human decision, its review and the decision in force, in words (the PDF's cheque block)."""
    if not r.clerk_decision:
        return "no human decision"
    text = f"clerk decision {r.clerk_decision} [{r.decision_status}]"
    if r.decided_by:
        text += f" by {r.decided_by} at {_time(r.decided_at)}"
    for verb, who in (("approved", r.approved_by), ("refused", r.refused_by)):
        if who:
            text += f"; override {verb} by {who}" + (f" at {_time(r.reviewed_at)}" if r.reviewed_at else "")
            text += f" ({r.review_note})" if r.review_note else ""
    if r.decision_status == "awaiting_approval":
        return text + "; awaiting a second supervisor's approval, no decision in force yet"
    return text + (f"; decision in force {r.final_decision}" if r.final_decision else "")


_DECISION_COLOURS = {"ACCEPT": (0.0, 0.45, 0.15), "REFER": (0.75, 0.45, 0.0), "REJECT": (0.75, 0.0, 0.0)}


def write_pdf(path: str | Path, rows: Sequence[ReportRow], *, title: str, subtitle: str = "") -> int:
    """Write the report as PDF: a summary table, then one block per cheque with its signature beside the references."""
    doc = PdfDocument()
    page = doc.new_page()
    margin = 36
    y = page.height - margin

    def header(p, y: float) -> float:
        p.text(margin, y - 14, title, size=14, bold=True)
        y -= 20
        if subtitle:
            for line in doc.wrap(subtitle, 8, page.width - 2 * margin):
                p.text(margin, y - 9, line, size=8)
                y -= 10
        return y - 6

    y = header(page, y)
    # --- summary table ---------------------------------------------------------
    columns = [("Cheque", 40), ("Verified (UTC)", 80), ("Account", 75), ("Amount", 55), ("Model", 45),
               ("Score", 42), ("Clerk", 45), ("Status", 80), ("By", 60), ("Reviewed by", 70), ("In force", 45),
               ("Reason", 133)]  # fmt: skip
    page.text(margin, y - 10, f"{len(rows)} cheque(s)", size=9, bold=True)
    y -= 16

    def table_header(p, y: float) -> float:
        x = margin
        p.rect(margin, y - 12, page.width - 2 * margin, 12, fill=(0.9, 0.9, 0.9))
        for name, width in columns:
            p.text(x + 2, y - 9, name, size=7.5, bold=True)
            x += width
        return y - 12

    y = table_header(page, y)
    for r in rows:
        if y < margin + 12:
            page = doc.new_page()
            y = table_header(page, page.height - margin)
        reviewed = (f"{r.approved_by} (approved)" if r.approved_by else f"{r.refused_by} (refused)" if r.refused_by
                    else "")  # fmt: skip
        values = [str(r.cheque_id), _time(r.verified_at)[:16], r.account, r.amount, r.model_decision, _score(r.score),
                  r.clerk_decision or "-", r.decision_status, r.decided_by or r.verified_by, reviewed,
                  r.final_decision or "-", r.reason]  # fmt: skip
        x = margin
        for (name, width), value in zip(columns, values, strict=True):
            colour = _DECISION_COLOURS.get(value) if name in ("Model", "Clerk", "In force") else None
            page.text(x + 2, y - 9, doc.fit(value, 7, width - 4), size=7, colour=colour)
            x += width
        page.line(margin, y - 12, page.width - margin, y - 12, width=0.3, colour=(0.8, 0.8, 0.8))
        y -= 12
    # --- one block per cheque ------------------------------------------------------
    page = doc.new_page()
    y = page.height - margin
    text_width = page.width - 2 * margin
    for r in rows:
        lines = [
            (f"Cheque {r.cheque_id}  ·  account {r.account} ({r.holder})  ·  amount {r.amount or '-'}  ·  "
             f"verified {_time(r.verified_at)} UTC by {r.verified_by}", 9, True),
            (f"File {r.file_name or '-'}  sha256 {r.file_sha256}", 7, False),
            (f"Model decision {r.model_decision} (score {_score(r.score) or '-'}, model {r.model_id})  ·  "
             f"{decision_text(r)}", 8, False),
        ]  # fmt: skip
        if r.reason:
            lines += [(f"Reason: {part}", 8, False) for part in doc.wrap(r.reason, 8, text_width - 40)]
        lines.append((f"Signatories: {signatories_text(r) or '-'}", 8, False))
        for note in r.reasons:
            lines.append((f"Note: {note}", 7, False))
        image_h = 54 if (r.query_image or r.reference_images) else 0
        needed = sum(s + 3 for _, s, _ in lines) + image_h + 22
        if y - needed < margin:
            page = doc.new_page()
            y = page.height - margin
        for text, size, bold in lines:
            for part in doc.wrap(text, size, text_width):
                page.text(margin, y - size, part, size=size, bold=bold)
                y -= size + 3
        if image_h:
            y -= 4
            x = margin
            if r.query_image is not None:
                page.text(x, y - 8, "Cheque signature", size=7, bold=True)
                w = page.image(doc.add_image(r.query_image), x, y - 12 - 44, max_w=150, max_h=44, frame=(0.75, 0, 0))
                x += max(w, 70) + 18
            if r.reference_images:
                page.text(x, y - 8, "References of the attributed signatory", size=7, bold=True)
                for ref in r.reference_images:
                    if x > page.width - margin - 60:
                        break
                    w = page.image(doc.add_image(ref), x, y - 12 - 44, max_w=110, max_h=44, frame=(0.6, 0.6, 0.6))
                    x += w + 6
            y -= image_h + 4
        page.line(margin, y - 4, page.width - margin, y - 4, width=0.5, colour=(0.6, 0.6, 0.6))
        y -= 12
    if not rows:
        page.text(margin, y - 12, "No cheque matches the report's filters.", size=10)
    doc.save(path)
    return len(rows)
