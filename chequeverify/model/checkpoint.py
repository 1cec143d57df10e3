"""Typed, versioned, checksummed model checkpoints.

A checkpoint is two files side by side:

* ``<name>.json`` — the :class:`ModelCard`: architecture and its
  arguments, input size and normalisation version, embedding size, the
  score function and its parameters, the decision thresholds and how they
  were chosen, the training data and writers, the measured metrics, and
  the SHA-256 of the weights file;
* ``<name>.pt`` — tensors only (a ``state_dict`` plus named extra tensors
  such as the background cohort), written by ``torch.save`` and read with
  ``torch.load(weights_only=True)``: loading never unpickles arbitrary
  objects, and the checksum is verified before anything is read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from chequeverify.errors import ModelError

#: version of the card / weights format this code reads and writes
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the score (larger score = more likely genuine).

    ``decision``: the single operating threshold (accept at or above);
    ``accept`` ≥ ``decision`` ≥ ``reject`` bound the grey zone that is
    referred to a human: ``score >= accept`` → ACCEPT, ``score < reject`` →
    REJECT, otherwise REFER. ``chosen_on`` says which writers they were
    chosen on and ``rule`` how.

    ``by_references`` (optional) holds the same three thresholds chosen
    separately for accounts with K references, as rows ``{"references": K,
    "decision", "accept", "reject"}`` sorted by K: with more references the
    score separates forgeries better, so the same false-accept rate is
    reached at a lower accept threshold. :meth:`for_references` picks the
    row; the top-level values are the pooled ones (display, and models
    without a table).
    """

    decision: float
    accept: float
    reject: float
    chosen_on: str = ""
    rule: str = ""
    by_references: tuple[dict[str, float], ...] = ()

    def __post_init__(self) -> None:
        rows = tuple(sorted((dict(r) for r in self.by_references), key=lambda r: r["references"]))
        for r in rows:
            if not (int(r["references"]) >= 1 and r["reject"] <= r["decision"] <= r["accept"]):
                raise ModelError(
                    f"The model card's thresholds for {r.get('references')} references are unusable "
                    f"(reject {r['reject']:.4g}, decision {r['decision']:.4g}, accept {r['accept']:.4g}).",
                    hint="Each row needs reject ≤ decision ≤ accept; re-export the model with `chequeverify train`.",
                )
        object.__setattr__(self, "by_references", rows)

    def for_references(self, k: int) -> Thresholds:
        """The thresholds for an account with ``k`` references.

        The row of the largest K not above ``k`` (fewer references than any
        row: the smallest K's): never the thresholds of a better-enrolled
        account than this one. Without a table, these thresholds.
        """
        if not self.by_references:
            return self
        rows = [r for r in self.by_references if r["references"] <= k] or [self.by_references[0]]
        r = rows[-1]
        return Thresholds(
            decision=float(r["decision"]), accept=float(r["accept"]), reject=float(r["reject"]),
            chosen_on=self.chosen_on, rule=f"{self.rule} (row for {int(r['references'])} references)",
        )  # fmt: skip


@dataclass(frozen=True)
class ModelCard:
    name: str
    architecture: str
    architecture_args: dict[str, Any]
    input_height: int
    input_width: int
    normalisation_version: int
    embedding_dim: int
    scoring: dict[str, Any]
    thresholds: Thresholds
    weights_file: str
    weights_sha256: str
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    format_version: int = FORMAT_VERSION

    @property
    def model_id(self) -> str:
        """Stable identifier stored beside every embedding: name and weights checksum."""
        return f"{self.name}:{self.weights_sha256[:12]}"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelCard:
        if not isinstance(raw, dict):
            raise ModelError("The model card is not a JSON object.")
        version = raw.get("format_version")
        if version != FORMAT_VERSION:
            raise ModelError(
                f"The model card has format version {version!r}; this program reads version {FORMAT_VERSION}.",
                hint="Install the chequeverify release that matches the model, or re-export the model.",
            )
        try:
            raw = dict(raw)
            t = dict(raw["thresholds"])
            t["by_references"] = tuple(t.get("by_references") or ())
            raw["thresholds"] = Thresholds(**t)
            names = {f.name for f in dataclasses.fields(cls)}
            return cls(**{k: v for k, v in raw.items() if k in names})
        except (KeyError, TypeError) as exc:
            raise ModelError(f"The model card is incomplete or malformed ({exc}).") from None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_checkpoint(
    directory: Path,
    name: str,
    card_fields: dict[str, Any],
    state_dict: dict[str, torch.Tensor],
    extra_tensors: dict[str, torch.Tensor] | None = None,
) -> ModelCard:
    """Write ``<name>.pt`` and ``<name>.json`` atomically; returns the card.

    ``card_fields`` are every :class:`ModelCard` field except the weights
    file and checksum, which are filled in here.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / f"{name}.pt"
    payload = {"state_dict": {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}}
    payload["extra"] = {k: v.detach().cpu().contiguous() for k, v in (extra_tensors or {}).items()}
    tmp = weights.with_suffix(".pt.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, weights)
    card = ModelCard(name=name, weights_file=weights.name, weights_sha256=sha256_file(weights), **card_fields)
    card_path = directory / f"{name}.json"
    tmp_card = card_path.with_suffix(".json.tmp")
    tmp_card.write_text(card.to_json())
    os.replace(tmp_card, card_path)
    return card


def read_card(card_path: Path) -> ModelCard:
    """Read and validate a model card (``.json``)."""
    card_path = Path(card_path)
    if not card_path.is_file():
        raise ModelError(f"Model card not found: {card_path}", hint="Reinstall chequeverify or pass --model.")
    try:
        raw = json.loads(card_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"The model card {card_path.name} cannot be read ({exc}).") from None
    return ModelCard.from_dict(raw)


def load_checkpoint(card_path: Path) -> tuple[ModelCard, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Card, state dict and extra tensors of a checkpoint, checksum verified first."""
    card = read_card(card_path)
    weights = Path(card_path).with_name(card.weights_file)
    if not weights.is_file():
        raise ModelError(f"Model weights not found: {weights}", hint="Reinstall chequeverify.")
    digest = sha256_file(weights)
    if digest != card.weights_sha256:
        raise ModelError(
            f"The model weights {weights.name} do not match their checksum; the file is damaged or was replaced.",
            hint="Reinstall chequeverify or restore the model files.",
        )
    try:
        payload = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 — any failure here means an unusable file
        raise ModelError(f"The model weights {weights.name} cannot be read ({exc}).") from None
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise ModelError(f"The model weights {weights.name} have an unexpected structure.")
    return card, payload["state_dict"], payload.get("extra", {})
