"""Finding the handwritten signature on a whole cheque.

The chain, on the image as loaded (``H×W`` grey or RGB, any resolution):

1. **Where and which way** (:func:`analyse_cheque`, on a ~100 dpi copy):
   trim scanner borders (:func:`~.geometry.cheque_region`), turn portrait
   scans to landscape, level the skew (projection profiles), and recognise
   the layout from its printed rules — which also tells an upside-down scan
   (:func:`~.layouts.detect_layout`).
2. **Ink in the signature zone** of that layout, at about 200 dpi: pen and
   print against the local paper (hysteresis, so the security pattern
   drops out), minus printed rules and barcode bars (long straight runs),
   minus printed type (rows of small glyphs on one baseline).
3. **The signature** is the handwriting cluster with the most ink inside
   the layout's signature field; too little handwriting is a blank cheque
   (:class:`~chequeverify.errors.SignatureNotFound`).

The box comes back in pixels of the image as given: the signature's ink
pixels are mapped back through the deskew, the quarter turns and the crop.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PIL import Image

from chequeverify.errors import SignatureNotFound, UnreadableScan
from chequeverify.imaging import geometry
from chequeverify.imaging.components import Components, label
from chequeverify.imaging.ink import (
    TextLine,
    component_colours,
    find_bar_stacks,
    find_rules,
    find_text_lines,
    ink_mask,
    paper_level,
    smear,
)
from chequeverify.imaging.layouts import Layout, detect_layout, to_pixels
from chequeverify.imaging.normalise import to_grey

log = logging.getLogger(__name__)

#: analyse the zone at about this resolution (pixels per millimetre; 200 dpi ≈ 7.9)
WORK_PX_PER_MM = 7.9
#: skews smaller than this (degrees) are left alone
MIN_SKEW = 0.3
#: a signature holds at least this much ink (mm²) and spans at least this much (mm)
MIN_SIGNATURE_INK_MM2 = 6.0
MIN_SIGNATURE_EXTENT_MM = 6.0


@dataclass(frozen=True)
class Located:
    """Where the signature is.

    ``box``: ``(x0, y0, x1, y1)``, exclusive ends, in pixels of the image as
    loaded (after EXIF orientation); ``confidence``: 0..1; ``layout``: the
    recognised layout's name; ``rotated``: the quarter turns (degrees,
    counter-clockwise as :meth:`PIL.Image.Image.rotate`) that made the scan
    upright — the box is nevertheless in the coordinates of the image as loaded.
    """

    box: tuple[int, int, int, int]
    confidence: float
    layout: str = "unknown"
    rotated: int = 0


@dataclass
class ChequeView:
    """An upright, levelled view of the cheque, at about 200 dpi, and the way back.

    ``grey``: ``h×w uint8``; ``rgb``: ``h×w×3 uint8`` or ``None`` for grey
    scans; ``to_input(xs, ys)`` maps pixel coordinates of this view to the
    image as loaded.
    """

    grey: np.ndarray
    rgb: np.ndarray | None
    layout: Layout
    layout_score: float
    rotated: int
    skew: float
    px_per_mm: float
    to_input: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    input_size: tuple[int, int]
    scale: int = 1
    scores: dict[str, float] = field(default_factory=dict)


def _as_arrays(cheque: Image.Image | np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The cheque as ``H×W uint8`` grey and (when in colour) ``H×W×3 uint8``."""
    if isinstance(cheque, Image.Image):
        if cheque.mode in ("RGB", "RGBA", "P", "CMYK", "YCbCr"):
            rgb_img = cheque.convert("RGBA") if cheque.mode in ("RGBA", "P") else cheque.convert("RGB")
            if rgb_img.mode == "RGBA":
                paper = Image.new("RGBA", rgb_img.size, (255, 255, 255, 255))
                rgb_img = Image.alpha_composite(paper, rgb_img).convert("RGB")
            rgb = np.asarray(rgb_img, dtype=np.uint8)
            return np.asarray(rgb_img.convert("L"), dtype=np.uint8), rgb
        return to_grey(cheque), None
    if isinstance(cheque, np.ndarray):
        grey = to_grey(cheque)
        rgb = None
        if cheque.ndim == 3 and cheque.shape[2] >= 3 and cheque.dtype == np.uint8:
            rgb = np.ascontiguousarray(cheque[..., :3])
        return grey, rgb
    raise UnreadableScan(f"Expected a cheque image, got {type(cheque).__name__}.")


def _turn(a: np.ndarray, quarter: int) -> np.ndarray:
    """Rotate an array counter-clockwise by ``quarter`` × 90° (as Pillow's rotate)."""
    return np.ascontiguousarray(np.rot90(a, k=quarter % 4))


def _upright_candidates(h: int, w: int) -> list[int]:
    return [90, 270] if h > 1.15 * w else [0]


