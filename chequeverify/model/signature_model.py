"""The model the product uses: normalise → embed → score, as one object.

``load_model()`` reads the default checkpoint from ``assets/models``; the
object it returns holds the network, the score function and the
thresholds its card records. It is safe to share between threads for
inference (PyTorch inference does not mutate the network).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from chequeverify import config
from chequeverify.errors import ModelError
from chequeverify.imaging.normalise import NORMALISATION_VERSION, normalise_signature
from chequeverify.model.checkpoint import ModelCard, Thresholds, load_checkpoint
from chequeverify.model.networks import build_network
from chequeverify.model.scoring import GroupStats, ReferenceStats, ScoreFunction

log = logging.getLogger(__name__)

#: images per forward pass when embedding many signatures
EMBED_BATCH = 64
#: batches at least this large are normalised on a thread pool
PARALLEL_NORMALISE_FROM = 8

_pool: ThreadPoolExecutor | None = None


def _normaliser_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="normalise")
    return _pool


class SignatureModel:
    """A trained twin network with its score function and thresholds.

    * :meth:`embed` — signature images (crops, dark ink on light paper, any
      mode) → ``N×D float32`` unit-norm embeddings;
    * :meth:`score` / :meth:`score_many` — the decision score of queries
      against one account's ``K×D`` references (larger = more likely genuine);
    * :meth:`score_groups` — one query against many signatories at once;
    * :attr:`thresholds` — ACCEPT at or above ``accept``, REJECT below
      ``reject``, REFER between; :meth:`thresholds_for` those for an account
      with K references.
    """

    def __init__(self, card: ModelCard, network: torch.nn.Module, scorer: ScoreFunction) -> None:
        self.card = card
        self.network = network.eval()
        self.scorer = scorer

    # --- identity ----------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self.card.model_id

    @property
    def embedding_dim(self) -> int:
        return self.card.embedding_dim

    @property
    def thresholds(self) -> Thresholds:
        return self.card.thresholds

    def thresholds_for(self, references: int) -> Thresholds:
        """The thresholds for an account with ``references`` specimens (see :meth:`Thresholds.for_references`)."""
        return self.card.thresholds.for_references(references)

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) of the network input."""
        return self.card.input_height, self.card.input_width

    # --- embedding ---------------------------------------------------------
    def normalise(self, image: Image.Image | np.ndarray) -> np.ndarray:
        """One signature image → ``H×W float32`` network input (ink = 1)."""
        return normalise_signature(image, self.card.input_height, self.card.input_width)

    def embed_normalised(self, batch: np.ndarray) -> np.ndarray:
        """``N×H×W float32`` network inputs → ``N×D float32`` unit-norm embeddings."""
        batch = np.asarray(batch, np.float32)
        if batch.ndim != 3 or batch.shape[1:] != self.input_size:
            raise ModelError(f"Expected N×{self.input_size[0]}×{self.input_size[1]} inputs, got {batch.shape}.")
        out = np.zeros((len(batch), self.embedding_dim), np.float32)
        with torch.inference_mode():
            for i in range(0, len(batch), EMBED_BATCH):
                x = torch.from_numpy(batch[i : i + EMBED_BATCH]).unsqueeze(1)
                out[i : i + EMBED_BATCH] = self.network(x).numpy()
        return out

    def embed(self, images: Sequence[Image.Image | np.ndarray]) -> np.ndarray:
        """Signature images → ``N×D float32`` (raises ``SignatureNotFound`` for a blank one).

        Batches are normalised on a small thread pool: the heavy steps
        (Pillow's filters and resizes, numpy's reductions) release the GIL.
        """
        if len(images) == 0:
            return np.zeros((0, self.embedding_dim), np.float32)
        if len(images) < PARALLEL_NORMALISE_FROM:
            inputs = [self.normalise(im) for im in images]
        else:
            inputs = list(_normaliser_pool().map(self.normalise, images))
        return self.embed_normalised(np.stack(inputs))

    # --- scoring -----------------------------------------------------------
    def reference_stats(self, references: np.ndarray) -> ReferenceStats:
        """``K×D`` references → what scoring needs from them (cacheable per signatory)."""
        return self.scorer.reference_stats(references)

    def score_many(self, queries: np.ndarray, references: np.ndarray | ReferenceStats) -> np.ndarray:
        """``N×D`` queries against ``K×D`` references → ``N`` scores."""
        return self.scorer.score_many(queries, references)

    def score(self, query: np.ndarray, references: np.ndarray | ReferenceStats) -> float:
        """``D`` query against ``K×D`` references → the decision score."""
        return self.scorer.score(query, references)

    def score_groups(self, query: np.ndarray, references: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``D`` query against ``M×D`` references labelled by ``M`` group ids → (ids, scores)."""
        return self.scorer.score_groups(query, references, groups)

    def group_stats(self, references: np.ndarray, groups: np.ndarray) -> GroupStats:
        """Statistics of many reference sets (``M×D`` labelled by ``M`` group ids), cacheable."""
        return self.scorer.group_stats(references, groups)

    def score_against(self, query: np.ndarray, stats: GroupStats, rows: np.ndarray | None = None) -> np.ndarray:
        """``D`` query against the groups of ``stats`` (or its ``rows``) → scores; one ``G×D`` product."""
        return self.scorer.score_against(query, stats, rows)


def default_model_path() -> Path:
    return config.MODELS_DIR / f"{config.DEFAULT_MODEL_NAME}.json"


def _resolve(path: str | Path | None) -> Path:
    if path is None:
        return default_model_path()
    p = Path(path).expanduser()
    if p.is_dir():
        cards = sorted(p.glob("*.json"))
        if len(cards) != 1:
            raise ModelError(f"{p} should hold exactly one model card (.json); found {len(cards)}.")
        return cards[0]
    return p if p.suffix == ".json" else p.with_suffix(".json")


def model_from_checkpoint(card_path: Path) -> SignatureModel:
    card, state, extra = load_checkpoint(card_path)
    if card.normalisation_version != NORMALISATION_VERSION:
        raise ModelError(
            f"The model {card.name} was trained with normalisation v{card.normalisation_version}; "
            f"this program normalises with v{NORMALISATION_VERSION}.",
            hint="Use the model shipped with this release, or retrain.",
        )
    try:
        network = build_network(card.architecture, **card.architecture_args)
        network.load_state_dict(state)
    except (KeyError, RuntimeError, TypeError) as exc:
        raise ModelError(f"The model weights do not fit architecture {card.architecture!r} ({exc}).") from None
    cohort = extra.get("cohort")
    sc = card.scoring
    try:
        scorer = ScoreFunction(
            sc.get("method", "mean-cosine"),
            None if cohort is None else cohort.float().numpy(),
            int(sc.get("top", 0)),
            prior_mu=float(sc.get("prior_mu", 0.0)),
            prior_sigma=float(sc.get("prior_sigma", 1.0)),
            prior_weight=float(sc.get("prior_weight", 0.0)),
        )
    except ValueError as exc:
        raise ModelError(f"The model's score function is unusable ({exc}).") from None
    return SignatureModel(card, network, scorer)


_cache: dict[Path, SignatureModel] = {}
_lock = threading.Lock()


def load_model(path: str | Path | None = None) -> SignatureModel:
    """The model at ``path`` (a card ``.json``, its ``.pt``, or a folder) or the default one.

    Loaded once per process and shared. Raises :class:`ModelError` when the
    files are missing, damaged (checksum) or of another version.
    """
    card_path = _resolve(path).resolve()
    with _lock:
        model = _cache.get(card_path)
        if model is None:
            model = model_from_checkpoint(card_path)
            _cache[card_path] = model
            log.info("loaded model %s from %s", model.model_id, card_path)
        return model
