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
        self.resize(760, 560)
        self.identification = ident
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 16, 18, 14)
        lay.setSpacing(12)
        top = QHBoxLayout()
        query = SignatureTile(size=QSize(260, 100), caption="Signature searched")
        query.set_image(images.get("query"))
        top.addWidget(query)
        # each candidate is judged by its own accept threshold (the model's row for its number of
        # references, or the workspace's pair), exactly as verification would judge it
        own_accepts = {round(c.accept, 3) for c in ident.candidates if math.isfinite(c.accept)}
        if len(own_accepts) == 1:
            rule = f"A score at or above {next(iter(own_accepts)):.3f} is a match (the accept threshold)."
        elif own_accepts:
            rule = ("Each signatory is a match at or above its own accept threshold (the model's for its number "
                    "of references), shown under its name.")  # fmt: skip
        else:
            rule = f"A score at or above {ident.accept:.3f} is a match at the accept threshold."
        summary = QLabel(
            f"<b>{len(ident.candidates)} best matches</b> among {ident.signatories_searched} signatories "
            f"({ident.references_searched} approved references), model {ident.model_id}, "
            f"{ident.elapsed_ms:.0f} ms.<br>{rule}"
        )
        summary.setWordWrap(True)
        summary.setTextFormat(Qt.TextFormat.RichText)
        top.addWidget(summary, 1)
        lay.addLayout(top)
        top = ident.candidates[0] if ident.candidates else None
        if not ident.watchlist_hits and top is not None and top.watchlist:
            bar = top.accept if math.isfinite(top.accept) else ident.accept
            note = QLabel(f"The closest match is on a watch-list of known forgers: {top.signatory} ({top.account}), "
                          f"score {top.score:.3f}, below its accept threshold ({bar:.3f}). Look closely.")  # fmt: skip
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
        own = [(c.accept, c.reject if math.isfinite(c.reject) else reject) if math.isfinite(c.accept)
               else (ident.accept, reject) for c in ident.candidates]  # fmt: skip
        first = own[0] if own else (ident.accept, reject)
        scale = score_scale(*first, *[c.score for c in ident.candidates], *[v for t in own for v in t])
        self.rows: list[tuple[QLabel, ScoreBar]] = []
        for i, (c, (c_accept, c_reject)) in enumerate(zip(ident.candidates, own), start=1):
            rank = QLabel(str(c.rank))
            rank.setFont(theme.font(2, bold=True))
            match = c.score >= c_accept if math.isfinite(c.score) else False
            # the threshold under each name only when they differ (else the summary above says it once)
            line = (f"{c.references} ref{'s' if c.references != 1 else ''} · match at ≥ {c_accept:.3f}"
                    if len(own_accepts) > 1 else "")  # fmt: skip
            verdict = (f"<span style='color:{theme.ACCEPT if not c.watchlist else theme.REJECT}; font-weight:600'>"
                       f"✓ a match</span>" if match else "")  # fmt: skip
            third = " · ".join(t for t in (verdict, line) if t)
            who = QLabel(f"<b>{c.signatory}</b><br><span style='color:{theme.MUTED}'>{c.account} · {c.holder}</span>"
                         + (f"<br><span style='color:{theme.MUTED}'>{third}</span>" if third else "")
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

