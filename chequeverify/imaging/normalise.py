"""From any signature image to the network's input.

A chain of pure functions (sigver's habit), each with its shapes in the
docstring. Conventions:

* a *grey* image is ``H×W uint8`` with dark ink on a light background
  (the way paper is scanned);
* the *network input* is ``H×W float32`` in ``[0, 1]`` with **ink = 1**
  and background = 0, the signature centred on a fixed canvas.

The chain: grey → denoised copy → Otsu ink mask → robust crop → drop the
background (everything lighter than the ink threshold) → invert and
normalise the ink's darkness → resize keeping the aspect ratio → centre on
the canvas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from chequeverify import config
from chequeverify.errors import SignatureNotFound, UnreadableScan

#: bumped whenever the output of :func:`normalise_signature` changes, so that
#: caches of normalised images and stored reference embeddings can tell.
NORMALISATION_VERSION = 1

#: fewer ink pixels than this (after denoising) is "no signature"
MIN_INK_PIXELS = 30
#: fraction of ink pixels trimmed at each end when cropping (stray specks)
CROP_TRIM = 0.002


def to_grey(image: Image.Image | np.ndarray) -> np.ndarray:
    """Any Pillow image or array → ``H×W uint8`` grey, dark ink on light paper.

    Handles 1-bit, palette, RGB(A), CMYK, 16-bit (``I;16``, ``I``) and float
    images; transparent pixels become white paper. Arrays may be ``H×W`` or
    ``H×W×C`` of any integer or float dtype (floats taken in ``[0, 1]``).
    """
    if isinstance(image, np.ndarray):
        return _array_to_grey(image)
    if not isinstance(image, Image.Image):
        raise UnreadableScan(f"Expected an image, got {type(image).__name__}.")
    mode = image.mode
    if mode == "L":
        return np.asarray(image, dtype=np.uint8)
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return _array_to_grey(np.asarray(image))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(paper, rgba).convert("L"), dtype=np.uint8)
    return np.asarray(image.convert("L"), dtype=np.uint8)


def _array_to_grey(array: np.ndarray) -> np.ndarray:
    a = np.asarray(array)
    if a.ndim == 3:
        if a.shape[2] == 4:  # composite on white paper
            alpha = a[..., 3:4].astype(np.float32) / (255.0 if a.dtype == np.uint8 else float(a[..., 3].max() or 1))
            a = a[..., :3].astype(np.float32) * alpha + (1 - alpha) * _white(a.dtype)
        a = a[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) if a.shape[2] >= 3 else a[..., 0]
    if a.ndim != 2:
        raise UnreadableScan(f"Expected a 2-D image, got an array of shape {array.shape}.")
    if a.dtype == np.uint8:
        return a
    a = a.astype(np.float32)
    if np.issubdtype(np.asarray(array).dtype, np.floating) and a.max(initial=0) <= 1.0:
        a = a * 255.0
    elif a.max(initial=0) > 255:  # 16-bit or wider: scale the used range
        a = a * (255.0 / (65535.0 if a.max() <= 65535 else a.max()))
    return np.clip(a + 0.5, 0, 255).astype(np.uint8)


def _white(dtype: np.dtype) -> float:
    return 1.0 if np.issubdtype(dtype, np.floating) else float(np.iinfo(dtype).max)


def otsu_threshold(grey: np.ndarray) -> int:
    """Otsu's threshold of an ``H×W uint8`` image: ink is ``grey <= t``."""
    hist = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 127
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(hist)
    m0 = np.cumsum(hist * levels)
    w1 = total - w0
    mean_all = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_all * w0 - m0 * total) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = 0
    return int(np.argmax(between))


@dataclass(frozen=True)
class InkStats:
    """What :func:`find_ink` learnt about an image.

    ``threshold``: grey level separating ink (``<=``) from paper;
    ``box``: ``(x0, y0, x1, y1)`` of the ink, exclusive ends, in pixels;
    ``pixels``: number of ink pixels in the denoised mask.
    """

    threshold: int
    box: tuple[int, int, int, int]
    pixels: int


def denoise(grey: np.ndarray) -> np.ndarray:
    """``H×W uint8`` → ``H×W uint8`` with isolated specks and paper grain smoothed away (3×3 box blur: fast, and enough for a threshold)."""
    return np.asarray(Image.fromarray(grey).filter(ImageFilter.BoxBlur(1)), dtype=np.uint8)


