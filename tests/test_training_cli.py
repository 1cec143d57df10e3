"""`chequeverify train` and `evaluate` end to end on a tiny synthetic set in the shared layout.

The set is made here: each "writer" is a synthetic signature design drawn
several times with small variations; its "forgeries" are other designs
drawn to imitate the layout. A tiny network trains for a few steps — enough
to check the plumbing (layout, ranges, resume, export with thresholds chosen
on validation writers, the evaluation JSON), not accuracy.
"""

from __future__ import annotations

import json

import pytest
from PIL import Image

from chequeverify.cli import main
from chequeverify.errors import DatasetError
from chequeverify.imaging import synthetic_signature
from chequeverify.training.datasets import DataSpec, list_samples, parse_ranges, parse_spec

KEYS = {"set", "writers", "references", "counts", "eer_skilled", "eer_random", "auc_skilled",
        "frr_at_far1_skilled", "threshold", "operational"}


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "tiny"
    for writer in range(1, 9):
        g, f = root / f"{writer:03d}" / "genuine", root / f"{writer:03d}" / "forged"
        g.mkdir(parents=True)
        f.mkdir()
        for i in range(7):
            Image.fromarray(synthetic_signature(writer, (300, 110), variant=i + 1)).save(g / f"g-{i:02d}.png")
        for i in range(3):
            Image.fromarray(synthetic_signature(100 * writer + i, (300, 110), variant=1)).save(f / f"f-{i:02d}.png")
    (root / "README.txt").write_text("not a writer folder")
    return root


def test_ranges_and_specs(tiny_set):
    assert parse_ranges("1-3,7") == {1, 2, 3, 7}
    spec = parse_spec(f"{tiny_set}:2-3")
    assert spec.writers == {2, 3}
    samples = list_samples(spec)
    assert {s.writer for s in samples} == {"tiny/002", "tiny/003"}
    assert sum(s.genuine for s in samples) == 14 and sum(not s.genuine for s in samples) == 6
    # genuine first, sorted by file name, within a writer (the protocol's "first K")
    first = [s.path.name for s in samples if s.writer == "tiny/002" and s.genuine]
    assert first == sorted(first)
    for bad in ("3-1", "a-b", "1--2"):
        with pytest.raises(DatasetError):
            parse_ranges(bad)


def test_wrong_layout_is_a_clear_error(tmp_path):
    (tmp_path / "flat").mkdir()
    Image.new("L", (10, 10)).save(tmp_path / "flat" / "x.png")
    with pytest.raises(DatasetError, match="layout"):
        list_samples(DataSpec(tmp_path / "flat"))
    assert main(["evaluate", str(tmp_path / "absent"), "--references", "1"]) == DatasetError.exit_code


