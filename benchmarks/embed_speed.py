"""Speed of the signature engine on this CPU: normalisation + embedding of signature crops.

Signature crops are what the cheque reader hands to the engine: a
200-dpi crop of a few hundred by a hundred-odd pixels, grey, dark ink on
light paper. The benchmark uses real crops from the shared data when it is
there (CEDAR and BHSig test writers, scaled to 200 dpi like a cheque) and
synthetic strokes otherwise.

Prints, as its last line: ``signatures_per_s=<float> single_ms=<float>``
(batch throughput, and the median latency of one signature end to end).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from PIL import Image

from chequeverify import config
from chequeverify.model import load_model


def sample_crops(n: int) -> list[np.ndarray]:
    data = config.shared_data_dir()
    files = sorted((data / "cedar").glob("05*/genuine/*"))[:n // 2] + sorted((data / "bhsig-hindi").glob("15*/genuine/*"))[: n - n // 2]
    crops = []
    for f in files:
        with Image.open(f) as img:
            grey = img.convert("L")
            # BHSig is scanned at 300 dpi: bring it to the 200 dpi of a cheque crop
            if "bhsig" in str(f):
                grey = grey.resize((grey.width * 2 // 3, grey.height * 2 // 3), Image.Resampling.BILINEAR)
            crops.append(np.asarray(grey))
    rng = np.random.default_rng(0)
    while len(crops) < n:  # no shared data: synthetic strokes
        img = np.full((140, 420), 235, np.uint8)
        for _ in range(8):
            x, y = rng.integers(20, 380), rng.integers(20, 110)
            img[y : y + 3, x : x + rng.integers(10, 40)] = 30
        crops.append(img)
    return crops


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=256, help="signatures in the batch run")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: default = cores)")
    p.add_argument("--model", help="model card (.json); default: the shipped model")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(args.model)
    crops = sample_crops(args.n)
    model.embed(crops[:8])  # warm-up: first calls allocate and pick kernels

    t0 = time.perf_counter()
    emb = model.embed(crops)
    batch_s = time.perf_counter() - t0
    assert emb.shape == (len(crops), model.embedding_dim)

    singles = []
    for crop in crops[:64]:
        t = time.perf_counter()
        model.embed([crop])
        singles.append(time.perf_counter() - t)
    print(f"model {model.model_id}, {len(crops)} crops, {torch.get_num_threads()} threads")
    print(f"batch: {batch_s * 1000:.0f} ms for {len(crops)}; single: median of {len(singles)}")
    print(f"signatures_per_s={len(crops) / batch_s:.1f} single_ms={statistics.median(singles) * 1000:.2f}")


if __name__ == "__main__":
    main()
