"""Colours, fonts and the style sheet: one place so every window looks the same.

A quiet palette (white panels on a light grey ground, navy for the
product's own chrome) so that the only loud colours on screen are the
decision's: green for ACCEPT, amber for REFER, red for REJECT.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

NAVY = "#1d3557"
NAVY_DARK = "#14263f"
INK = "#1f2933"
MUTED = "#5f6b7a"
FAINT = "#8a94a3"
BORDER = "#d5dbe3"
GROUND = "#eef1f5"
PANEL = "#ffffff"
SELECTION = "#dbe7f6"
FOCUS = "#2f6fba"

ACCEPT = "#1b7f4b"
REFER = "#b26b00"
REJECT = "#b3261e"
ERROR = "#6b4fa0"
PENDING = "#5f6b7a"

#: background tints behind the decision colours (badges, table cells)
TINTS = {
    "accepted": "#e3f4ea",
    "referred": "#fdf1dc",
    "rejected": "#fbe4e2",
    "error": "#eee8f7",
    "pending": "#eef1f5",
}
STATE_COLOURS = {
    "accepted": ACCEPT,
    "referred": REFER,
    "rejected": REJECT,
    "error": ERROR,
    "pending": PENDING,
}
DECISION_STATE = {"ACCEPT": "accepted", "REFER": "referred", "REJECT": "rejected"}


def decision_colour(decision: str) -> QColor:
    return QColor(STATE_COLOURS[DECISION_STATE.get(str(decision), "pending")])


def state_colour(state: str) -> QColor:
    return QColor(STATE_COLOURS.get(state, PENDING))


def tint(state: str) -> QColor:
    return QColor(TINTS.get(state, TINTS["pending"]))


def font(point_delta: float = 0, *, bold: bool = False, weight: QFont.Weight | None = None) -> QFont:
    f = QFont(QApplication.font())
    if point_delta:
        f.setPointSizeF(max(6.0, f.pointSizeF() + point_delta))
    if bold:
        f.setWeight(QFont.Weight.DemiBold)
    if weight is not None:
        f.setWeight(weight)
    return f


#: the drop-down arrow (an SVG in the package, so it is sharp at any scale)
CHEVRON = (Path(__file__).resolve().parent / "resources" / "chevron-down.svg").as_posix()

STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {GROUND}; }}
QWidget {{ color: {INK}; }}
QToolBar {{
    background: {PANEL}; border: none; border-bottom: 1px solid {BORDER};
    padding: 4px 6px; spacing: 4px;
}}
QToolBar QToolButton {{ padding: 4px 8px; border-radius: 5px; }}
QToolBar QToolButton:hover {{ background: {GROUND}; }}
QToolBar QToolButton:pressed {{ background: {SELECTION}; }}
QStatusBar {{ background: {PANEL}; border-top: 1px solid {BORDER}; color: {MUTED}; }}
QFrame#Panel, QWidget#Panel {{
    background: {PANEL}; border: 1px solid {BORDER}; border-radius: 8px;
}}
QLabel#PanelTitle {{ color: {MUTED}; font-weight: 600; letter-spacing: 0.5px; }}
QLabel#Muted {{ color: {MUTED}; }}
QLabel#Faint {{ color: {FAINT}; }}
QLabel#Heading {{ font-weight: 600; }}
QLabel#EmptyTitle {{ color: {INK}; font-weight: 600; }}
QLabel#InlineError {{ color: {REJECT}; }}
QLineEdit, QComboBox, QPlainTextEdit, QTextEdit {{
    background: {PANEL}; border: 1px solid {BORDER}; border-radius: 5px; padding: 4px 6px;
    selection-background-color: {FOCUS};
}}
QAbstractSpinBox {{
    background: {PANEL}; border: 1px solid {BORDER}; border-radius: 5px; padding: 3px 2px 3px 6px;
    selection-background-color: {FOCUS}; min-height: 20px;
}}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ width: 18px; }}
QComboBox::drop-down, QDateEdit::drop-down {{ width: 22px; border: none; }}
QComboBox::down-arrow, QDateEdit::down-arrow {{ image: url({CHEVRON}); width: 12px; height: 12px; }}
QLineEdit:focus, QComboBox:focus, QAbstractSpinBox:focus, QPlainTextEdit:focus {{
    border: 1px solid {FOCUS};
}}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{ border: 1px solid {REJECT}; }}
QPushButton {{
    background: {PANEL}; border: 1px solid {BORDER}; border-radius: 5px; padding: 5px 14px;
}}
QPushButton:hover {{ border-color: {FAINT}; }}
QPushButton:pressed {{ background: {GROUND}; }}
QPushButton:disabled {{ color: {FAINT}; background: {GROUND}; }}
QPushButton#Primary {{ background: {NAVY}; color: white; border: 1px solid {NAVY}; font-weight: 600; }}
QPushButton#Primary:hover {{ background: {NAVY_DARK}; }}
QPushButton#Primary:disabled {{ background: {FAINT}; border-color: {FAINT}; }}
QPushButton#Accept, QPushButton#Refer, QPushButton#Reject {{
    color: white; font-weight: 600; padding: 7px 10px; border: none;
}}
QPushButton#Accept {{ background: {ACCEPT}; }}
QPushButton#Refer {{ background: {REFER}; }}
QPushButton#Reject {{ background: {REJECT}; }}
QPushButton#Accept:hover, QPushButton#Refer:hover, QPushButton#Reject:hover {{ border: 2px solid {NAVY_DARK}; }}
QPushButton#Accept:disabled, QPushButton#Refer:disabled, QPushButton#Reject:disabled {{
    background: {BORDER}; color: {FAINT};
}}
QTableView, QTreeView, QListWidget, QListView {{
    background: {PANEL}; border: 1px solid {BORDER}; border-radius: 6px;
    gridline-color: {GROUND}; selection-background-color: {SELECTION}; selection-color: {INK};
    alternate-background-color: #f8f9fb;
}}
QHeaderView::section {{
    background: {PANEL}; color: {MUTED}; border: none; border-bottom: 1px solid {BORDER};
    padding: 5px 6px; font-weight: 600;
}}
QTabWidget::pane {{ border: 1px solid {BORDER}; border-radius: 6px; background: {PANEL}; top: -1px; }}
QTabBar::tab {{
    background: transparent; padding: 6px 14px; border: none; color: {MUTED};
    border-bottom: 2px solid transparent;
}}
QTabBar::tab:selected {{ color: {INK}; border-bottom: 2px solid {NAVY}; font-weight: 600; }}
QProgressBar {{
    background: {GROUND}; border: none; border-radius: 3px; text-align: center; max-height: 6px;
}}
QProgressBar::chunk {{ background: {FOCUS}; border-radius: 3px; }}
QScrollArea {{ border: none; background: transparent; }}
QSplitter::handle {{ background: {GROUND}; }}
QGroupBox {{
    background: {PANEL}; border: 1px solid {BORDER}; border-radius: 8px; margin-top: 14px; padding-top: 8px;
}}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; color: {MUTED}; font-weight: 600; }}
QToolTip {{ background: {INK}; color: white; border: none; padding: 4px 6px; }}
"""


