"""The default model shipped in assets/models: loads, is documented, small, and behaves."""

from __future__ import annotations

import numpy as np

from chequeverify import config
from chequeverify.imaging import synthetic_signature
from chequeverify.model import default_model_path, load_model


def test_default_model_loads_with_a_complete_card():
    model = load_model()
    card = model.card
    assert card.name == config.DEFAULT_MODEL_NAME
    assert model.model_id.startswith(config.DEFAULT_MODEL_NAME + ":")
    assert card.thresholds.reject <= card.thresholds.decision <= card.thresholds.accept
    assert "validation" in card.thresholds.chosen_on
    # trained only on the train side of the shared splits, validated on writers carved out of it
    test_writers = {"cedar": 46, "bhsig-bengali": 51, "bhsig-hindi": 101, "gpds-synthetic": 121}
    for spec in card.training["data"] + card.training["validation"]:
        name, _, ranges = spec.partition(":")
        last = max(int(part.split("-")[-1]) for part in ranges.split(","))
        assert last < test_writers[name], spec
    assert card.scoring["method"] in ("mean-cosine", "refnorm", "snorm")


def test_weights_are_small():
    card = load_model().card
    weights = default_model_path().with_name(card.weights_file)
    assert weights.stat().st_size <= 20 * 1024 * 1024


def test_same_writer_scores_higher_than_another():
    model = load_model()
    refs = model.embed([synthetic_signature(7, variant=v) for v in (1, 2, 3)])
    same = model.embed([synthetic_signature(7, variant=4)])[0]
    other = model.embed([synthetic_signature(8, variant=4)])[0]
    assert np.allclose(np.linalg.norm(refs, axis=1), 1.0, atol=1e-4)
    assert model.score(same, refs) > model.score(other, refs)
