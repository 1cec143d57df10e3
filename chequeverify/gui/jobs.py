"""What the workers run: a service call plus the image conversions its result needs.

Each function runs on a pool thread, calls the service and returns plain
data with QImages ready (never a widget, never a QPixmap). Large images
(the cheque page) are converted once here and dropped from the service's
result, so the queue does not keep a Pillow copy of every scan.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage

from chequeverify.gui.qtimage import grey_to_qimage, pil_to_qimage

Box = tuple[int, int, int, int]


@dataclass
class Verified:
    verification: Any  # Verification without its cheque image
    cheque: QImage | None
    query: QImage
    references: dict[int, QImage]


@dataclass
class Read:
    box: Box
    confidence: float
    cheque: QImage
    signature: QImage
    note: str = ""


def verify(session, path: Path, account: str, amount: str | None, box: Box | None, *, known_refs: frozenset = frozenset()) -> Verified:  # fmt: skip
    v = session.verify(path, account, amount=amount or None, box=box)
    cheque = pil_to_qimage(v.cheque_image) if v.cheque_image is not None else None
    refs = {r.reference_id: grey_to_qimage(r.image) for s in v.signatories for r in s.references
            if r.reference_id not in known_refs}  # fmt: skip
    return Verified(dataclasses.replace(v, cheque_image=None), cheque, grey_to_qimage(v.query_image), refs)


def read(session, path: Path, box: Box | None) -> Read:
    r = session.read_cheque(path, box=box)
    return Read(tuple(r.located.box), r.located.confidence, pil_to_qimage(r.image), grey_to_qimage(r.signature))  # type: ignore[arg-type]


def reread_image(session, path: Path, box: Box | None) -> QImage:
    """The page of an already verified cheque (its image left the cache)."""
    return read(session, path, box).cheque


def page_image(path: Path) -> QImage:
    """The scan alone (no signature found on it): the clerk draws the box by hand.

    Read as the imaging layer reads it (EXIF orientation applied, first
    page), so a box drawn on it is in the service's pixels.
    """
    from PySide6.QtGui import QImageReader

    from chequeverify.errors import UnreadableScan

    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        raise UnreadableScan(f"{Path(path).name} cannot be shown ({reader.errorString()}).")
    return image


def decide(session, cheque_id: int, decision: str, reason: str):
    decided = session.decide(cheque_id, decision, reason)
    return decided


def identify(session, path: Path, box: Box | None):
    from chequeverify.gui.identify import identification_images

    ident = session.identify(path, cheque=True, box=box)
    images = identification_images(ident)
    images["reject"] = session.thresholds().reject  # the bars show both thresholds, as on a verification
    return ident, images


def scan_paths(paths: list[Path], suffixes: set[str]) -> list[Path]:
    """Files and folders (not recursive beyond one level of folders) → scan files, sorted by name."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            try:
                names = sorted(os.listdir(p))
            except OSError:
                continue
            out += [p / n for n in names if Path(n).suffix.lower() in suffixes and (p / n).is_file()]
        elif p.is_file() or not p.exists():
            out.append(p)  # a missing file becomes a row in error, with the service's message
    return out


def profile(session, rights: tuple[str, ...]):
    """Who is signed in and what they may do (asked once, on a worker)."""
    user = session.user
    return user, frozenset(r for r in rights if session.can(r))


def accounts(session):
    return session.list_accounts(limit=5000)


def load_model(session):
    ws = session.workspace
    ws.load_model()
    return ws.model_id


def last_backup(session) -> str | None:
    """When the workspace was last backed up (the newest ``backup`` audit event's time, UTC), or None."""
    events = session.audit_events(kind="backup", limit=1)
    return events[0].at if events else None


def pending_approvals(session, overrides: bool) -> int:
    """Reference changes, settings changes (and overrides, for who may approve them) waiting for a second supervisor."""
    n = len(session.pending_references()) + len(session.pending_changes())
    return n + (len(session.pending_overrides()) if overrides else 0)
