"""``chequeverify evaluate``: the shared protocol on files, through the product's own path.

Each image is read from disk and goes through exactly what the app does
with a signature: (for ``--cheques``: load the scan, locate and clean the
signature) → normalise → embed → the model's score function against the
K references → the model's shipped threshold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from chequeverify.errors import ChequeVerifyError, UnreadableScan
from chequeverify.model import SignatureModel
from chequeverify.training.datasets import DataSpec, list_samples
from chequeverify.training.evaluate import decision_zones, evaluation_report, protocol_scores
from chequeverify.training.plots import draw_evaluation_plot

log = logging.getLogger(__name__)


@dataclass
class EmbeddedSet:
    """Embeddings of a folder's readable images with their writers (protocol input)."""

    embeddings: np.ndarray
    writer: np.ndarray
    genuine: np.ndarray
    writers: list[str]
    failed: list[tuple[str, str]]


def _signature_image(path: Path, cheques: bool) -> Image.Image | np.ndarray:
    if not cheques:
        try:
            with Image.open(path) as img:
                img.load()
                return img
        except (OSError, ValueError) as exc:
            raise UnreadableScan(f"Cannot read {path.name} ({exc}).") from None
    from chequeverify.imaging import extract_signature, load_scan

    _, crop = extract_signature(load_scan(path))
    return crop


def embed_folder(model: SignatureModel, spec: DataSpec, cheques: bool = False) -> EmbeddedSet:
    """Embed every image of the selected writers; unreadable or blank ones are listed in ``failed``."""
    samples = list_samples(spec)
    inputs, kept, failed = [], [], []
    for s in samples:
        try:
            inputs.append(model.normalise(_signature_image(s.path, cheques)))
            kept.append(s)
        except ChequeVerifyError as exc:
            failed.append((str(s.path), str(exc)))
            log.warning("skipped %s: %s", s.path, exc)
    embeddings = model.embed_normalised(np.stack(inputs)) if inputs else np.zeros((0, model.embedding_dim), np.float32)
    writers = sorted({s.writer for s in kept})
    index = {w: i for i, w in enumerate(writers)}
    return EmbeddedSet(
        embeddings,
        np.array([index[s.writer] for s in kept], np.int64),
        np.array([s.genuine for s in kept], bool),
        writers,
        failed,
    )


def evaluate_folder(
    model: SignatureModel, spec: DataSpec, k: int, *, cheques: bool = False, plot: Path | None = None
) -> dict:
    """The JSON report of the protocol for one set folder (see :mod:`chequeverify.training.evaluate`)."""
    data = embed_folder(model, spec, cheques)
    scores = protocol_scores(data.embeddings, data, k, model.scorer)
    extra = {"model": model.model_id, "input": "cheques" if cheques else "signatures"}
    if data.failed:
        extra["unreadable"] = [{"file": f, "error": e} for f, e in data.failed]
    # the thresholds the app uses for an account with K references
    shipped = model.thresholds_for(k)
    threshold = shipped.decision
    extra["zones"] = {"accept_from": shipped.accept, "reject_below": shipped.reject,
                      **decision_zones(scores, shipped.accept, shipped.reject)}  # fmt: skip
    report = evaluation_report(spec.name, spec.writers, data, k, scores, threshold, extra)
    if plot:
        title = f"{spec.name} writers {report['writers']}, K={k}, {model.model_id}"
        draw_evaluation_plot(scores, Path(plot), title, threshold)
    return report