def find_ink(grey: np.ndarray) -> InkStats:
    """Locate the ink of a signature image.

    ``grey``: ``H×W uint8``, dark ink on light paper. The threshold is
    Otsu's on a denoised copy, capped so that a page with no dark ink at
    all (paper grain only) yields no ink. The box trims :data:`CROP_TRIM`
    of the ink at each side so that stray specks far from the signature do
    not stretch it. Raises :class:`SignatureNotFound` when there is no ink.
    """
    if grey.ndim != 2 or min(grey.shape) < 2:
        raise SignatureNotFound("The signature image is empty.")
    smooth = denoise(grey)
    t = otsu_threshold(smooth)
    paper = float(np.percentile(smooth, 90))
    darkest = float(smooth.min())
    # Otsu always splits, even a blank page: demand real contrast between ink and paper.
    if paper - darkest < 40:
        raise SignatureNotFound("No ink found: the signature area is blank.")
    t = min(t, int(paper - 20))
    mask = smooth <= t
    n = int(mask.sum())
    if n < MIN_INK_PIXELS:
        raise SignatureNotFound("No ink found: the signature area is blank or too faint.")
    ys, xs = np.nonzero(mask)
    k = int(n * CROP_TRIM)
    xs.sort()
    ys.sort()
    x0, x1 = int(xs[k]), int(xs[n - 1 - k]) + 1
    y0, y1 = int(ys[k]), int(ys[n - 1 - k]) + 1
    return InkStats(threshold=t, box=(x0, y0, x1, y1), pixels=n)


def ink_intensity(grey: np.ndarray, threshold: int) -> np.ndarray:
    """``H×W uint8`` grey → ``H×W float32`` ink in ``[0, 1]`` (ink = 1, paper = 0).

    Pixels lighter than ``threshold`` are paper and become 0; the darkness
    of the rest is scaled so that the pen's typical darkness (the 25th
    percentile of ink grey levels) maps to 1: a light pencil and a black
    marker give the same input.
    """
    g = grey.astype(np.float32)
    ink = g <= threshold
    if not ink.any():
        return np.zeros(grey.shape, np.float32)
    dark = float(np.percentile(g[ink], 25))
    span = max(float(threshold) - dark, 8.0)
    out = (float(threshold) + 1.0 - g) / span
    out[~ink] = 0.0
    return np.clip(out, 0.0, 1.0)


def fit_on_canvas(ink: np.ndarray, height: int, width: int) -> np.ndarray:
    """``h×w float32`` → ``height×width float32``: resize keeping the aspect ratio, centred.

    Area-averaged downscaling keeps thin strokes visible.
    """
    h, w = ink.shape
    scale = min(height / h, width / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    img = Image.fromarray(ink.astype(np.float32), mode="F")
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    small = np.asarray(img.resize((nw, nh), resample), dtype=np.float32)
    # Downscaling thins the strokes' darkness in proportion to the scale:
    # bring the brightest strokes back to 1 so every source looks alike.
    bright = small[small > 0.05]
    if bright.size:
        small = np.clip(small / max(float(np.percentile(bright, 95)), 0.2), 0.0, 1.0)
    canvas = np.zeros((height, width), np.float32)
    y, x = (height - nh) // 2, (width - nw) // 2
    canvas[y : y + nh, x : x + nw] = small
    return canvas


def normalise_signature(
    image: Image.Image | np.ndarray,
    height: int = config.INPUT_HEIGHT,
    width: int = config.INPUT_WIDTH,
) -> np.ndarray:
    """A signature image (crop) → the network input, ``height×width float32``, ink = 1.

    ``image``: a Pillow image or an array in any mode, dark ink on light
    paper. Raises :class:`SignatureNotFound` when the image holds no ink.
    """
    grey = _reduce_large(to_grey(image), height, width)
    stats = find_ink(grey)
    x0, y0, x1, y1 = stats.box
    pad = 2
    crop = grey[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad]
    return fit_on_canvas(ink_intensity(crop, stats.threshold), height, width)


def _reduce_large(grey: np.ndarray, height: int, width: int) -> np.ndarray:
    """Shrink ``H×W uint8`` by an integer factor while it stays over twice the canvas.

    Scans come at 200-600 dpi while the canvas needs far fewer pixels: an
    early box reduction makes the rest of the chain several times faster and
    does not change what survives the final resize.
    """
    factor = int(min(grey.shape[0] / (2 * height), grey.shape[1] / (2 * width)))
    if factor < 2:
        return grey
    return np.asarray(Image.fromarray(grey).reduce(factor), dtype=np.uint8)


def normalise_batch(
    images: list[Image.Image | np.ndarray],
    height: int = config.INPUT_HEIGHT,
    width: int = config.INPUT_WIDTH,
) -> np.ndarray:
    """A list of signature images → ``N×height×width float32`` network inputs."""
    out = np.zeros((len(images), height, width), np.float32)
    for i, image in enumerate(images):
        out[i] = normalise_signature(image, height, width)
    return out
