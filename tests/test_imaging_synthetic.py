"""The synthetic cheque and signature generators."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from chequeverify.errors import InvalidInput
from chequeverify.imaging import draw_cheque, get_layout, synthetic_layouts, synthetic_signature


def test_signature_is_dark_strokes_on_white_and_deterministic():
    a = synthetic_signature(5, (300, 120))
    assert a.shape == (120, 300) and a.dtype == np.uint8
    assert 0.02 < (a < 128).mean() < 0.3
    assert (a == synthetic_signature(5, (300, 120))).all()
    assert not (a == synthetic_signature(6, (300, 120))).all()


def test_variants_of_one_design_are_close_but_not_equal():
    a = synthetic_signature(9, (300, 120)) < 128
    b = synthetic_signature(9, (300, 120), variant=1) < 128
    c = synthetic_signature(10, (300, 120)) < 128
    assert not (a == b).all()
    overlap = lambda x, y: (x & y).sum() / max((x | y).sum(), 1)  # noqa: E731
    assert overlap(a, b) > overlap(a, c)


def test_tiny_signature_is_refused():
    with pytest.raises(InvalidInput):
        synthetic_signature(0, (8, 4))


@pytest.mark.parametrize("layout", synthetic_layouts())
def test_cheque_size_follows_the_layout_and_box_holds_the_ink(layout):
    spec = get_layout(layout)
    cheque, box = draw_cheque(synthetic_signature(1), layout, seed=2, dpi=200)
    assert cheque.mode == "RGB"
    assert cheque.size == pytest.approx((spec.size_mm[0] / 25.4 * 200, spec.size_mm[1] / 25.4 * 200), abs=1)
    unsigned, none = draw_cheque(None, layout, seed=2, dpi=200)
    assert none is None
    diff = np.abs(np.asarray(cheque, dtype=int) - np.asarray(unsigned, dtype=int)).max(axis=-1) > 40
    ys, xs = np.nonzero(diff)
    assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == pytest.approx(box, abs=2)
    # inside the signature field of the layout
    fx0, fy0, fx1, fy1 = spec.field_px("signature", *cheque.size)
    assert fx0 - 2 <= box[0] and box[2] <= fx1 + 2 and fy0 - 2 <= box[1] and box[3] <= fy1 + 2


def test_signature_from_any_image_mode():
    sig = Image.fromarray(synthetic_signature(3)).convert("RGB")
    _, box_rgb = draw_cheque(sig, "cts2010", seed=1)
    _, box_grey = draw_cheque(np.asarray(sig.convert("L")), "cts2010", seed=1)
    assert box_rgb == box_grey


def test_blank_signature_image_is_refused():
    with pytest.raises(InvalidInput, match="no ink"):
        draw_cheque(np.full((50, 100), 255, np.uint8), "cts2010")


def test_unknown_layout():
    with pytest.raises(InvalidInput, match="layout"):
        draw_cheque(None, "martian")


def test_cheque_sized_signature_keeps_its_shape_at_cheque_height():
    from chequeverify.imaging.synthetic import cheque_sized

    specimen = synthetic_signature(4, (600, 240), pen_width=6.0)  # a large specimen scan
    small = cheque_sized(Image.fromarray(specimen), 90)
    assert small.dtype == np.uint8 and small.shape[0] == 90
    ys, xs = np.nonzero(specimen < 128)
    aspect = (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)
    assert abs(small.shape[1] / small.shape[0] - aspect) < 0.05 * aspect  # the ink box, scaled
    assert small.max() == 255 and small.min() < 80  # dark pen on white paper
    assert 0.03 < np.mean(small < 128) < 0.5