def analyse_cheque(cheque: Image.Image | np.ndarray) -> ChequeView:
    """Find the cheque in the scan, turn it upright, level it and recognise its layout."""
    grey, rgb = _as_arrays(cheque)
    H, W = grey.shape
    if min(H, W) < 16:
        raise UnreadableScan(f"The image is too small ({W}×{H} pixels) to be a cheque.")
    small, factor = geometry.reduce_to(grey, 800 if W >= H else int(800 * W / H) + 1)
    rx0, ry0, rx1, ry1 = geometry.cheque_region(small)
    region_small = small[ry0:ry1, rx0:rx1]

    best = None
    for quarter in _upright_candidates(*region_small.shape):
        view = _turn(region_small, quarter // 90)
        mask = ink_mask(view, window=max(7, view.shape[1] // 60))
        skew = geometry.estimate_skew(mask)
        if abs(skew) >= MIN_SKEW:
            levelled = np.asarray(
                Image.fromarray(view).rotate(skew, resample=Image.Resampling.BILINEAR, fillcolor=255)
            )
            mask = ink_mask(levelled, window=max(7, view.shape[1] // 60))
        else:
            skew = 0.0
        rules = geometry.find_horizontal_rules(mask)
        match = detect_layout(rules, aspect=view.shape[1] / view.shape[0])
        turn = (quarter + (180 if match.upside_down else 0)) % 360
        if best is None or match.score > best[0].score:
            best = (match, turn, skew)
    match, turn, skew = best

    # the region at full resolution, turned upright and levelled
    X0, Y0 = rx0 * factor, ry0 * factor
    X1, Y1 = min(W, rx1 * factor), min(H, ry1 * factor)
    region_w = (X1 - X0) if turn in (0, 180) else (Y1 - Y0)
    px_per_mm = region_w / match.layout.size_mm[0]
    shrink = max(1, int(px_per_mm / WORK_PX_PER_MM + 0.35))
    g = grey[Y0:Y1, X0:X1]
    c = rgb[Y0:Y1, X0:X1] if rgb is not None else None
    if shrink > 1:
        g = np.asarray(Image.fromarray(g).reduce(shrink), dtype=np.uint8)
        if c is not None:
            c = np.asarray(Image.fromarray(c).reduce(shrink), dtype=np.uint8)
    sh, sw = g.shape  # before turning
    g = _turn(g, turn // 90)
    if c is not None:
        c = _turn(c, turn // 90)
    if skew:
        g = np.asarray(Image.fromarray(g).rotate(skew, resample=Image.Resampling.BILINEAR, fillcolor=255))
        if c is not None:
            c = np.asarray(
                Image.fromarray(c).rotate(skew, resample=Image.Resampling.BILINEAR, fillcolor=(255, 255, 255))
            )
    vh, vw = g.shape
    cos, sin = math.cos(math.radians(skew)), math.sin(math.radians(skew))
    q = turn // 90

    def to_input(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        if skew:  # undo Pillow's counter-clockwise rotation about the centre
            dx, dy = xs - vw / 2.0, ys - vh / 2.0
            xs = cos * dx - sin * dy + vw / 2.0
            ys = sin * dx + cos * dy + vh / 2.0
        # undo q counter-clockwise quarter turns: (x, y) in the turned array
        # came from the unturned array of size sh×sw
        for k in range(q):
            # a ccw quarter turn of an array of width w_k moved the point
            # (x, y) to (y, w_k - x); undo the turns from the last one
            w_k = sw if (q - 1 - k) % 2 == 0 else sh
            xs, ys = w_k - ys, xs
        return xs * shrink + X0, ys * shrink + Y0

    return ChequeView(
        grey=g,
        rgb=c,
        layout=match.layout,
        layout_score=match.score,
        rotated=turn,
        skew=skew,
        px_per_mm=px_per_mm / shrink,
        to_input=to_input,
        input_size=(W, H),
        scale=shrink,
        scores=match.scores,
    )


@dataclass
class ZoneInk:
    """The ink of a zone of a :class:`ChequeView`, split into what it is.

    ``offset``: ``(x, y)`` of the zone in the view. Masks are ``h×w bool``
    of the zone: ``ink`` (all), ``rules`` (printed lines and bars),
    ``printed`` (type), ``handwriting`` (the rest, specks removed).
    """

    offset: tuple[int, int]
    ink: np.ndarray
    rules: np.ndarray
    printed: np.ndarray
    handwriting: np.ndarray
    comps: Components
    text_lines: list[TextLine]
    px_per_mm: float


def analyse_zone(
    grey: np.ndarray,
    px_per_mm: float,
    offset: tuple[int, int] = (0, 0),
    rgb: np.ndarray | None = None,
) -> ZoneInk:
    """Split the ink of ``grey`` (``h×w uint8``, ~200 dpi; ``rgb`` the same in colour, optional)
    into rules, type and handwriting."""
    ppm = px_per_mm
    paper = paper_level(grey, max(7, int(round(3.0 * ppm))))
    ink = ink_mask(grey, paper)
    rules = find_rules(ink, min_horizontal=int(round(14 * ppm)), min_vertical=int(round(6 * ppm))) & ink
    rest = ink & ~rules
    comps = label(rest)
    colours = component_colours(comps, rgb) if rgb is not None else None
    lines = find_text_lines(comps, min_height=0.3 * ppm, max_height=4.6 * ppm, colours=colours)
    is_text = find_bar_stacks(comps)
    for line in lines:
        is_text[list(line.members)] = True
    speck = comps.area < max(4.0, 0.12 * ppm * ppm)
    printed = comps.mask_of(is_text)
    handwriting = comps.mask_of(~is_text & ~speck)
    return ZoneInk(offset, ink, rules, printed, handwriting, comps, lines, ppm)


@dataclass(frozen=True)
class Candidate:
    """A cluster of handwriting in the zone: its ink ``mask`` (zone pixels) and evidence."""

    box: tuple[int, int, int, int]  # zone pixels
    mass_mm2: float
    in_field: float
    score: float
    mask: np.ndarray


def _candidates(zone: ZoneInk, field_box: tuple[int, int, int, int]) -> list[Candidate]:
    ppm = zone.px_per_mm
    hw = zone.handwriting
    if not hw.any():
        return []
    joined = smear(hw, int(round(7 * ppm)) | 1, int(round(2.5 * ppm)) | 1)
    clusters = label(joined)
    fx0, fy0, fx1, fy1 = field_box
    in_field = np.zeros(hw.shape, bool)
    in_field[max(0, fy0) : max(0, fy1), max(0, fx0) : max(0, fx1)] = True
    ids = clusters.labels[hw]
    mass = np.bincount(ids, minlength=clusters.n + 1).astype(np.float64)
    mass_in = np.bincount(ids, weights=in_field[hw], minlength=clusters.n + 1)
    out = []
    for k in np.nonzero(mass)[0]:
        if k == 0:
            continue
        m = (clusters.labels == k) & hw
        ys, xs = np.nonzero(m)
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        mm2 = mass[k] / (ppm * ppm)
        frac = mass_in[k] / mass[k]
        out.append(Candidate(box, mm2, frac, mm2 * frac * frac, m))
    out.sort(key=lambda c: -c.score)
    return out


def find_signature(view: ChequeView) -> tuple[np.ndarray, tuple[int, int], float]:
    """The signature's ink in ``view``: (mask of the search zone, zone offset, confidence).

    Raises :class:`SignatureNotFound` when the zone holds no handwriting.
    """
    vh, vw = view.grey.shape
    layout = view.layout
    sx0, sy0, sx1, sy1 = to_pixels(layout.signature_search, vw, vh)
    rgb = view.rgb[sy0:sy1, sx0:sx1] if view.rgb is not None else None
    zone = analyse_zone(view.grey[sy0:sy1, sx0:sx1], view.px_per_mm, (sx0, sy0), rgb)
    fx0, fy0, fx1, fy1 = to_pixels(layout.signature, vw, vh)
    cands = _candidates(zone, (fx0 - sx0, fy0 - sy0, fx1 - sx0, fy1 - sy0))
    ppm = view.px_per_mm
    good = [
        c
        for c in cands
        if c.mass_mm2 >= MIN_SIGNATURE_INK_MM2
        and max(c.box[2] - c.box[0], c.box[3] - c.box[1]) >= MIN_SIGNATURE_EXTENT_MM * ppm
        and c.in_field >= 0.3
    ]
    if not good:
        raise SignatureNotFound(
            "No signature found on the cheque: the signature area is blank.",
            hint="Check that the cheque is signed, or draw the signature box by hand.",
        )
    best = good[0]
    mask = best.mask
    second = good[1].score if len(good) > 1 else 0.0
    amount = min(1.0, best.mass_mm2 / 40.0) ** 0.5
    separation = best.score / (best.score + second)
    recognised = 1.0 if view.layout_score >= 0.3 else 0.8
    confidence = float(np.clip(amount * best.in_field * (0.4 + 0.6 * separation) * recognised, 0.0, 1.0))
    return mask, zone.offset, confidence


def _box_in_input(view: ChequeView, mask: np.ndarray, offset: tuple[int, int]) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    # pixel centres → the input image; each view pixel covers scale×scale input pixels
    gx, gy = view.to_input(xs + offset[0] + 0.5, ys + offset[1] + 0.5)
    half = view.scale / 2.0
    W, H = view.input_size
    x0 = int(np.clip(round(gx.min() - half), 0, W))
    y0 = int(np.clip(round(gy.min() - half), 0, H))
    x1 = int(np.clip(round(gx.max() + half), 0, W))
    y1 = int(np.clip(round(gy.max() + half), 0, H))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def locate_signature(cheque: Image.Image | np.ndarray) -> Located:
    """Find the signature on a whole cheque image.

    ``cheque``: a Pillow image (any mode) or an ``H×W`` / ``H×W×3`` array,
    upright or turned. Returns :class:`Located` with the box in the
    coordinates of ``cheque``; raises :class:`SignatureNotFound` for a blank
    or unsigned cheque.
    """
    view = analyse_cheque(cheque)
    mask, offset, confidence = find_signature(view)
    box = _box_in_input(view, mask, offset)
    return Located(box=box, confidence=round(confidence, 3), layout=view.layout.name, rotated=view.rotated)