def test_train_resume_export_and_evaluate(tiny_set, tmp_path, capsys):
    out = tmp_path / "run"
    common = ["train", "--data", f"{tiny_set}:1-5", "--validation", f"{tiny_set}:6-8", "--out", str(out),
              "--steps-per-epoch", "2", "--writers-per-batch", "3", "--input-size", "40x120",
              "--widths", "8,8,16,16", "--embedding-dim", "16", "--threads", "1", "--name", "tiny",
              "--mirror-writers", "0.5", "--dropout", "0.1", "--cheque-size", "0.5", "--calibration-weight", "5",
              "--warp-writers", "0.5", "--pen-writers", "0.5"]  # fmt: skip
    assert main(common + ["--epochs", "1", "--swa-epochs", "2"]) == 0
    saved = json.loads((out / "history.json").read_text())
    assert saved["config"]["mirror_writers"] == 0.5 and saved["config"]["dropout"] == 0.1
    assert saved["config"]["cheque_size"] == 0.5 and saved["config"]["calibration_weight"] == 5.0
    assert saved["config"]["warp_writers"] == 0.5 and saved["config"]["pen_writers"] == 0.5
    history = saved["history"]
    assert all("calibration" in h for h in history if "swa_epochs" not in h)
    assert [h.get("swa_epochs", 0) for h in history] == [0, 2] and "val_eer_skilled_k1" in history[0]
    # a second call with more epochs resumes instead of starting again, and averages again
    assert main(common + ["--epochs", "2", "--swa-epochs", "2"]) == 0
    history = json.loads((out / "history.json").read_text())["history"]
    assert [h["epoch"] for h in history if "swa_epochs" not in h] == [1, 2]
    assert history[-1]["swa_epochs"] == 2 and history[-1]["epoch"] == 2
    card = json.loads((out / "tiny.json").read_text())
    assert card["training"]["weights"] == "swa.pt"
    t = card["thresholds"]
    assert t["reject"] <= t["decision"] <= t["accept"]
    assert "validation writers" in t["chosen_on"]
    assert card["training"]["validation"] and card["input_height"] == 40
    capsys.readouterr()

    report_path = tmp_path / "eval.json"
    plot = tmp_path / "eval.png"
    assert main(["evaluate", str(tiny_set), "--writers", "6-8", "--references", "2", "--model", str(out / "tiny.json"),
                 "--json", str(report_path), "--plot", str(plot)]) == 0
    report = json.loads(report_path.read_text())
    assert KEYS <= set(report)
    assert report["set"] == "tiny" and report["writers"] == "6-8" and report["references"] == 2
    # 3 writers × (7 - 2) genuine, 3 × 3 skilled, 3 × 2 random
    assert report["counts"] == {"genuine": 15, "skilled": 9, "random": 6}
    for key in ("eer_skilled", "eer_random", "auc_skilled", "frr_at_far1_skilled"):
        assert 0.0 <= report[key] <= 1.0
    assert set(report["operational"]) == {"frr", "far_skilled", "far_random"}
    assert report["threshold"] == pytest.approx(t["decision"])
    # the app's three zones at the shipped accept / reject thresholds, per kind of query
    z = report["zones"]
    assert (z["accept_from"], z["reject_below"]) == (pytest.approx(t["accept"]), pytest.approx(t["reject"]))
    for kind, n in report["counts"].items():
        shares = z[kind]
        assert sum(shares.values()) == pytest.approx(1.0) and all(0 <= v <= 1 for v in shares.values())
        assert round(shares["accept"] * n) == pytest.approx(shares["accept"] * n)  # a whole number of queries
    assert Image.open(plot).size[0] > 500


def test_mirrored_writers_are_flipped_whole():
    import torch

    from chequeverify.training.train import mirror_writers

    gen = torch.Generator().manual_seed(0)
    x = torch.rand(12, 1, 4, 6, generator=gen)
    writers = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    assert torch.equal(mirror_writers(x, writers, 0.0, gen), x)
    seen = set()
    for _ in range(5):
        y = mirror_writers(x, writers, 1.0, gen)
        for w in range(4):
            rows = slice(3 * w, 3 * w + 3)
            kinds = [k for k, f in (("lr", x[rows].flip(-1)), ("ud", x[rows].flip(-2)), ("both", x[rows].flip(-1, -2)))
                     if torch.equal(y[rows], f)]  # fmt: skip
            assert len(kinds) == 1  # all of a writer's images, genuine and forged, the same way
            seen.add(kinds[0])
    assert seen == {"lr", "ud", "both"}


