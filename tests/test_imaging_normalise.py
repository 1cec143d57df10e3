"""Signature normalisation: any image → H×W float32 network input, ink = 1."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from chequeverify.errors import SignatureNotFound
from chequeverify.imaging.normalise import (
    find_ink,
    normalise_signature,
    otsu_threshold,
    to_grey,
)


def scribble(width=400, height=150, paper=235, ink=40, noise=0, seed=0) -> np.ndarray:
    """A synthetic signature: a few dark strokes on light (optionally noisy) paper."""
    img = Image.new("L", (width, height), paper)
    d = ImageDraw.Draw(img)
    d.line([(60, 100), (120, 30), (160, 110), (220, 40), (300, 95)], fill=ink, width=4)
    d.ellipse([250, 50, 330, 110], outline=ink, width=3)
    a = np.asarray(img, dtype=np.float32)
    if noise:
        a = a + np.random.default_rng(seed).normal(0, noise, a.shape)
    return np.clip(a, 0, 255).astype(np.uint8)


def test_output_shape_range_and_ink_is_bright():
    out = normalise_signature(scribble(), 80, 240)
    assert out.shape == (80, 240) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    # strokes are a minority of the canvas and are bright
    assert 0.02 < (out > 0.5).mean() < 0.4
    assert out[0, :].max() == 0.0 or out[:, 0].max() == 0.0  # padding on one axis


def test_same_signature_same_output_whatever_the_encoding():
    grey = scribble()
    base = normalise_signature(grey)
    rgb = Image.fromarray(grey).convert("RGB")
    sixteen = Image.fromarray(grey.astype(np.uint16) * 257)
    rgba = Image.fromarray(grey).convert("RGBA")
    for variant in (rgb, sixteen, rgba, grey.astype(np.float32) / 255.0):
        assert np.abs(normalise_signature(variant) - base).mean() < 0.01


def test_position_and_scale_invariance():
    small = scribble()
    # the same signature pasted into a larger page, elsewhere, at twice the size
    big = Image.fromarray(small).resize((800, 300), Image.Resampling.BILINEAR)
    page = Image.new("L", (1400, 700), 235)
    page.paste(big, (500, 300))
    a, b = normalise_signature(small), normalise_signature(page)
    assert np.abs(a - b).mean() < 0.03


def test_pen_darkness_is_normalised():
    dark = normalise_signature(scribble(ink=10))
    light = normalise_signature(scribble(ink=150))
    assert np.abs(dark - light).mean() < 0.02


def test_noisy_background_is_dropped():
    out = normalise_signature(scribble(noise=12), 80, 240)
    clean = normalise_signature(scribble(), 80, 240)
    assert np.abs(out - clean).mean() < 0.03


def test_speck_far_away_does_not_stretch_the_crop():
    grey = scribble(width=1200)
    grey[5, 1190] = 0  # a dust speck at the far edge
    stats = find_ink(grey)
    assert stats.box[2] < 400


@pytest.mark.parametrize("paper", [255, 200, 0])
def test_blank_image_has_no_signature(paper):
    with pytest.raises(SignatureNotFound):
        normalise_signature(np.full((100, 300), paper, np.uint8))


def test_noise_only_image_has_no_signature():
    noise = np.clip(np.random.default_rng(1).normal(230, 6, (120, 300)), 0, 255).astype(np.uint8)
    with pytest.raises(SignatureNotFound):
        normalise_signature(noise)


def test_otsu_splits_two_levels():
    a = np.array([[20] * 10 + [220] * 30], np.uint8)
    t = otsu_threshold(a)
    assert 20 <= t < 220


def test_to_grey_palette_and_one_bit():
    grey = scribble()
    pal = Image.fromarray(grey).convert("P")
    one = Image.fromarray(grey).point(lambda v: 255 if v > 128 else 0).convert("1")
    assert to_grey(pal).shape == grey.shape
    g1 = to_grey(one)
    assert g1.dtype == np.uint8 and set(np.unique(g1)) <= {0, 255}
