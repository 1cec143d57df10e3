"""The signature engine: embedding network, distances, losses, checkpoints, scores.

Public API::

    from chequeverify.model import load_model
    model = load_model()                 # default weights in assets/models
    emb = model.embed(pil_images)        # N×D float32, unit norm
    s = model.score(emb[0], refs)        # larger = more likely genuine
    model.thresholds.accept, model.thresholds.reject
"""

from chequeverify.model.checkpoint import ModelCard, Thresholds
from chequeverify.model.scoring import GroupStats, ReferenceStats, ScoreFunction
from chequeverify.model.signature_model import SignatureModel, default_model_path, load_model

__all__ = [
    "GroupStats",
    "ModelCard",
    "ReferenceStats",
    "ScoreFunction",
    "SignatureModel",
    "Thresholds",
    "default_model_path",
    "load_model",
]