def test_warped_and_repenned_writers_change_whole_writers():
    import torch

    from chequeverify.training.train import pen_writers, warp_writers

    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(6, 1, 20, 60)
    x[:, :, 8:12, 10:50] = 1.0  # a bar of ink, thicker than the 3 × 3 window
    writers = torch.tensor([5, 5, 5, 9, 9, 9])
    for fn in (warp_writers, pen_writers):
        assert torch.equal(fn(x, writers, 0.0, gen), x)
        for _ in range(4):
            y = fn(x, writers, 1.0, gen)
            assert not torch.equal(y[:3], x[:3]) and not torch.equal(y[3:], x[3:])
            # the same change for every image of a writer (its genuine signatures and its forgeries)
            assert torch.allclose(y[1], y[0]) and torch.allclose(y[2], y[0]) and torch.allclose(y[4], y[3])
            assert y.min() >= 0 and y.max() <= 1
    # a warp moves ink but keeps most of it; a pen makes the stroke wider or lighter, never both
    bent = warp_writers(x, writers, 1.0, gen)
    assert 0.7 < bent.sum() / x.sum() < 1.3
    seen = set()
    for _ in range(10):
        y = pen_writers(x, writers, 1.0, gen)
        for rows in (slice(0, 3), slice(3, 6)):
            ink, area = y[rows].sum() / x[rows].sum(), (y[rows] > 0.01).sum() / (x[rows] > 0.01).sum()
            seen.add("thick" if area > 1 else "thin")
            assert (area > 1 and ink > 1) or (area == 1 and ink < 1)
    assert seen == {"thick", "thin"}


def test_evaluate_without_forgeries_reports_null_skilled(tiny_set, tmp_path, capsys):
    from tests.test_model_checkpoint import write_tiny_checkpoint

    write_tiny_checkpoint(tmp_path / "m")
    genuine_only = tmp_path / "gen"
    for w in ("001", "002", "003"):
        (genuine_only / w / "genuine").mkdir(parents=True)
        for src in sorted((tiny_set / w / "genuine").iterdir())[:3]:
            (genuine_only / w / "genuine" / src.name).write_bytes(src.read_bytes())
    assert main(["evaluate", str(genuine_only), "--references", "1", "--model", str(tmp_path / "m" / "tiny.json")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["eer_skilled"] is None and report["auc_skilled"] is None
    assert report["operational"]["far_skilled"] is None
    assert report["eer_random"] is not None


def test_evaluate_refuses_a_k_that_leaves_no_genuine_query(tiny_set, capsys):
    # 7 genuine images per writer: K = 7 leaves none to query with (the model is not even loaded)
    assert main(["evaluate", str(tiny_set), "--writers", "1-2", "-k", "7"]) == DatasetError.exit_code
    err = capsys.readouterr().err
    assert "has more than 7 genuine images (the most is 7)" in err and "--references 6 or fewer" in err


def test_evaluate_writes_null_not_nan(tiny_set, tmp_path, monkeypatch, capsys):
    import chequeverify.training.protocol as protocol
    from tests.test_model_checkpoint import write_tiny_checkpoint

    write_tiny_checkpoint(tmp_path / "m")
    nan, inf = float("nan"), float("inf")
    report = {"counts": {"genuine": 3, "skilled": 0, "random": 0}, "eer_skilled": None,
              "operational": {"frr": nan, "far_random": inf}, "zones": [0.5, nan]}  # fmt: skip
    monkeypatch.setattr(protocol, "evaluate_folder", lambda *a, **k: report)
    out = tmp_path / "eval.json"
    assert main(["evaluate", str(tiny_set), "-k", "1", "--model", str(tmp_path / "m" / "tiny.json"),
                 "--json", str(out)]) == 0  # fmt: skip

    def strict(text):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))

    for text in (out.read_text(), capsys.readouterr().out):
        got = strict(text)
        assert got["operational"] == {"frr": None, "far_random": None} and got["zones"] == [0.5, None]


def test_evaluate_refuses_when_no_genuine_query_was_left(tiny_set, tmp_path, monkeypatch, capsys):
    import chequeverify.training.protocol as protocol
    from tests.test_model_checkpoint import write_tiny_checkpoint

    write_tiny_checkpoint(tmp_path / "m")
    monkeypatch.setattr(protocol, "evaluate_folder", lambda *a, **k: {"counts": {"genuine": 0}, "frr": float("nan")})
    out = tmp_path / "eval.json"
    assert main(["evaluate", str(tiny_set), "-k", "1", "--model", str(tmp_path / "m" / "tiny.json"),
                 "--json", str(out)]) == DatasetError.exit_code  # fmt: skip
    assert not out.exists() and capsys.readouterr().out == ""
