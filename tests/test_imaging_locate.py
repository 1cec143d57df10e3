"""Finding the signature on whole cheques: every layout, turned, skewed, blank."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from chequeverify.errors import InvalidInput, SignatureNotFound, UnreadableScan
from chequeverify.imaging import (
    Located,
    clearing_image,
    draw_cheque,
    extract_signature,
    locate_signature,
    synthetic_layouts,
    synthetic_signature,
)

LAYOUTS = synthetic_layouts()


def iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def ink_box(signed: Image.Image, unsigned: Image.Image) -> tuple[int, int, int, int]:
    """The signature's box as the difference between a signed cheque and the same one unsigned."""
    d = np.abs(np.asarray(signed, dtype=int) - np.asarray(unsigned, dtype=int)).max(axis=-1) > 40
    ys, xs = np.nonzero(d)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


@pytest.fixture(scope="module")
def cheques():
    """Per layout: (signed cheque, true box, the same cheque unsigned)."""
    out = {}
    for layout in LAYOUTS:
        signed, box = draw_cheque(synthetic_signature(7), layout, seed=0)
        unsigned, _ = draw_cheque(None, layout, seed=0)
        out[layout] = (signed, box, unsigned)
    return out


def test_every_layout_has_a_synthetic_cheque():
    assert {"cts2010", "north_american"} <= set(LAYOUTS)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_finds_the_signature_on_every_layout(layout, seed):
    cheque, box = draw_cheque(synthetic_signature(seed + 20), layout, seed=seed)
    located = locate_signature(cheque)
    assert isinstance(located, Located)
    assert iou(located.box, box) >= 0.75, (located, box)
    assert located.layout == layout
    assert located.rotated == 0
    assert 0.3 <= located.confidence <= 1.0


@pytest.mark.parametrize("layout", LAYOUTS)
def test_unsigned_cheque_is_not_found(layout):
    # payee and amount are written by hand: handwriting elsewhere is not a signature
    cheque, box = draw_cheque(None, layout, seed=5, filled=True)
    assert box is None
    with pytest.raises(SignatureNotFound, match="blank"):
        locate_signature(cheque)


def test_blank_paper_and_white_image_are_not_found():
    with pytest.raises(SignatureNotFound):
        locate_signature(Image.new("RGB", (1600, 730), (240, 240, 240)))
    with pytest.raises(SignatureNotFound):
        locate_signature(np.full((300, 700), 255, np.uint8))


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_turned_scans_give_the_box_in_the_image_as_loaded(cheques, turn):
    signed, _, unsigned = cheques["cts2010"]
    a, b = signed.rotate(turn, expand=True), unsigned.rotate(turn, expand=True)
    located = locate_signature(a)
    assert located.rotated == (360 - turn) % 360  # the turn that makes it upright again
    assert iou(located.box, ink_box(a, b)) >= 0.9


@pytest.mark.parametrize("layout", ["cts2010", "north_american"])
@pytest.mark.parametrize("angle", [3.0, -4.0])
def test_skewed_scans(cheques, layout, angle):
    signed, _, unsigned = cheques[layout]
    kw = dict(expand=True, fillcolor=(255, 255, 255), resample=Image.Resampling.BILINEAR)
    a, b = signed.rotate(angle, **kw), unsigned.rotate(angle, **kw)
    located = locate_signature(a)
    assert located.layout == layout
    assert iou(located.box, ink_box(a, b)) >= 0.85


@pytest.mark.parametrize("dpi", [150, 300])
def test_other_resolutions(dpi):
    cheque, box = draw_cheque(synthetic_signature(3), "cts2010", seed=4, dpi=dpi)
    assert iou(locate_signature(cheque).box, box) >= 0.8


@pytest.mark.parametrize("layout", ["cts2010", "north_american"])
@pytest.mark.parametrize("form", ["grey-100dpi", "bitonal"])
def test_clearing_images(layout, form):
    """The forms image clearing sends: CTS-2010's grey front at 100 dpi (read enlarged to
    the 200 dpi the zone analysis works at) and the black-and-white front."""
    cheque, box = draw_cheque(synthetic_signature(5), layout, seed=3)
    image = clearing_image(cheque, form)
    if form == "grey-100dpi":
        assert image.mode == "L" and image.width == round(cheque.width / 2) and image.info["dpi"] == (100.0, 100.0)
        box = tuple(round(v / 2) for v in box)
    else:
        assert image.mode == "1"
    located = locate_signature(image)
    assert located.layout == layout and iou(located.box, box) >= 0.75, (located, box)
    _, crop = extract_signature(image)
    assert crop.dtype == np.uint8 and np.mean(crop < 128) > 0.02
    # a black-and-white crop comes back with soft edges, as the network saw grey scans
    assert ((crop > 40) & (crop < 215)).mean() > 0.01


