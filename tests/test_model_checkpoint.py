"""Typed checkpoints: round trip, checksum, version and structure checks; score functions."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from chequeverify.errors import ModelError
from chequeverify.imaging.normalise import NORMALISATION_VERSION
from chequeverify.model import ScoreFunction, Thresholds, load_model
from chequeverify.model.checkpoint import FORMAT_VERSION, read_card, save_checkpoint
from chequeverify.model.networks import build_network

ARGS = {"widths": [8, 8, 16, 16], "embedding_dim": 16}


def write_tiny_checkpoint(folder, method="mean-cosine", seed=0):
    torch.manual_seed(seed)
    net = build_network("signet-lite", **ARGS)
    cohort = torch.nn.functional.normalize(torch.randn(40, 16), dim=1)
    fields = dict(
        architecture="signet-lite",
        architecture_args=ARGS,
        input_height=40,
        input_width=120,
        normalisation_version=NORMALISATION_VERSION,
        embedding_dim=16,
        scoring={"method": method, "top": 0},
        thresholds=Thresholds(decision=0.5, accept=0.7, reject=0.3, chosen_on="test", rule="test"),
        training={"data": ["synthetic"]},
    )
    return save_checkpoint(folder, "tiny", fields, net.state_dict(), {"cohort": cohort} if method == "snorm" else {})


def signature(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((100, 300), 240, np.uint8)
    for _ in range(6):
        x0, y0 = rng.integers(20, 260), rng.integers(20, 80)
        for t in range(60):
            x, y = int(x0 + t * 0.6), int(y0 + 12 * np.sin(t / 6 + seed))
            img[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2] = 30
    return img


def test_round_trip_and_embed(tmp_path):
    card = write_tiny_checkpoint(tmp_path)
    model = load_model(tmp_path / "tiny.json")
    assert model.model_id == f"tiny:{card.weights_sha256[:12]}"
    assert model.card.format_version == FORMAT_VERSION
    emb = model.embed([signature(1), signature(2)])
    assert emb.shape == (2, 16) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    # deterministic: the same image gives the same embedding
    np.testing.assert_allclose(model.embed([signature(1)])[0], emb[0], rtol=1e-5, atol=1e-6)
    # the card on disk is plain JSON with the agreed fields
    raw = json.loads((tmp_path / "tiny.json").read_text())
    for key in ("architecture", "input_height", "embedding_dim", "thresholds", "training", "weights_sha256", "scoring"):
        assert key in raw


def test_tampered_weights_are_refused(tmp_path):
    write_tiny_checkpoint(tmp_path)
    weights = tmp_path / "tiny.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        load_model(tmp_path / "tiny.json")


def test_other_format_version_is_refused(tmp_path):
    write_tiny_checkpoint(tmp_path)
    card = tmp_path / "tiny.json"
    raw = json.loads(card.read_text())
    raw["format_version"] = FORMAT_VERSION + 1
    card.write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="format version"):
        read_card(card)


def test_missing_and_garbled_cards(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot be read"):
        load_model(tmp_path / "bad.json")


def test_pickled_code_is_never_executed(tmp_path):
    """A weights file carrying a pickled object is refused even with a matching checksum."""
    import hashlib

    write_tiny_checkpoint(tmp_path)

    class Evil:
        def __reduce__(self):
            return (print, ("executed",))

    torch.save({"state_dict": {}, "evil": Evil()}, tmp_path / "tiny.pt")
    card = tmp_path / "tiny.json"
    raw = json.loads(card.read_text())
    raw["weights_sha256"] = hashlib.sha256((tmp_path / "tiny.pt").read_bytes()).hexdigest()
    card.write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="cannot be read"):
        load_model(card)


PRIOR = dict(prior_mu=0.6, prior_sigma=0.15, prior_weight=3.0)


@pytest.mark.parametrize("method", ["mean-cosine", "snorm", "refnorm"])
def test_score_functions_agree_between_single_many_and_groups(method):
    rng = np.random.default_rng(0)
    unit = lambda a: (a / np.linalg.norm(a, axis=-1, keepdims=True)).astype(np.float32)  # noqa: E731
    cohort = unit(rng.normal(size=(50, 16)))
    fn = ScoreFunction(method, cohort, **(PRIOR if method == "refnorm" else {}))
    refs = unit(rng.normal(size=(12, 16)))
    groups = np.repeat([7, 3, 9], 4)
    q = unit(rng.normal(size=16))
    ids, scores = fn.score_groups(q, refs, groups)
    assert list(ids) == [3, 7, 9]
    for gid, s in zip(ids, scores):
        assert s == pytest.approx(fn.score(q, refs[groups == gid]), abs=1e-5)
    many = fn.score_many(np.stack([q, q]), refs[:4])
    assert many[0] == pytest.approx(fn.score(q, refs[:4]), abs=1e-6)


def test_a_reference_scores_higher_than_a_stranger():
    rng = np.random.default_rng(1)
    unit = lambda a: (a / np.linalg.norm(a, axis=-1, keepdims=True)).astype(np.float32)  # noqa: E731
    cohort = unit(rng.normal(size=(50, 16)))
    refs = unit(rng.normal(size=(3, 16)))
    close = unit(refs.mean(0) + 0.05 * rng.normal(size=16))
    far = unit(rng.normal(size=16))
    for fn in (ScoreFunction("mean-cosine"), ScoreFunction("snorm", cohort), ScoreFunction("snorm", cohort, top=10),
               ScoreFunction("refnorm", **PRIOR)):
        assert fn.score(close, refs) > fn.score(far, refs)


def test_refnorm_by_hand():
    """Three references in 2-D; leave-one-out similarities worked out by hand."""
    r = np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8]], np.float32)
    # r_i · mean(others): r0·(0.7,0.7)=0.7 ; r1·(0.8,0.4)=0.88 ; r2·(0.9,0.3)=0.78
    loo = np.array([0.7, 0.88, 0.78])
    fn = ScoreFunction("refnorm", prior_mu=0.5, prior_sigma=0.2, prior_weight=1.0)
    stats = fn.reference_stats(r)
    mu = (3 * loo.mean() + 0.5) / 4
    sigma = np.sqrt((3 * loo.var() + 0.2**2) / 4)
    assert stats.mu == pytest.approx(mu, abs=1e-5) and stats.sigma == pytest.approx(sigma, abs=1e-5)
    q = np.array([0.0, 1.0], np.float32)
    assert fn.score(q, r) == pytest.approx((q @ r.mean(0) - mu) / sigma, abs=1e-5)
    # one reference: no spread to measure, the prior's affine map of the cosine
    assert fn.score(q, r[1:2]) == pytest.approx((0.6 - 0.5) / 0.2, abs=1e-5)


def test_refnorm_gives_a_steady_hand_a_higher_bar():
    steady = np.array([[1.0, 0.0], [0.99, 0.14], [0.99, -0.14]], np.float32)
    variable = np.array([[1.0, 0.0], [0.8, 0.6], [0.8, -0.6]], np.float32)
    fn = ScoreFunction("refnorm", prior_mu=0.8, prior_sigma=0.1, prior_weight=1.0)
    q = np.array([0.9, 0.436], np.float32)  # a query at cos ≈ 0.9 from the first reference
    assert fn.score(q, variable) > fn.score(q, steady)


def test_thresholds_by_number_of_references_round_trip_and_lookup(tmp_path):
    rows = (
        {"references": 5, "decision": -1.2, "accept": -0.6, "reject": -2.0},
        {"references": 1, "decision": -1.0, "accept": 0.1, "reject": -2.7},
        {"references": 3, "decision": -1.1, "accept": -0.3, "reject": -2.2},
    )
    t = Thresholds(decision=-1.05, accept=-0.1, reject=-2.4, chosen_on="v", rule="r", by_references=rows)
    assert [r["references"] for r in t.by_references] == [1, 3, 5]  # kept sorted
    # the row of the largest K not above the account's: never a better-enrolled account's thresholds
    assert [t.for_references(k).accept for k in (1, 2, 3, 4, 5, 9)] == [0.1, 0.1, -0.3, -0.3, -0.6, -0.6]
    assert t.for_references(0).accept == 0.1 and t.for_references(4).reject == -2.2
    assert "3 references" in t.for_references(4).rule
    plain = Thresholds(decision=0.5, accept=0.7, reject=0.3)
    assert plain.for_references(7) is plain
    with pytest.raises(ModelError, match="references"):
        Thresholds(0.5, 0.7, 0.3, by_references=({"references": 2, "decision": 0.5, "accept": 0.4, "reject": 0.3},))

    card = write_tiny_checkpoint(tmp_path)
    raw = json.loads((tmp_path / "tiny.json").read_text())
    raw["thresholds"]["by_references"] = list(rows)
    (tmp_path / "tiny.json").write_text(json.dumps(raw))
    model = load_model(tmp_path / "tiny.json")
    assert model.model_id == card.model_id
    assert model.thresholds_for(6).decision == -1.2 and model.thresholds_for(1).reject == -2.7