def apply(app: QApplication) -> None:
    """Give ``app`` the product's look (Fusion style, palette, style sheet)."""
    app.setStyle("Fusion")
    pal = app.palette()
    pal.setColor(QPalette.ColorRole.Window, QColor(GROUND))
    pal.setColor(QPalette.ColorRole.Base, QColor(PANEL))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#f8f9fb"))
    pal.setColor(QPalette.ColorRole.Text, QColor(INK))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(INK))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor(INK))
    pal.setColor(QPalette.ColorRole.Button, QColor(PANEL))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(SELECTION))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor(INK))
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor(FAINT))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor(INK))
    pal.setColor(QPalette.ColorRole.ToolTipText, QColor("white"))
    app.setPalette(pal)
    base = app.font()
    if base.pointSizeF() < 9.5:
        base.setPointSizeF(9.5)
        app.setFont(base)
    app.setStyleSheet(STYLE_SHEET)


def when(text: str | None) -> str:
    """An ISO time from the service as a clerk reads it: ``2025-01-31 14:02:11`` (UTC, to the second)."""
    return (text or "").replace("T", " ").rstrip("Z")[:19]


def watchlist_text(hit) -> str:
    """One watch-list match in a clerk's words (``hit``: service ``WatchlistHit``)."""
    return (f"Matches a known forger on the watch-list: {hit.holder} ({hit.account}), "
            f"score {hit.score:.3f} ≥ accept {hit.accept:.3f}")  # fmt: skip