def test_clearing_image_forms():
    cheque, _ = draw_cheque(synthetic_signature(5), "cts2010", seed=3)
    assert clearing_image(cheque, "scan") is cheque
    assert clearing_image(cheque, "grey").mode == "L"
    assert set(np.unique(np.asarray(clearing_image(cheque, "bitonal").convert("L")))) <= {0, 255}
    with pytest.raises(InvalidInput, match="Unknown clearing image form"):
        clearing_image(cheque, "sepia")


def test_arrays_and_grey_scans(cheques):
    signed, box, _ = cheques["north_american"]
    assert iou(locate_signature(np.asarray(signed)).box, box) >= 0.8
    assert iou(locate_signature(signed.convert("L")).box, box) >= 0.8
    assert iou(locate_signature(np.asarray(signed.convert("L"))).box, box) >= 0.8


@pytest.mark.parametrize("pen", [(25, 25, 30), (25, 45, 150)])
def test_black_and_blue_pens(pen):
    cheque, box = draw_cheque(synthetic_signature(11), "cts2010", seed=6, pen=pen)
    assert iou(locate_signature(cheque).box, box) >= 0.8


def test_scanner_border_around_the_cheque(cheques):
    signed, box, _ = cheques["cts2010"]
    framed = Image.new("RGB", (signed.width + 60, signed.height + 40), (10, 10, 10))
    framed.paste(signed, (30, 25))
    located = locate_signature(framed)
    shifted = (box[0] + 30, box[1] + 25, box[2] + 30, box[3] + 25)
    assert iou(located.box, shifted) >= 0.85


@pytest.mark.parametrize("where", [(30, 150), (40, 1500)])
def test_cheque_scanned_on_a_white_page(cheques, where):
    signed, box, _ = cheques["cts2010"]
    page = Image.new("RGB", (1654, 2339), (252, 252, 252))  # A4 at 200 dpi, portrait
    page.paste(signed, where)
    located = locate_signature(page)
    shifted = (box[0] + where[0], box[1] + where[1], box[2] + where[0], box[3] + where[1])
    assert located.rotated == 0 and iou(located.box, shifted) >= 0.85


def test_not_an_image():
    with pytest.raises(UnreadableScan):
        locate_signature("cheque.jpg")  # type: ignore[arg-type]
    with pytest.raises(UnreadableScan):
        locate_signature(np.zeros((4, 4), np.uint8))


def test_extract_locates_crops_and_cleans(cheques):
    signed, box, _ = cheques["cts2010"]
    located, crop = extract_signature(signed)
    assert iou(located.box, box) >= 0.8
    assert crop.dtype == np.uint8 and crop.ndim == 2
    assert np.median(crop) == 255  # white paper
    assert (crop < 128).mean() > 0.02  # dark strokes
    # about the size of the box (1 mm of paper around it)
    assert abs(crop.shape[1] - (box[2] - box[0])) < 40 and abs(crop.shape[0] - (box[3] - box[1])) < 40


def test_extract_with_a_clerks_box(cheques):
    signed, box, _ = cheques["north_american"]
    wider = (box[0] - 20, box[1] - 15, box[2] + 20, box[3] + 15)
    located, crop = extract_signature(signed, wider)
    assert located.confidence == 1.0 and located.box == wider
    assert (crop < 128).any()


def test_extract_on_a_turned_cheque_returns_an_upright_signature(cheques):
    signed, _, _ = cheques["cts2010"]
    _, upright = extract_signature(signed)
    _, turned = extract_signature(signed.rotate(180, expand=True))
    assert abs(upright.shape[0] - turned.shape[0]) <= 3 and abs(upright.shape[1] - turned.shape[1]) <= 3
    h = min(upright.shape[0], turned.shape[0])
    w = min(upright.shape[1], turned.shape[1])
    same = np.mean((upright[:h, :w] < 128) == (turned[:h, :w] < 128))
    assert same > 0.9


