"""Training the twin network on folders in the ``<set>/<writer>/{genuine,forged}`` layout.

The embedding ``f`` is trained on pairs and triplets built inside
writer-balanced batches (``writers_per_batch`` writers, each with
``genuine_per_writer`` genuine and ``forged_per_writer`` skilled-forged
images), so that the anchor writer's own forgeries are always there as the
hard negatives:

* a **triplet loss** with genuine anchors and semi-hard mining (batch-hard
  mining can follow after ``warmup_epochs``; from random weights it
  collapses all distances to zero);
* a **contrastive loss** on every pair of the batch.

What was tried and measured on the validation writers (see the model card):
an auxiliary writer classifier (additive-margin softmax over the training
writers and their forgeries) trains fast but memorises the training
writers — validation EER stalls at ~22 % while it keeps falling on the
training writers — so it is off by default (``proxy_weight``); stroke-width
and ink-darkness augmentation hurt skilled-forgery detection (a forger's
slow hand leaves heavier, blunter strokes: a network taught to ignore them
loses that evidence), so only affine jitter is applied. A moving average
of the weights (``ema_decay``) is available but off: with this schedule it
lagged far behind the raw weights (validation EER 30 % against 19 % after
six epochs). Writer-level mirroring (``mirror_writers``) helps; writer-level
warps and pens (``warp_writers``, ``pen_writers``) measured no better.

Training is resumable: ``<out>/state.pt`` holds model, moving average,
optimiser, scheduler, epoch and random state after each epoch.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from chequeverify.model.checkpoint import ModelCard
from chequeverify.model.distances import CosineSimilarity, FeatureMapHead
from chequeverify.model.losses import CalibrationLoss, ContrastiveLoss, ProxyClassifierLoss, TripletLoss
from chequeverify.model.networks import build_network
from chequeverify.training.datasets import DataSpec, Sample, SignatureArrays, load_images

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    data: list[DataSpec]
    out: Path
    validation: list[DataSpec] = field(default_factory=list)
    architecture: str = "signet-lite"
    widths: tuple[int, int, int, int] = (16, 32, 64, 128)
    embedding_dim: int = 128
    dropout: float = 0.0
    input_height: int = 80
    input_width: int = 240
    epochs: int = 30
    steps_per_epoch: int = 200
    writers_per_batch: int = 16
    genuine_per_writer: int = 4
    forged_per_writer: int = 2
    lr: float = 2e-3
    weight_decay: float = 0.05
    triplet_weight: float = 1.0
    triplet_margin: float = 0.2
    warmup_epochs: int = 1000
    contrastive_weight: float = 1.0
    calibration_weight: float = 0.0
    proxy_weight: float = 0.0
    pair_head_weight: float = 0.0
    balance_sets: bool = False
    ema_decay: float = 0.0
    swa_epochs: int = 0
    swa_lr: float = 2e-4
    augment: bool = True
    augment_ink: bool = False
    mirror_writers: float = 0.0
    warp_writers: float = 0.0
    pen_writers: float = 0.0
    cheque_size: float = 0.0
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    bf16: bool = True
    resume: bool = True

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["data"] = [str(s) for s in self.data]
        d["validation"] = [str(s) for s in self.validation]
        d["out"] = str(self.out)
        return d


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class BatchSampler:
    """Writer-balanced batches of indices into a :class:`SignatureArrays`."""

    def __init__(self, data: SignatureArrays, cfg: TrainConfig, rng: np.random.Generator) -> None:
        self.rng = rng
        self.cfg = cfg
        self.genuine: dict[int, np.ndarray] = {}
        self.forged: dict[int, np.ndarray] = {}
        for w in range(len(data.writers)):
            mine = data.writer == w
            self.genuine[w] = np.nonzero(mine & data.genuine)[0]
            self.forged[w] = np.nonzero(mine & ~data.genuine)[0]
        self.writers = np.array([w for w, g in self.genuine.items() if len(g) >= 2])
        self._order: list[int] = []
        # with balance_sets, every set is drawn equally often whatever its number of writers
        sets = np.array([data.writers[w].split("/")[0] for w in self.writers])
        counts = {name: int((sets == name).sum()) for name in set(sets.tolist())}
        weights = np.array([1.0 / counts[name] for name in sets])
        self.weights = weights / weights.sum()

    def _next_writers(self, n: int) -> list[int]:
        if self.cfg.balance_sets:
            k = min(n, len(self.writers))
            return list(self.rng.choice(self.writers, k, replace=False, p=self.weights))
        out: list[int] = []
        while len(out) < n:
            if not self._order:
                self._order = list(self.rng.permutation(self.writers))
            w = self._order.pop()
            if w not in out:
                out.append(w)
        return out

    def batch(self) -> np.ndarray:
        idx: list[np.ndarray] = []
        for w in self._next_writers(self.cfg.writers_per_batch):
            g = self.genuine[w]
            idx.append(self.rng.choice(g, self.cfg.genuine_per_writer, replace=len(g) < self.cfg.genuine_per_writer))
            f = self.forged[w]
            if len(f) and self.cfg.forged_per_writer:
                idx.append(self.rng.choice(f, self.cfg.forged_per_writer, replace=len(f) < self.cfg.forged_per_writer))
        return np.concatenate(idx)


def pair_indices(writers: np.ndarray, genuine: np.ndarray, rng: np.random.Generator):
    """Pairs for the feature-map head from a writer-balanced batch.

    Per writer: every pair of its genuine signatures (target 1), every
    genuine × skilled-forgery pair (target 0), and each genuine against a
    genuine of another writer (target 0). Returns index arrays a, b and the
    float32 targets.
    """
    a, b, t = [], [], []
    for w in np.unique(writers):
        g = np.nonzero((writers == w) & genuine)[0]
        f = np.nonzero((writers == w) & ~genuine)[0]
        others = np.nonzero((writers != w) & genuine)[0]
        for i in range(len(g)):
            for j in range(i + 1, len(g)):
                a.append(g[i]); b.append(g[j]); t.append(1.0)
            for k in f:
                a.append(g[i]); b.append(k); t.append(0.0)
            if len(others):
                a.append(g[i]); b.append(int(rng.choice(others))); t.append(0.0)
    return np.array(a), np.array(b), np.array(t, np.float32)


def augment_batch(x: torch.Tensor, generator: torch.Generator, ink: bool = False) -> torch.Tensor:
    """``N×1×H×W`` in [0,1] → the same, with a per-image random affine (and optionally ink changes).

    Small rotations (±6°), scale (0.85-1.1, anisotropic), shear and shifts
    imitate how one writer's signatures vary. ``ink`` adds stroke-width and
    darkness changes (pens, scanners) — off by default: a forger writes
    slowly, with heavier, blunter strokes, and a network made blind to
    stroke width and pressure loses that evidence.
    """
    n = x.shape[0]
    dev = x.device

    def u(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=generator, device="cpu").to(dev) * (hi - lo) + lo

    angle = u(-6, 6) * math.pi / 180
    sx, sy = u(0.85, 1.1), u(0.85, 1.1)
    shear = u(-0.15, 0.15)
    tx, ty = u(-0.06, 0.06), u(-0.08, 0.08)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [
            torch.stack([cos / sx, (-sin + shear) / sx, tx], 1),
            torch.stack([sin / sy, cos / sy, ty], 1),
        ],
        1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if not ink:
        return x.clamp(0, 1)
    # stroke width: a third thicker (3×3 max), a third thinner (3×3 min on the ink), a third unchanged
    r = torch.rand(n, generator=generator).to(dev)
    thick = F.max_pool2d(x, 3, 1, 1)
    thin = -F.max_pool2d(-x, 3, 1, 1)
    x = torch.where((r < 0.2)[:, None, None, None], thick, x)
    x = torch.where(((r >= 0.2) & (r < 0.35))[:, None, None, None], 0.5 * (x + thin), x)
    gamma = u(0.7, 1.4)[:, None, None, None]
    return x.clamp(0, 1).pow(gamma)


def mirror_writers(x: torch.Tensor, writers: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Writer-level augmentation: ``N×1×H×W`` → the same, each writer of the batch mirrored as a whole.

    With probability ``p`` a writer of the batch is replaced by its mirror
    image — flipped left-right, upside down, or both, the same way for its
    genuine signatures and its forgeries — which the network sees as a new
    writer with the same variability and the same kind of forger. The
    training sets hold a few hundred writers and validation error rises once
    the network has learnt them; mirrored twins quadruple the shapes it can
    learn without touching the within-writer evidence (stroke quality,
    proportions). Within one batch a writer appears once, so no label
    changes are needed.
    """
    if p <= 0:
        return x
    inverse, chosen, m = _writer_choice(writers, p, generator)
    kind = torch.randint(1, 4, (m,), generator=generator) * chosen  # 0 none, 1 lr, 2 ud, 3 both
    kind = kind[inverse].to(x.device)[:, None, None, None]
    x = torch.where((kind == 1) | (kind == 3), x.flip(-1), x)
    return torch.where((kind == 2) | (kind == 3), x.flip(-2), x)


