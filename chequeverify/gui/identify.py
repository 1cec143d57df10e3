"""Who signed this? The best-matching signatories over the whole workspace."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from chequeverify.gui import icons, theme
from chequeverify.gui.widgets import ScoreBar, SignatureTile, score_scale


class IdentifyDialog(QDialog):
    """Shows an ``Identification``: the query, then one row per candidate (rank, who, reference, score bar)."""

    def __init__(self, ident, images: dict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Who signed this? — chequeverify")
        self.setWindowIcon(icons.app_icon())
        self.resize(700, 560)
        self.identification = ident
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 16, 18, 14)
        lay.setSpacing(12)
        top = QHBoxLayout()
        query = SignatureTile(size=QSize(260, 100), caption="Signature searched")
        query.set_image(images.get("query"))
        top.addWidget(query)
        summary = QLabel(
            f"<b>{len(ident.candidates)} best matches</b> among {ident.signatories_searched} signatories "
            f"({ident.references_searched} approved references), model {ident.model_id}, "
            f"{ident.elapsed_ms:.0f} ms.<br>A score at or above {ident.accept:.3f} is a match at the accept threshold."
        )
        summary.setWordWrap(True)
        summary.setTextFormat(Qt.TextFormat.RichText)
        top.addWidget(summary, 1)
        lay.addLayout(top)
        top = ident.candidates[0] if ident.candidates else None
        if not ident.watchlist_hits and top is not None and top.watchlist:
            note = QLabel(f"The closest match is on a watch-list of known forgers: {top.signatory} ({top.account}), "
                          f"score {top.score:.3f}, below the accept threshold. Look closely.")  # fmt: skip
            note.setWordWrap(True)
            note.setStyleSheet(f"background: {theme.TINTS['referred']}; color: {theme.REFER}; font-weight: 600;"
                               "border-radius: 6px; padding: 8px;")  # fmt: skip
            lay.addWidget(note)
        if ident.watchlist_hits:
            warn = QLabel("⚠  This signature matches a known forger on a watch-list: "
                          + ", ".join(f"{c.signatory} ({c.account})" for c in ident.watchlist_hits))  # fmt: skip
            warn.setWordWrap(True)
            warn.setStyleSheet(f"background: {theme.TINTS['rejected']}; color: {theme.REJECT}; font-weight: 600;"
                               "border-radius: 6px; padding: 8px;")  # fmt: skip
            lay.addWidget(warn)
        area = QScrollArea()
        area.setWidgetResizable(True)
        body = QWidget()
        grid = QGridLayout(body)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(8)
        for col, text in enumerate(("#", "Signatory", "Reference", "Score")):
            h = QLabel(text)
            h.setObjectName("PanelTitle")
            grid.addWidget(h, 0, col)
        reject = float(images.get("reject", ident.accept - 0.1))
        # each candidate against its own thresholds (as verification would judge it), on one shared axis
        own = [(c.accept, c.reject) if math.isfinite(c.accept) else (ident.accept, reject) for c in ident.candidates]
        scale = score_scale(ident.accept, reject, *[c.score for c in ident.candidates], *[v for t in own for v in t])
        self.rows: list[tuple[QLabel, ScoreBar]] = []
        for i, (c, (c_accept, c_reject)) in enumerate(zip(ident.candidates, own), start=1):
            rank = QLabel(str(c.rank))
            rank.setFont(theme.font(2, bold=True))
            who = QLabel(f"<b>{c.signatory}</b><br><span style='color:{theme.MUTED}'>{c.account} · {c.holder}</span>"
                         + (f"<br><span style='color:{theme.REJECT}; font-weight:600'>watch-list</span>"
                            if c.watchlist else ""))  # fmt: skip
            who.setTextFormat(Qt.TextFormat.RichText)
            tile = SignatureTile(size=QSize(150, 60))
            tile.set_image(images.get(("candidate", c.signatory_id)))
            bar = ScoreBar()
            bar.set_score(c.score if math.isfinite(c.score) else float("nan"), c_accept, c_reject, scale)
            grid.addWidget(rank, i, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(who, i, 1)
            grid.addWidget(tile, i, 2)
            grid.addWidget(bar, i, 3)
            self.rows.append((who, bar))
        grid.setColumnStretch(3, 1)
        grid.setRowStretch(len(ident.candidates) + 1, 1)
        if not ident.candidates:
            grid.addWidget(QLabel("No enrolled signatory to compare with."), 1, 0, 1, 4)
        area.setWidget(body)
        lay.addWidget(area, 1)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        lay.addWidget(box)


def identification_images(ident) -> dict:
    """On a worker: the QImages the dialog shows."""
    from chequeverify.gui.qtimage import grey_to_qimage

    out: dict = {"query": grey_to_qimage(ident.query_image)}
    for c in ident.candidates:
        if c.reference_image is not None:
            out[("candidate", c.signatory_id)] = grey_to_qimage(c.reference_image)
    return out