def test_extract_refuses_an_empty_box(cheques):
    from chequeverify.errors import InvalidInput

    signed, _, _ = cheques["cts2010"]
    with pytest.raises(InvalidInput):
        extract_signature(signed, (10, 10, 12, 12))
    with pytest.raises(InvalidInput):
        extract_signature(signed, ("a", 1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(SignatureNotFound):
        extract_signature(signed, (640, 400, 900, 460))  # only paper and its security pattern



def _headline_signature(seed: int) -> Image.Image:
    """A scanned signature in the manner of Devanagari: two words, each a long
    hand-drawn headline (wandering by a few pixels, as a hand's line does) with
    letters hanging from it."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    img = Image.new("L", (900, 260), 250)
    d = ImageDraw.Draw(img)
    for x0, x1 in ((40, 420), (500, 860)):
        xs = np.linspace(x0, x1, 12)
        ys = 70 + np.cumsum(rng.normal(0, 5.0, xs.size))
        d.line(list(zip(xs.tolist(), ys.tolist())), fill=20, width=7)
        for x in range(x0 + 30, x1 - 20, 70):
            d.line([(x, 70), (x + 5, 190)], fill=20, width=7)  # a letter's stem
            d.arc([x - 60, 90, x + 5, 180], 90, 300, fill=20, width=7)  # its bowl
    return img


@pytest.mark.parametrize("seed", [2, 3, 7, 8])
def test_the_headline_of_a_devanagari_like_signature_is_not_a_printed_line(seed):
    """On a 200-dpi cheque a headline stays in one pixel row as long as a printed
    line does; taken out as one, it cut such signatures into letters that then
    passed for type (with these seeds 6-15 % of the signature's ink went as "rules")."""
    from chequeverify.imaging.locate import analyse_cheque, find_signature

    cheque, _ = draw_cheque(_headline_signature(seed), seed=seed, pen=(30, 30, 120))
    unsigned, _ = draw_cheque(None, seed=seed, pen=(30, 30, 120))
    ink = np.abs(np.asarray(cheque, int) - np.asarray(unsigned, int)).max(axis=-1) > 40
    found = find_signature(analyse_cheque(cheque))
    (ox, oy), (h, w) = found.offset, found.zone.rules.shape
    rules = np.zeros(ink.shape, bool)
    rules[oy : oy + h, ox : ox + w] = found.zone.rules
    assert (ink & rules).sum() < 0.01 * ink.sum()
    assert found.zone.rules.any()  # the cheque's own printed lines are still found


@pytest.mark.parametrize(("layout", "k"), [("us_business", 42), ("us_business", 43), ("north_american", 47)])
def test_a_printed_signature_line_through_the_signature_leaves_the_crop(layout, k):
    """Cut to the crop, a US cheque's signature line is as short as a headline and has
    strokes under it: only the whole zone, where the line shows its full length, may
    call a line a headline (with us_business 42 the line stayed across the crop)."""
    cheque, _ = draw_cheque(synthetic_signature(k), layout=layout, seed=k - 30)
    _, crop = extract_signature(cheque)
    assert (crop < 128).sum(axis=1).max() < 0.7 * crop.shape[1]


def _zone_with_letters(letter_px: int, *, blob: bool = False):
    """A 200-dpi zone: one large handwritten stroke (a frame of a word) and, inside
    it, small separate pieces that a type finder lined up; returns (zone, signature)."""
    from chequeverify.imaging.components import label
    from chequeverify.imaging.ink import TextLine
    from chequeverify.imaging.locate import Candidate, ZoneInk

    mask = np.zeros((120, 400), bool)
    mask[20:24, 40:360] = True  # a headline drawn apart from the letters
    mask[20:100, 40:44] = True  # and a long stem down from it
    pieces = [(60 + 60 * k, 28) for k in range(1 if blob else 4)]
    for x, y in pieces:  # letters hanging just under the headline
        mask[y : y + letter_px, x : x + (200 if blob else 14)] = True
    comps = label(mask)
    is_hand = np.ones(comps.n, bool)
    members = [int(comps.labels[y + 1, x + 1]) - 1 for x, y in pieces]
    is_hand[members] = False
    line = TextLine(tuple(members), (60, 28, int(comps.x1[members].max()), 28 + letter_px), float(letter_px))
    zone = ZoneInk(
        (0, 0), mask, np.zeros_like(mask), comps.mask_of(~is_hand), comps.mask_of(is_hand), comps, is_hand, [line], 7.87,
        np.zeros_like(mask),
    )
    stroke = int(comps.labels[21, 41]) - 1
    signature = Candidate((40, 20, 360, 100), 60.0, 1.0, 60.0, (stroke,))
    return zone, signature, members


def test_short_lines_of_letters_inside_the_signature_are_its_own():
    """In a grey scan no colour tells a headline's letters from type: a short "line"
    of letters 2 mm or taller, inside the signature and touching its strokes, is
    the signature's; the zone no longer lists it as type."""
    from chequeverify.imaging.locate import _release_letters

    zone, signature, letters = _zone_with_letters(20)
    grown = _release_letters(zone, signature, (0, 0, 400, 120))
    assert set(letters) <= set(grown.members)
    assert zone.text_lines == [] and zone.is_handwriting[letters].all()
    # small type (1.5 mm), or one word blob, stays type
    for zone, signature, letters in (_zone_with_letters(12), _zone_with_letters(20, blob=True)):
        grown = _release_letters(zone, signature, (0, 0, 400, 120))
        assert not set(letters) & set(grown.members) and len(zone.text_lines) == 1