def _writer_choice(writers: torch.Tensor, p: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(index of each image's writer among the batch's writers, which writers are chosen, how many writers)."""
    uniq, inverse = torch.unique(writers.cpu(), return_inverse=True)
    chosen = torch.rand(len(uniq), generator=generator) < p
    return inverse, chosen, len(uniq)


def warp_writers(
    x: torch.Tensor, writers: torch.Tensor, p: float, generator: torch.Generator, strength: float = 0.08
) -> torch.Tensor:
    """Writer-level augmentation: ``N×1×H×W`` → the same, a writer's images bent by one smooth field.

    With probability ``p`` a writer of the batch gets a random, smooth
    displacement field (a 3 × 5 grid of offsets of up to ``strength`` of
    the half-canvas, interpolated bicubically) applied to every one of its
    images, genuine and forged alike: letters grow, shrink and lean locally
    the same way in all of them — a new writer with the same variability
    and the same kind of forger, like :func:`mirror_writers` but with shapes
    no training writer had. The per-image affine jitter comes after.
    """
    if p <= 0:
        return x
    inverse, chosen, m = _writer_choice(writers, p, generator)
    if not chosen.any():
        return x
    h, w = x.shape[-2:]
    offsets = (torch.rand(m, 2, 3, 5, generator=generator) * 2 - 1) * strength * chosen[:, None, None, None]
    field = F.interpolate(offsets, size=(h, w), mode="bicubic", align_corners=True).permute(0, 2, 3, 1)
    identity = F.affine_grid(torch.eye(2, 3).expand(1, 2, 3), [1, 1, h, w], align_corners=False)
    grid = (identity + field)[inverse].to(x.device, x.dtype)
    bent = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return torch.where(chosen[inverse].to(x.device)[:, None, None, None], bent, x)


def pen_writers(x: torch.Tensor, writers: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Writer-level augmentation: ``N×1×H×W`` in [0,1] → the same, a writer's images in another pen.

    With probability ``p`` every image of a writer is drawn with a thicker
    stroke (grey-level dilation, 3 × 3) or a thinner one (half-way to an
    erosion), half the writers each way. Unlike per-image ink jitter (which
    hides a slow forger's heavier strokes), the writer's genuine signatures
    and its forgeries change together, so the difference between them stays
    — what changes is the pen, which differs between scanners, sets and
    banks.
    """
    if p <= 0:
        return x
    inverse, chosen, m = _writer_choice(writers, p, generator)
    if not chosen.any():
        return x
    thicker = torch.rand(m, generator=generator) < 0.5
    kind = (chosen.long() * (1 + thicker.long()))[inverse].to(x.device)[:, None, None, None]  # 0 none, 1 thin, 2 thick
    thick = F.max_pool2d(x, 3, 1, 1)
    thin = 0.5 * (x - F.max_pool2d(-x, 3, 1, 1))
    return torch.where(kind == 2, thick, torch.where(kind == 1, thin, x))


class Trainer:
    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.device = pick_device(cfg.device)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.train = SignatureArrays.from_specs(cfg.data, cfg.input_height, cfg.input_width)
        self.val = (
            SignatureArrays.from_specs(cfg.validation, cfg.input_height, cfg.input_width) if cfg.validation else None
        )
        self.images = torch.from_numpy(self.train.images)  # uint8, stays on CPU
        # the same signatures rendered at the size a cheque carries them (see cheque_size)
        self.small_images = self._cheque_size_images() if cfg.cheque_size else None
        nw = len(self.train.writers)
        self.classes = torch.from_numpy(np.where(self.train.genuine, self.train.writer, self.train.writer + nw))
        self.network = build_network(
            cfg.architecture, widths=tuple(cfg.widths), embedding_dim=cfg.embedding_dim, dropout=cfg.dropout
        )
        self.network.to(self.device)
        # an exponential moving average of the weights: validated, saved and exported instead
        # of the raw weights, it evens out the step-to-step noise of metric-learning batches
        self.ema = (
            torch.optim.swa_utils.AveragedModel(
                self.network, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True
            )
            if cfg.ema_decay
            else None
        )
        self.proxy = ProxyClassifierLoss(2 * nw, cfg.embedding_dim).to(self.device)
        self.triplet_semi = TripletLoss(CosineSimilarity(), cfg.triplet_margin, "semi-hard")
        self.triplet_hard = TripletLoss(CosineSimilarity(), cfg.triplet_margin, "batch-hard")
        self.contrastive = ContrastiveLoss(CosineSimilarity(), pos_margin=0.8, neg_margin=0.3)
        self.calibration = CalibrationLoss()
        self.head = FeatureMapHead(cfg.widths[-1]).to(self.device) if cfg.pair_head_weight else None
        params = list(self.network.parameters()) + list(self.proxy.parameters())
        if self.head is not None:
            params += list(self.head.parameters())
        self.opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        total = cfg.epochs * cfg.steps_per_epoch
        warm = cfg.steps_per_epoch
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
        )
        self.sampler = BatchSampler(self.train, cfg, self.rng)
        self.epoch = 0
        self.history: list[dict] = []
        self.best: float | None = None
        cfg.out.mkdir(parents=True, exist_ok=True)
        if cfg.resume and (cfg.out / "state.pt").exists():
            self._load_state()

    def _cheque_size_images(self) -> torch.Tensor:
        """``N×H×W uint8``: every training image with its signature first scaled to cheque size.

        A signature cut from a 200-dpi cheque is 70-110 pixels tall, a
        specimen scan several times that; the network saw only the latter
        and scored the former lower (by ~0.5 on CEDAR validation writers),
        although both normalise to the same canvas. Where a rendering has no
        ink left, the original stands in.
        """
        samples = [Sample(p, "", True) for p in self.train.paths]
        small, kept = load_images(samples, self.cfg.input_height, self.cfg.input_width, variant="cheque-size")
        small[~kept] = self.train.images[~kept]
        return torch.from_numpy(small)

    # --- state -------------------------------------------------------------
    def _save_state(self) -> None:
        state = {
            "network": self.network.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else {},
            "proxy": self.proxy.state_dict(),
            "head": self.head.state_dict() if self.head is not None else {},
            "opt": self.opt.state_dict(),
            "sched": self.sched.state_dict(),
            "epoch": self.epoch,
            "torch_gen": self.gen.get_state(),
            "torch_rng": torch.get_rng_state(),
        }
        tmp = self.cfg.out / "state.pt.tmp"
        torch.save(state, tmp)
        tmp.replace(self.cfg.out / "state.pt")
        (self.cfg.out / "history.json").write_text(
            json.dumps({"config": self.cfg.to_json(), "history": self.history, "rng": self.rng.bit_generator.state}, indent=1)
        )

    def _load_state(self) -> None:
        state = torch.load(self.cfg.out / "state.pt", map_location=self.device, weights_only=True)
        self.network.load_state_dict(state["network"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        self.proxy.load_state_dict(state["proxy"])
        if self.head is not None:
            self.head.load_state_dict(state["head"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])
        self.epoch = int(state["epoch"])
        # the random states are CPU tensors, whatever device map_location sent the weights to
        self.gen.set_state(state["torch_gen"].cpu())
        torch.set_rng_state(state["torch_rng"].cpu())
        saved = json.loads((self.cfg.out / "history.json").read_text())
        self.history = saved["history"]
        self.rng.bit_generator.state = saved["rng"]
        scores = [h["val_eer_skilled"] for h in self.history if h.get("val_eer_skilled") is not None]
        self.best = min(scores) if scores else None
        log.info("resumed from epoch %d", self.epoch)

    # --- steps -------------------------------------------------------------
    def _step(self, scheduled: bool = True) -> dict[str, float]:
        cfg = self.cfg
        idx = torch.from_numpy(self.sampler.batch())
        source = self.images[idx]
        if self.small_images is not None:
            use = torch.rand(len(idx), generator=self.gen) < cfg.cheque_size
            source = torch.where(use[:, None, None], self.small_images[idx], source)
        x = source.to(self.device, non_blocking=True).float().div_(255).unsqueeze(1)
        writers = torch.from_numpy(self.train.writer)[idx].to(self.device)
        if cfg.mirror_writers:
            x = mirror_writers(x, writers, cfg.mirror_writers, self.gen)
        if cfg.warp_writers:
            x = warp_writers(x, writers, cfg.warp_writers, self.gen)
        if cfg.pen_writers:
            x = pen_writers(x, writers, cfg.pen_writers, self.gen)
        if cfg.augment:
            x = augment_batch(x, self.gen, cfg.augment_ink)
        genuine = torch.from_numpy(self.train.genuine)[idx].to(self.device)
        classes = self.classes[idx].to(self.device)
        use_bf16 = cfg.bf16 and self.device.type in ("cpu", "cuda")
        parts: dict[str, torch.Tensor] = {}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_bf16):
            maps = self.network.features(x)
            emb = self.network.embed_features(maps)
            if self.head is not None:
                a, b, target = pair_indices(writers.cpu().numpy(), genuine.cpu().numpy(), self.rng)
                logits = self.head(maps[a], maps[b]).float()
                target_t = torch.from_numpy(target).to(self.device)
                pos_weight = torch.tensor((target == 0).sum() / max((target == 1).sum(), 1), device=self.device)
                parts["pair"] = cfg.pair_head_weight * F.binary_cross_entropy_with_logits(
                    logits, target_t, pos_weight=pos_weight
                )
        emb = emb.float()
        if cfg.triplet_weight:
            trip = self.triplet_semi if self.epoch < cfg.warmup_epochs else self.triplet_hard
            parts["triplet"] = cfg.triplet_weight * trip(emb, writers, genuine)
        if cfg.contrastive_weight:
            parts["contrastive"] = cfg.contrastive_weight * self.contrastive(emb, writers, genuine)
        if cfg.calibration_weight:
            parts["calibration"] = cfg.calibration_weight * self.calibration(emb, writers, genuine)
        if cfg.proxy_weight:
            parts["proxy"] = cfg.proxy_weight * self.proxy(emb, classes)
        loss = sum(parts.values())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.network.parameters(), 5.0)
        self.opt.step()
        if scheduled:
            self.sched.step()
        if self.ema is not None:
            self.ema.update_parameters(self.network)
        out = {k: float(v.detach()) for k, v in parts.items()}
        # collapse guard: the spread of the embeddings in the batch
        out["spread"] = float(emb.detach().std(0).sum())
        return out

    @property
    def eval_network(self) -> torch.nn.Module:
        """The weights that are validated and exported: the moving average when there is one."""
        return self.ema.module if self.ema is not None else self.network

    def embed_arrays(self, images: np.ndarray, batch: int = 256) -> np.ndarray:
        """``N×H×W uint8`` → ``N×D`` embeddings with the evaluated network (eval mode)."""
        net = self.eval_network
        net.eval()
        outs = []
        with torch.inference_mode():
            for i in range(0, len(images), batch):
                x = torch.from_numpy(images[i : i + batch]).to(self.device).float().div_(255).unsqueeze(1)
                outs.append(net(x).float().cpu().numpy())
        self.network.train()
        return np.concatenate(outs) if outs else np.zeros((0, self.cfg.embedding_dim), np.float32)

    def validate(self) -> dict[str, float]:
        from chequeverify.training.evaluate import protocol_scores, summarise

        assert self.val is not None
        emb = self.embed_arrays(self.val.images)
        out: dict[str, float] = {}
        for k in (1, 5):
            scores = protocol_scores(emb, self.val, k)
            s = summarise(scores)
            out[f"val_eer_skilled_k{k}"] = s["eer_skilled"]
            out[f"val_eer_random_k{k}"] = s["eer_random"]
        if self.head is not None:
            out.update(self.validate_head())
        out["val_eer_skilled"] = out.get("val_head_eer_skilled_k1", out["val_eer_skilled_k1"])
        return out

    def validate_head(self) -> dict[str, float]:
        """Protocol EERs when the score is the mean head logit over the K references."""
        from chequeverify.training.metrics import equal_error_rate

        assert self.val is not None and self.head is not None
        self.network.eval(); self.head.eval()
        maps = []
        with torch.inference_mode():
            for i in range(0, len(self.val.images), 256):
                x = torch.from_numpy(self.val.images[i : i + 256]).float().div_(255).unsqueeze(1)
                maps.append(self.network.features(x))
            maps_t = torch.cat(maps)
            out = {}
            v = self.val
            firsts = {w: np.nonzero((v.writer == w) & v.genuine)[0] for w in range(len(v.writers))}
            for k in (1, 5):
                gen, skl, rnd = [], [], []
                for w, g in firsts.items():
                    if len(g) <= k:
                        continue
                    forged = np.nonzero((v.writer == w) & ~v.genuine)[0]
                    others = np.array([gg[0] for ww, gg in firsts.items() if ww != w and len(gg)])
                    queries = np.concatenate([g[k:], forged, others])
                    ref = maps_t[g[:k]]
                    q = maps_t[queries]
                    sc = torch.stack([self.head(q, ref[j : j + 1].expand_as(q)) for j in range(k)]).mean(0).numpy()
                    n1, n2 = len(g) - k, len(forged)
                    gen.append(sc[:n1]); skl.append(sc[n1 : n1 + n2]); rnd.append(sc[n1 + n2 :])
                gen_a, skl_a, rnd_a = np.concatenate(gen), np.concatenate(skl), np.concatenate(rnd)
                out[f"val_head_eer_skilled_k{k}"] = equal_error_rate(gen_a, skl_a)[0]
                out[f"val_head_eer_random_k{k}"] = equal_error_rate(gen_a, rnd_a)[0]
        self.network.train(); self.head.train()
        return out

    def run(self) -> None:
        cfg = self.cfg
        log.info(
            "training %s on %d images of %d writers (%s), device %s",
            cfg.architecture, len(self.train.images), len(self.train.writers),
            ", ".join(str(s) for s in cfg.data), self.device,
        )
        while self.epoch < cfg.epochs:
            t0 = time.time()
            sums: dict[str, float] = {}
            for step in range(cfg.steps_per_epoch):
                parts = self._step()
                for k, v in parts.items():
                    sums[k] = sums.get(k, 0.0) + v
                progress(self.epoch + 1, cfg.epochs, step + 1, cfg.steps_per_epoch, parts, t0)
            record = {k: v / cfg.steps_per_epoch for k, v in sums.items()}
            record["epoch"] = self.epoch + 1
            record["seconds"] = time.time() - t0
            record["lr"] = self.sched.get_last_lr()[0]
            if self.val is not None:
                record.update(self.validate())
            self.epoch += 1
            self.history.append(record)
            sys.stderr.write("\n")
            log.info("epoch %d: %s", self.epoch, {k: round(v, 4) for k, v in record.items()})
            if self.val is not None and (self.best is None or record["val_eer_skilled"] <= self.best):
                self.best = record["val_eer_skilled"]
                torch.save(self.eval_network.state_dict(), cfg.out / "best.pt")
            torch.save(self.eval_network.state_dict(), cfg.out / "last.pt")
            (cfg.out / "swa.pt").unlink(missing_ok=True)  # stale once the main schedule moves on
            self._save_state()
        if cfg.swa_epochs and not (cfg.out / "swa.pt").exists():
            self.run_swa()

    def run_swa(self) -> None:
        """Stochastic weight averaging after the main schedule.

        Training goes on at a small constant learning rate; the weights are
        averaged at the end of each of ``swa_epochs`` epochs and the batch
        norm statistics are then recomputed for the averaged weights. Picking
        the "best" epoch on 50 validation writers picks noise as much as
        quality (the validation EER moves ±2 points from epoch to epoch);
        the average of the last epochs is the more reliable model.
        Written to ``<out>/swa.pt`` and preferred by :meth:`export`.
        """
        cfg = self.cfg
        swa = torch.optim.swa_utils.AveragedModel(self.network)
        for group in self.opt.param_groups:
            group["lr"] = cfg.swa_lr
        for e in range(cfg.swa_epochs):
            t0 = time.time()
            for step in range(cfg.steps_per_epoch):
                parts = self._step(scheduled=False)
                progress(e + 1, cfg.swa_epochs, step + 1, cfg.steps_per_epoch, parts, t0, label="swa")
            swa.update_parameters(self.network)
            sys.stderr.write("\n")
        self.recompute_batch_norm(swa.module)
        torch.save(swa.module.state_dict(), cfg.out / "swa.pt")
        record: dict = {"epoch": self.epoch, "swa_epochs": cfg.swa_epochs}
        if self.val is not None:
            saved, self.ema = self.ema, None
            network, self.network = self.network, swa.module
            try:
                record.update(self.validate())
            finally:
                self.network, self.ema = network, saved
        self.history.append(record)
        log.info("averaged %d epochs: %s", cfg.swa_epochs, {k: round(v, 4) for k, v in record.items()})
        self._save_state()

    def recompute_batch_norm(self, network: torch.nn.Module, batches: int = 60) -> None:
        """Batch-norm running statistics of ``network`` recomputed on un-augmented training batches."""
        norms = [m for m in network.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches below
        network.train()
        with torch.no_grad():
            for _ in range(batches):
                idx = torch.from_numpy(self.sampler.batch())
                network(self.images[idx].to(self.device).float().div_(255).unsqueeze(1))
        network.eval()


    def export(self, name: str) -> ModelCard:
        """Write the product checkpoint ``<out>/<name>.{json,pt}``.

        From the averaged weights (``swa.pt``) when there are some, else from
        the epoch with the best validation EER.
        """
        from chequeverify.training.export import export_model

        if self.val is None:
            raise ValueError("exporting needs validation writers")
        for candidate in ("swa.pt", "best.pt", "last.pt"):
            weights = self.cfg.out / candidate
            if weights.exists():
                break
        state = torch.load(weights, map_location="cpu", weights_only=True)
        network = build_network(self.cfg.architecture, widths=tuple(self.cfg.widths), embedding_dim=self.cfg.embedding_dim)
        network.load_state_dict(state)
        best_epoch = min(self.history, key=lambda h: h.get("val_eer_skilled", 1.0))["epoch"] if self.history else None
        info = {
            "data": [s.label for s in self.cfg.data],
            "validation": [s.label for s in self.cfg.validation],
            "images": int(len(self.train.images)),
            "writers": int(len(self.train.writers)),
            "epochs": self.epoch,
            "best_epoch": best_epoch,
            "weights": weights.name,
            "swa_epochs": self.cfg.swa_epochs if weights.name == "swa.pt" else 0,
            "losses": {"triplet": self.cfg.triplet_weight, "contrastive": self.cfg.contrastive_weight,
                       "calibration": self.cfg.calibration_weight, "proxy": self.cfg.proxy_weight},
            "seconds": round(sum(h.get("seconds", 0.0) for h in self.history)),
            "device": str(self.device),
            "config": {**self.cfg.to_json(), "data": [s.label for s in self.cfg.data],
                       "validation": [s.label for s in self.cfg.validation], "out": None},
        }
        return export_model(
            network,
            self.cfg.architecture,
            {"widths": list(self.cfg.widths), "embedding_dim": self.cfg.embedding_dim},
            self.train,
            self.val,
            self.cfg.out,
            name,
            info,
            (self.cfg.input_height, self.cfg.input_width),
        )


def progress(
    epoch: int, epochs: int, step: int, steps: int, parts: dict[str, float], t0: float, label: str = "epoch"
) -> None:
    """A one-line progress bar on stderr (no dependency)."""
    width = 24
    done = int(width * step / steps)
    rate = step / max(time.time() - t0, 1e-6)
    eta = (steps - step) / max(rate, 1e-6)
    losses = " ".join(f"{k}={v:.3f}" for k, v in parts.items())
    sys.stderr.write(
        f"\r{label} {epoch}/{epochs} [{'#' * done}{'.' * (width - done)}] {step}/{steps} "
        f"{rate:.1f} it/s eta {eta:4.0f}s {losses}   "
    )
    sys.stderr.flush()
