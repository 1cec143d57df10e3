"""The shipped model on the test writers of the shared sets (reads ../shared/data at run time).

These are regression guards, not the accuracy report: the figures of the
README and the model card come from ``benchmarks/accuracy.py``. The bounds
below are the measured figures of the shipped weights plus about one
percentage point (the weights are fixed, so the figures only move when the
normalisation, the network code or the score function changes); retraining
the model means re-measuring and moving them on purpose.
"""

from __future__ import annotations

import csv
import json

import pytest

from chequeverify.cli import main
from chequeverify.model import load_model
from chequeverify.training.datasets import parse_spec
from chequeverify.training.evaluate import protocol_scores, summarise
from chequeverify.training.protocol import embed_folder

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

#: test writers of ../shared/data/README.md
TEST_WRITERS = {"cedar": "46-55", "bhsig-bengali": "51-100", "bhsig-hindi": "101-160", "gpds-synthetic": "121-150"}

#: upper bounds on the skilled-forgery EER (fractions) at K = 1 and K = 5: measured + ~1 point
EER_SKILLED_BOUND = {  # signet-lite-v3: 17.9 / 13.0, 13.2 / 6.1, 9.5 / 4.0, 16.1 / 8.4 %
    "cedar": {1: 0.19, 5: 0.14},
    "bhsig-bengali": {1: 0.142, 5: 0.071},
    "bhsig-hindi": {1: 0.105, 5: 0.05},
    "gpds-synthetic": {1: 0.171, 5: 0.094},
}

REPORT_KEYS = {
    "set", "writers", "references", "counts", "eer_skilled", "eer_random", "auc_skilled",
    "frr_at_far1_skilled", "threshold", "operational",
}  # fmt: skip


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_evaluate_command_on_cedar_test_writers(shared_data, tmp_path, capsys):
    reports = {}
    for k in (1, 5):
        out = tmp_path / f"cedar_k{k}.json"
        assert main(["evaluate", str(shared_data / "cedar"), "--writers", "46-55", "--references", str(k),
                     "--json", str(out)]) == 0  # fmt: skip
        reports[k] = json.loads(out.read_text())
    for k, r in reports.items():
        assert REPORT_KEYS <= set(r), set(r) ^ REPORT_KEYS
        assert r["set"] == "cedar" and r["writers"] == "46-55" and r["references"] == k
        assert r["counts"]["skilled"] == 240 and r["counts"]["random"] == 90
        assert set(r["operational"]) == {"frr", "far_skilled", "far_random"}
        assert 0 <= r["eer_random"] <= r["eer_skilled"] <= EER_SKILLED_BOUND["cedar"][k], r
        assert r["threshold"] == load_model().thresholds_for(k).decision  # shipped for K references, not a test-set one
    assert reports[5]["eer_skilled"] < reports[1]["eer_skilled"]
    assert "cedar" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["bhsig-bengali", "bhsig-hindi", "gpds-synthetic"])
def test_test_writers_within_measured_bounds(shared_data, model, name):
    data = embed_folder(model, parse_spec(str(shared_data / name), TEST_WRITERS[name]))
    assert not data.failed
    eer = {}
    for k in (1, 5):
        s = summarise(protocol_scores(data.embeddings, data, k, model.scorer), model.thresholds.decision)
        eer[k] = s["eer_skilled"]
        assert s["eer_random"] < s["eer_skilled"] <= EER_SKILLED_BOUND[name][k], (name, k, s)
    assert eer[5] < eer[1]


def test_idrbt_cheques_identify_their_signer(shared_data, tmp_path):
    """Whole scanned cheques, laid out by signer: K = 1 separates signers (random forgeries)."""
    source = shared_data / "cheques" / "idrbt"
    with open(source / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            folder = tmp_path / "idrbt" / row["signer"] / "genuine"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / row["file"]).symlink_to(source / row["file"])
    out = tmp_path / "idrbt.json"
    assert main(["evaluate", str(tmp_path / "idrbt"), "--cheques", "--references", "1", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert "unreadable" not in r and r["eer_skilled"] is None  # no forgeries among the cheques
    assert r["counts"]["genuine"] > 0 and r["eer_random"] <= 0.05, r
