"""reports: audit exports as CSV and PDF (standard library only; see DESIGN.md).

:func:`write_csv` and :func:`write_pdf` take :class:`ReportRow` objects the
service builds; :mod:`chequeverify.reports.pdf` is the small PDF writer.
"""

from chequeverify.reports.audit_report import CSV_COLUMNS, ReportRow, signatories_text, write_csv, write_pdf
from chequeverify.reports.pdf import PdfDocument, RasterImage

__all__ = ["CSV_COLUMNS", "PdfDocument", "RasterImage", "ReportRow", "signatories_text", "write_csv", "write_pdf"]
