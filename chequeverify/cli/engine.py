"""Engine commands: ``train``, ``evaluate``, ``model``."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from pathlib import Path

from chequeverify import config
from chequeverify.errors import DatasetError, InvalidInput

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train the signature model on folders in the <set>/<writer>/{genuine,forged} layout",
        description="Train the twin network. Each --data is PATH[:WRITERS], e.g. "
        "../shared/data/cedar:1-45. Validation writers (--validation) choose the score "
        "function and the thresholds; they are never trained on.",
    )
    p.add_argument("--data", action="append", required=True, metavar="PATH[:WRITERS]", help="training set (repeatable)")
    p.add_argument("--validation", action="append", default=[], metavar="PATH[:WRITERS]",
                   help="validation writers (repeatable); required to export a usable model")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="run folder (resumes if it holds a run)")
    p.add_argument("--name", default=config.DEFAULT_MODEL_NAME, help="name of the exported model")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--steps-per-epoch", type=int, default=200)
    p.add_argument("--writers-per-batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--input-size", default=f"{config.INPUT_HEIGHT}x{config.INPUT_WIDTH}", metavar="HxW")
    p.add_argument("--widths", default="16,32,64,128", help="channels of the four CNN stages")
    p.add_argument("--embedding-dim", type=int, default=128)
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-resume", action="store_true", help="start again even if DIR holds a run")
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--triplet-weight", type=float, default=1.0, help="triplet loss (genuine anchors, forgeries as negatives)")
    p.add_argument("--contrastive-weight", type=float, default=1.0, help="contrastive loss on every pair of the batch")
    p.add_argument("--calibration-weight", type=float, default=0.0,
                   help="variance across the batch's writers of their mean genuine-pair cosine (one threshold for every account)")
    p.add_argument("--proxy-weight", type=float, default=0.0,
                   help="auxiliary writer classification (additive-margin softmax); it memorises training writers, so off by default")
    p.add_argument("--batch-hard-after", type=int, default=1000, metavar="EPOCHS",
                   help="semi-hard triplet mining for this many epochs, then batch-hard (default: semi-hard throughout)")
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--ema", type=float, default=0.0,
                   help="validate and export a moving average of the weights with this decay per step (0: off)")
    p.add_argument("--balance-sets", action="store_true", help="draw every --data set equally often")
    p.add_argument("--swa-epochs", type=int, default=6,
                   help="after the schedule, train this many epochs at a small constant rate and export the "
                   "average of their weights (0: export the best validation epoch instead)")
    p.add_argument("--swa-lr", type=float, default=2e-4)
    p.add_argument("--dropout", type=float, default=0.0, help="dropout before the embedding's projection")
    p.add_argument("--mirror-writers", type=float, default=0.0, metavar="P",
                   help="writer-level augmentation: with probability P a writer of a batch is replaced by its "
                   "mirror image (left-right, upside down or both), a new writer for the network")
    p.add_argument("--warp-writers", type=float, default=0.0, metavar="P",
                   help="writer-level augmentation: with probability P all of a writer's images are bent by one "
                   "smooth random field (new letter shapes, same variability and forger)")
    p.add_argument("--pen-writers", type=float, default=0.0, metavar="P",
                   help="writer-level augmentation: with probability P all of a writer's images get a thicker or "
                   "thinner stroke (another pen; genuine and forged alike)")
    p.add_argument("--cheque-size", type=float, default=0.0, metavar="P",
                   help="with probability P a training image is shown with its signature first scaled to the "
                   "size a 200-dpi cheque carries it (9-14 mm tall)")
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser(
        "evaluate",
        help="measure the model on a set folder with the shared evaluation protocol",
        description="For every writer with more than K genuine images: the first K genuine "
        "(sorted) are the references; queries are the other genuine images, the writer's "
        "skilled forgeries and the first genuine image of every other writer.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="set folder in the <set>/<writer>/{genuine,forged} layout")
    p.add_argument("--writers", metavar="A-B", help="writer numbers to evaluate, e.g. 51-100")
    p.add_argument("--references", "-k", type=int, default=1, metavar="K")
    p.add_argument("--cheques", action="store_true", help="every image is a whole cheque: locate and clean first")
    p.add_argument("--model", type=Path, help="model card (.json) or folder; default: the shipped model")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the figures as JSON")
    p.add_argument("--plot", type=Path, metavar="PNG", help="draw ROC, DET and score histograms")
    p.set_defaults(func=cmd_evaluate)

    p = subparsers.add_parser("model", help="show the model card of the shipped (or a given) model")
    p.add_argument("--model", type=Path, help="model card (.json) or folder")
    p.set_defaults(func=cmd_model)


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InvalidInput(f"Input size {text!r} is not of the form HxW, e.g. 80x240.") from None
    return h, w


def cmd_train(args: argparse.Namespace) -> int:
    from chequeverify.training.datasets import parse_spec
    from chequeverify.training.train import TrainConfig, Trainer

    logging.getLogger("chequeverify").setLevel(min(logging.INFO, logging.getLogger("chequeverify").level or 99))
    height, width = _size(args.input_size)
    try:
        widths = tuple(int(v) for v in args.widths.split(","))
    except ValueError:
        raise InvalidInput(f"--widths {args.widths!r} must be four integers, e.g. 24,48,96,160.") from None
    if len(widths) != 4:
        raise InvalidInput("--widths takes exactly four integers.")
    cfg = TrainConfig(
        data=[parse_spec(s) for s in args.data],
        validation=[parse_spec(s) for s in args.validation],
        out=args.out,
        widths=widths,  # type: ignore[arg-type]
        embedding_dim=args.embedding_dim,
        input_height=height,
        input_width=width,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        writers_per_batch=args.writers_per_batch,
        lr=args.lr,
        device=args.device,
        threads=args.threads,
        seed=args.seed,
        resume=not args.no_resume,
        augment=not args.no_augment,
        triplet_weight=args.triplet_weight,
        contrastive_weight=args.contrastive_weight,
        calibration_weight=args.calibration_weight,
        proxy_weight=args.proxy_weight,
        warmup_epochs=args.batch_hard_after,
        weight_decay=args.weight_decay,
        ema_decay=args.ema,
        balance_sets=args.balance_sets,
        swa_epochs=args.swa_epochs,
        swa_lr=args.swa_lr,
        dropout=args.dropout,
        mirror_writers=args.mirror_writers,
        warp_writers=args.warp_writers,
        pen_writers=args.pen_writers,
        cheque_size=args.cheque_size,
    )
    trainer = Trainer(cfg)
    trainer.run()
    if trainer.val is None:
        print(f"trained weights: {args.out / 'last.pt'} (no --validation: no model exported)")
        return 0
    card = trainer.export(args.name)
    print(f"model: {args.out / (card.name + '.json')}  id {card.model_id}")
    print(f"thresholds: decision {card.thresholds.decision:.4f} accept {card.thresholds.accept:.4f} "
          f"reject {card.thresholds.reject:.4f}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from chequeverify.model import load_model
    from chequeverify.training.datasets import parse_spec
    from chequeverify.training.protocol import evaluate_folder

    if args.references < 1:
        raise InvalidInput("--references must be at least 1.")
    spec = parse_spec(str(args.dir), args.writers)
    _check_queries(spec, args.references)  # before the model loads and every image is embedded
    model = load_model(args.model)
    t0 = time.time()
    report = evaluate_folder(model, spec, args.references, cheques=args.cheques, plot=args.plot)
    log.info("evaluated in %.0fs", time.time() - t0)
    if not report.get("counts", {}).get("genuine"):  # unreadable images left too few genuine ones
        raise DatasetError(f"No genuine query was left for K = {args.references} references in {spec.root} "
                           "(some images could not be read): nothing was measured.",
                           hint="Give a smaller --references.")  # fmt: skip
    text = json.dumps(_finite(report), indent=2, allow_nan=False)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(text)
    return 0


def _check_queries(spec, k: int) -> None:
    """Refuse (:class:`DatasetError`) when no selected writer has more than ``k`` genuine images: no genuine query."""
    from collections import Counter

    from chequeverify.training.datasets import format_ranges, list_samples

    genuine = Counter(s.writer for s in list_samples(spec) if s.genuine)
    most = max(genuine.values(), default=0)
    if most <= k:
        where = f"{spec.root}" + (f" (writers {format_ranges(spec.writers)})" if spec.writers else "")
        raise DatasetError(f"No writer in {where} has more than {k} genuine images (the most is {most}): with "
                           f"K = {k} references there is no genuine query to measure.",
                           hint=f"Give --references {most - 1} or fewer." if most > 1 else None)  # fmt: skip


def _finite(value):
    """The report with NaN and infinities as None: JSON has no NaN, and a reader chokes on one."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def cmd_model(args: argparse.Namespace) -> int:
    from chequeverify.model import load_model

    model = load_model(args.model)
    card = model.card
    print(f"model      {card.model_id}")
    print(f"network    {card.architecture} {card.architecture_args}")
    print(f"input      {card.input_height}x{card.input_width} (normalisation v{card.normalisation_version})")
    print(f"embedding  {card.embedding_dim}")
    print(f"score      {card.scoring.get('method')}")
    t = card.thresholds
    print(f"thresholds decision {t.decision:.4f}, accept >= {t.accept:.4f}, reject < {t.reject:.4f}")
    print(f"           chosen on {t.chosen_on}")
    if t.by_references:
        print("           by the account's number of references K (the last row not above K applies):")
    for row in t.by_references:
        print(f"           K = {int(row['references']):<2}   decision {row['decision']:.4f}, accept >= {row['accept']:.4f}, "
              f"reject < {row['reject']:.4f}")
    if card.training:
        print(f"trained on {', '.join(card.training.get('data', []))}")
    sys.stdout.flush()
    return 0

