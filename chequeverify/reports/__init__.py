"""reports: audit exports as CSV and PDF (standard library only; see DESIGN.md).

:func:`write_csv` and :func:`write_pdf` take :class:`ReportRow` objects the
service builds; :mod:`chequeverify.reports.pdf` is the small PDF writer and
:mod:`chequeverify.reports.truetype` reads the fonts it embeds.
"""

from chequeverify.reports.audit_report import (
    CSV_COLUMNS,
    NUMERIC_COLUMNS,
    ReportRow,
    csv_cell,
    decision_text,
    signatories_text,
    write_csv,
    write_pdf,
)
from chequeverify.reports.pdf import PdfDocument, RasterImage

__all__ = [
    "CSV_COLUMNS", "NUMERIC_COLUMNS", "PdfDocument", "RasterImage", "ReportRow", "csv_cell", "decision_text",
    "signatories_text", "write_csv", "write_pdf",
]  # fmt: skip
