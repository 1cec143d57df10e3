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
from PIL import Image, ImageFilter

from chequeverify.errors import SignatureNotFound, UnreadableScan
from chequeverify.imaging import geometry
from chequeverify.imaging.components import Components, dilate_rect, label
from chequeverify.imaging.ink import (
    InkThresholds,
    TextLine,
    barcode_areas,
    barcode_pixels,
    component_colours,
    find_bar_stacks,
    find_rules,
    find_text_lines,
    ink_mask,
    letter_count,
    paper_level,
    smear,
)
from chequeverify.imaging.layouts import Layout, detect_layout, to_pixels
from chequeverify.imaging.normalise import to_grey

log = logging.getLogger(__name__)

#: scans finer than this (pixels per millimetre) are reduced by an integer
#: factor before the zone is analysed: 150-200 dpi (6-8 px/mm) shows every
#: stroke, and finer scans only cost time
MIN_WORK_PX_PER_MM = 5.5
#: scans coarser than this (pixels per millimetre) are enlarged by an integer factor to at least
#: :data:`MIN_WORK_PX_PER_MM` before the zone is analysed: the zone's thresholds are set in
#: millimetres but some cannot go below a pixel. CTS-2010 sends the grey front of a cheque at
#: 100 dpi (3.9 px/mm); read at that size, 50 of the 56 IDRBT cheques were located (mean IoU
#: 0.74), enlarged twice all 56 (``benchmarks/locate_accuracy.py --as grey-100dpi``)
MIN_READ_PX_PER_MM = 5.0
#: unsharp mask (radius in pixels of the enlarged view, strength in percent) after enlarging
ENLARGE_SHARPEN = (1.0, 100)
#: thresholds that keep every weakly dark pixel (for finding printed rules)
WEAK_ONLY = InkThresholds(strong=45.0, weak=45.0, strong_fraction=0.2, weak_fraction=0.2)
#: skews smaller than this (degrees) are left alone
MIN_SKEW = 0.3
#: a signature holds at least this much ink (mm²) and spans at least this much (mm): a
#: short signature in fine pen (initials, 8 × 9 mm) holds 4 mm²; a stray mark is smaller
MIN_SIGNATURE_INK_MM2 = 3.5
MIN_SIGNATURE_EXTENT_MM = 6.0
#: a long horizontal line whose centre strays from a straight line by more than this (mm, root
#: mean square; at least half a pixel) is a pen's — a Devanagari or Bengali headline, an underline.
#: Measured at 200 dpi: printed rules 0.00-0.26 px on synthetic cheques and 0.16-0.45 px on the 56
#: IDRBT scans; the long lines of signatures on synthetic cheques 0.33 px and up, median 0.66 px
PEN_LINE_WOBBLE_MM = 0.065
#: a long horizontal line with ink this close (mm) under 40 % of its columns (``ink.HEADLINE_COVER``)
#: is a headline with its letters hanging from it. Measured (any ink within 4 mm under a column):
#: at most 3 % of a printed line's columns on the IDRBT scans, none on the synthetic cheques;
#: 40 % or more for 187 of the 193 long lines of signatures on synthetic cheques
HEADLINE_REACH_MM = 4.0
#: ... and is shorter than this (mm): the long lines of signatures on synthetic cheques are at most
#: 38 mm; a cheque's printed signature line (62-90 mm on the US layouts) has its label under it
HEADLINE_MAX_MM = 45.0


@dataclass(frozen=True)
class Located:
    """Where the signature is.

    ``box``: ``(x0, y0, x1, y1)``, exclusive ends, in pixels of the image as
    loaded (after EXIF orientation); ``confidence``: 0..1; ``layout``: the
    recognised layout's name; ``rotated``: the quarter turns (degrees,
    counter-clockwise as :meth:`PIL.Image.Image.rotate`) that made the scan
    upright — the box is nevertheless in the coordinates of the image as loaded.
    ``px_per_mm``: the image's resolution, measured from the layout's printed
    width (0: unknown); ``bitonal``: the image is black and white only.
    """

    box: tuple[int, int, int, int]
    confidence: float
    layout: str = "unknown"
    rotated: int = 0
    px_per_mm: float = 0.0
    bitonal: bool = False


@dataclass
class ChequeView:
    """An upright, levelled view of the cheque, at about 200 dpi, and the way back.

    ``grey``: ``h×w uint8``; ``rgb``: ``h×w×3 uint8`` or ``None`` for grey
    scans; ``to_input(xs, ys)`` maps pixel coordinates of this view to the
    image as loaded, ``to_view`` back. ``rotated``: the quarter turns
    (degrees counter-clockwise) that made the scan upright; ``skew``: the
    small angle (degrees, counter-clockwise) the upright scan was turned by,
    undone in the view; ``scale``: pixels of the input per pixel of the view
    (above 1 for a fine scan reduced, below 1 for a coarse one enlarged);
    ``bitonal``: the scan is black and white only (no grey between).
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
    scale: float = 1.0
    scores: dict[str, float] = field(default_factory=dict)
    to_view: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    bitonal: bool = False

    def located_fields(self) -> dict:
        """What a :class:`Located` says of the image besides the box: layout, turn, resolution, form."""
        return {"layout": self.layout.name, "rotated": self.rotated,
                "px_per_mm": round(self.px_per_mm * self.scale, 3), "bitonal": self.bitonal}  # fmt: skip


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


def print_mask(small: np.ndarray) -> np.ndarray:
    """``h×w bool`` of everything printed or written on a reduced cheque, faint lines included.

    Layout detection needs the printed rules, which some banks print in a
    light tint: every weakly dark pixel counts here (a security pattern
    adds noise, but no long straight lines).
    """
    paper = paper_level(small, max(7, small.shape[1] // 60))
    return ink_mask(small, paper, reach=0, thresholds=WEAK_ONLY)


def _turn(a: np.ndarray, quarter: int) -> np.ndarray:
    """Rotate an array counter-clockwise by ``quarter`` × 90° (as Pillow's rotate)."""
    return np.ascontiguousarray(np.rot90(a, k=quarter % 4))


def _upright_candidates(h: int, w: int) -> list[int]:
    return [90, 270] if h > 1.15 * w else [0]


def _enlarge(a: np.ndarray, factor: int) -> np.ndarray:
    """``h×w`` or ``h×w×3 uint8`` → ``factor`` times as large each way.

    Lanczos, then an unsharp mask of one pixel (:data:`ENLARGE_SHARPEN`): a 100 dpi scan
    blurs letters of small type into one another and into the pen's strokes, and the
    sharpened enlargement parts them again. Measured on the 56 IDRBT cheques sent as 100 dpi
    grey: the cleaned crops' embeddings against those of the 200 dpi scans, mean cosine 0.84
    unsharpened, 0.90 at half strength, 0.93 with this (0.94 at 150 %, 0.92 with a 0.7 px
    radius, 0.89 with 1.5 px; 0.94 since the zone's barcode is also taken out of the crop);
    on synthetic cheques of train and validation writers, against the same ink alone at
    100 dpi, 0.69 unsharpened and 0.74-0.75 for the four settings tried.
    """
    h, w = a.shape[:2]
    big = Image.fromarray(a).resize((w * factor, h * factor), Image.Resampling.LANCZOS)
    radius, percent = ENLARGE_SHARPEN
    return np.asarray(big.filter(ImageFilter.UnsharpMask(radius=radius, percent=percent, threshold=0)), np.uint8)


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
        mask = print_mask(view)
        skew = geometry.estimate_skew(mask)
        if abs(skew) >= MIN_SKEW:
            levelled = np.asarray(
                Image.fromarray(view).rotate(-skew, resample=Image.Resampling.BILINEAR, fillcolor=255)
            )
            mask = print_mask(levelled)
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
    g = grey[Y0:Y1, X0:X1]
    c = rgb[Y0:Y1, X0:X1] if rgb is not None else None
    bitonal = c is None and not ((g > 0) & (g < 255)).any()
    shrink = float(max(1, int(px_per_mm / MIN_WORK_PX_PER_MM)))  # input pixels per view pixel
    if shrink > 1:
        g = np.asarray(Image.fromarray(g).reduce(int(shrink)), dtype=np.uint8)
        if c is not None:
            c = np.asarray(Image.fromarray(c).reduce(int(shrink)), dtype=np.uint8)
    elif px_per_mm < MIN_READ_PX_PER_MM:
        up = math.ceil(MIN_WORK_PX_PER_MM / px_per_mm)
        shrink = 1.0 / up
        g = _enlarge(g, up)
        if c is not None:
            c = _enlarge(c, up)
    sh, sw = g.shape  # before turning
    g = _turn(g, turn // 90)
    if c is not None:
        c = _turn(c, turn // 90)
    if skew:
        g = np.asarray(Image.fromarray(g).rotate(-skew, resample=Image.Resampling.BILINEAR, fillcolor=255))
        if c is not None:
            c = np.asarray(
                Image.fromarray(c).rotate(-skew, resample=Image.Resampling.BILINEAR, fillcolor=(255, 255, 255))
            )
    vh, vw = g.shape
    # the view is the scan turned by -skew (Pillow turns counter-clockwise)
    cos, sin = math.cos(math.radians(-skew)), math.sin(math.radians(-skew))
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

    def to_view(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xs = (np.asarray(xs, dtype=np.float64) - X0) / shrink
        ys = (np.asarray(ys, dtype=np.float64) - Y0) / shrink
        for k in range(q):  # the quarter turns, first to last
            w_k = sw if k % 2 == 0 else sh
            xs, ys = ys, w_k - xs
        if skew:  # the same turn, forwards
            dx, dy = xs - vw / 2.0, ys - vh / 2.0
            xs = cos * dx + sin * dy + vw / 2.0
            ys = -sin * dx + cos * dy + vh / 2.0
        return xs, ys

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
        to_view=to_view,
        bitonal=bitonal,
    )


@dataclass
class ZoneInk:
    """The ink of a zone of a :class:`ChequeView`, split into what it is.

    ``offset``: ``(x, y)`` of the zone in the view. Masks are ``h×w bool``
    of the zone: ``ink`` (all), ``rules`` (printed lines and bars),
    ``printed`` (type), ``handwriting`` (the rest, specks removed), ``bars``
    (a barcode's bars and their broken pieces: in a coarse scan they merge
    into blocks that a crop's own analysis no longer sees as a code).
    """

    offset: tuple[int, int]
    ink: np.ndarray
    rules: np.ndarray
    printed: np.ndarray
    handwriting: np.ndarray
    comps: Components
    is_handwriting: np.ndarray  # bool per component
    text_lines: list[TextLine]
    px_per_mm: float
    bars: np.ndarray


def analyse_zone(
    grey: np.ndarray,
    px_per_mm: float,
    offset: tuple[int, int] = (0, 0),
    rgb: np.ndarray | None = None,
    *,
    paper: np.ndarray | None = None,
    min_rule: tuple[int, int] | None = None,
    whole_vertical: bool = True,
    merged_type: bool = True,
) -> ZoneInk:
    """Split the ink of ``grey`` (``h×w uint8``; ``rgb`` the same in colour, optional)
    into rules, type and handwriting.

    ``px_per_mm``: the scan's resolution; ``paper``: the local paper
    level if already known; ``min_rule``: shortest horizontal and vertical
    printed lines in pixels (default 14 mm and 12 mm); ``merged_type``:
    look for type blurred into word blobs or crossed by the pen too
    (:func:`~.ink.find_text_lines`).
    """
    ppm = px_per_mm
    if paper is None:
        paper = paper_level(grey, max(7, int(round(3.0 * ppm))))
    ink = ink_mask(grey, paper)
    min_h, min_v = min_rule or (int(round(14 * ppm)), int(round(12 * ppm)))
    rules = find_rules(
        ink,
        min_horizontal=min_h,
        min_vertical=min_v,
        max_thickness=max(3, int(round(1.0 * ppm))),
        whole_vertical=whole_vertical,
        min_wobble=max(0.5, PEN_LINE_WOBBLE_MM * ppm),
        # only a whole zone shows a printed line's full length; in a crop a
        # signature line is cut to the signature's width, with strokes under it
        hang_reach=int(round(HEADLINE_REACH_MM * ppm)) if min_rule is None else 0,
        hang_max=int(round(HEADLINE_MAX_MM * ppm)),
    )
    rest = ink & ~rules
    comps = label(rest)
    is_bar, codes = find_bar_stacks(comps)
    bars = np.zeros(ink.shape, bool)
    if codes:
        # a pen stroke that touches the bars merged with them: keep only
        # what shows between the bars, and look again
        bars = barcode_pixels(rest, codes)
        rest &= ~bars
        rules |= bars
        comps = label(rest)
        is_bar, _ = find_bar_stacks(comps)
        # broken ends of bars left between them belong to the code too
        for x0, y0, x1, y1 in barcode_areas(codes, rest.shape):
            is_bar |= (comps.x0 >= x0) & (comps.x1 <= x1) & (comps.y0 >= y0) & (comps.y1 <= y1)
    colours = component_colours(comps, rgb) if rgb is not None else None
    lines = find_text_lines(
        comps,
        min_height=0.3 * ppm,
        max_height=3.6 * ppm,
        colours=colours,
        merged=merged_type,
        max_blob_height=3.2 * ppm,
        exclude=is_bar,
    )
    if codes:
        bars |= comps.mask_of(is_bar)
    is_text = is_bar.copy()
    for line in lines:
        is_text[list(line.members)] = True
    speck = comps.area < max(4.0, 0.12 * ppm * ppm)
    printed = comps.mask_of(is_text)
    handwriting = comps.mask_of(~is_text & ~speck)
    return ZoneInk(offset, ink, rules, printed, handwriting, comps, ~is_text & ~speck, lines, ppm, bars)


@dataclass(frozen=True)
class Candidate:
    """A cluster of handwriting in the zone and the evidence that it is the signature.

    ``box``: zone pixels; ``mass_mm2``: ink area; ``in_field``: fraction of
    the ink inside the layout's signature field; ``members``: indices of
    the zone's components.
    """

    box: tuple[int, int, int, int]
    mass_mm2: float
    in_field: float
    score: float
    members: tuple[int, ...]


def _clusters(zone: ZoneInk, field_box: tuple[int, int, int, int]) -> list[Candidate]:
    """Group the zone's significant handwriting components into word-like clusters.

    Only components of some size take part (a pattern's specks or a
    printed dot must not chain clusters together); strokes closer than
    about 7 mm side by side or 2.5 mm above each other join.
    """
    ppm = zone.px_per_mm
    comps = zone.comps
    hand = zone.is_handwriting
    extent = np.maximum(comps.width, comps.height)
    big = hand & ((comps.area >= 1.0 * ppm * ppm) | (extent >= 2.5 * ppm))
    if not big.any():
        return []
    joined = smear(comps.mask_of(big), int(round(7 * ppm)) | 1, int(round(2.5 * ppm)) | 1)
    clusters = label(joined)
    # each big component falls in exactly one cluster: read it at any of its pixels
    idx = np.nonzero(big)[0]
    ys = comps.y0[idx]
    first_x = np.array([np.argmax(comps.labels[y] == k + 1) for y, k in zip(ys, idx)])
    cluster_of = clusters.labels[ys, first_x]
    fx0, fy0, fx1, fy1 = field_box
    out = []
    for c in np.unique(cluster_of):
        members = idx[cluster_of == c]
        out.append(_candidate(zone, members, field_box))
    out.sort(key=lambda c: -c.score)
    return out


def _candidate(zone: ZoneInk, members: np.ndarray, field_box: tuple[int, int, int, int]) -> Candidate:
    comps = zone.comps
    ppm = zone.px_per_mm
    box = (
        int(comps.x0[members].min()),
        int(comps.y0[members].min()),
        int(comps.x1[members].max()),
        int(comps.y1[members].max()),
    )
    mass = float(comps.area[members].sum())
    fx0, fy0, fx1, fy1 = field_box
    sub = comps.labels[max(0, fy0) : max(0, fy1), max(0, fx0) : max(0, fx1)]
    inside = np.isin(sub, members + 1).sum() if sub.size else 0
    frac = float(inside) / max(mass, 1.0)
    mm2 = mass / (ppm * ppm)
    return Candidate(box, mm2, frac, mm2 * frac * frac, tuple(int(k) for k in members))


def _is_plausible(c: Candidate, ppm: float) -> bool:
    w, h = c.box[2] - c.box[0], c.box[3] - c.box[1]
    return (
        c.mass_mm2 >= MIN_SIGNATURE_INK_MM2
        and max(w, h) >= MIN_SIGNATURE_EXTENT_MM * ppm
        and c.in_field >= 0.3
    )


def _grow(zone: ZoneInk, best: Candidate, others: list[Candidate], field_box) -> Candidate:
    """Join to the signature the clusters beside it (its other words) and its small marks.

    A cluster joins when it lies mostly in the signature field, overlaps
    the signature's rows and is within about 20 mm to its side. Then small
    handwriting components (dots, pen skips) inside the signature's box,
    grown by 1.5 mm, join it.
    """
    ppm = zone.px_per_mm
    members = set(best.members)
    x0, y0, x1, y1 = best.box
    changed = True
    pool = [c for c in others if c.in_field >= 0.5]
    while changed:
        changed = False
        for c in list(pool):
            cx0, cy0, cx1, cy1 = c.box
            rows = min(y1, cy1) - max(y0, cy0)
            gap = max(cx0 - x1, x0 - cx1)
            if rows >= 0.3 * min(y1 - y0, cy1 - cy0) and gap <= 20 * ppm:
                members.update(c.members)
                x0, y0, x1, y1 = min(x0, cx0), min(y0, cy0), max(x1, cx1), max(y1, cy1)
                pool.remove(c)
                changed = True
    comps = zone.comps
    # small marks (dots, pen skips, a faint tail broken into pieces) within
    # 2 mm of the signature's strokes join it, a few steps out at most
    reach = int(round(2.0 * ppm)) * 2 + 1
    pool = zone.is_handwriting.copy()
    pool[list(members)] = False
    for _ in range(3):
        if not pool.any():
            break
        near = dilate_rect(comps.mask_of(np.isin(np.arange(comps.n), list(members))), reach, reach)
        touching = np.zeros(comps.n + 1, bool)
        touching[np.unique(comps.labels[near])] = True
        new = np.nonzero(pool & touching[1:])[0]
        if new.size == 0:
            break
        members.update(new.tolist())
        pool[new] = False
    return _candidate(zone, np.array(sorted(members)), field_box)


#: a "line of type" of at most this many letters (pieces counted by their width, as type's
#: letters merge into words), lying inside the signature among its strokes, is letters of the
#: signature (a Devanagari word's letters under its headline line up like type); the printed
#: captions a signature covers ("ACCOUNT HOLDER", "Please sign above") hold 13 and more
MAX_LETTERS_RELEASED = 6
#: ... and whose letters are at least this tall (mm): the printed words of the IDRBT cheques'
#: signature zones are 1.3 mm tall (median; 90 % under 1.9 mm), a signature's letters larger
MIN_LETTER_RELEASED_MM = 2.0


def _release_letters(zone: ZoneInk, best: Candidate, field_box: tuple[int, int, int, int]) -> Candidate:
    """Give the signature back the short "lines of type" that lie inside it, among its strokes.

    In a grey scan no colour tells them apart: the letters hanging from a
    Devanagari or Bengali headline, or a cursive word's small letters,
    line up like type. A line of two to :data:`MAX_LETTERS_RELEASED`
    letters of :data:`MIN_LETTER_RELEASED_MM` or more (not a single word
    blob), wholly inside the signature's box and every piece within 1 mm
    of its strokes, is handwriting; the zone is updated (its
    ``text_lines``, masks and labels), so the cleaner's wider view no
    longer confirms it as type. Printed words run on beyond a signature
    or hold more pieces, and stay type.
    """
    x0, y0, x1, y1 = best.box
    comps = zone.comps
    reach = 2 * int(round(1.0 * zone.px_per_mm)) + 1
    near = dilate_rect(comps.mask_of(np.isin(np.arange(comps.n), best.members)), reach, reach)
    touching = np.zeros(comps.n + 1, bool)
    touching[np.unique(comps.labels[near])] = True
    released: list[int] = []
    kept = []
    for line in zone.text_lines:
        lx0, ly0, lx1, ly1 = line.box
        inside = lx0 >= x0 and ly0 >= y0 and lx1 <= x1 and ly1 <= y1
        m = np.array(line.members)
        if (
            len(m) >= 2  # a single word blob is blurred type
            and letter_count(comps, m) <= MAX_LETTERS_RELEASED
            and line.height >= MIN_LETTER_RELEASED_MM * zone.px_per_mm
            and inside
            and touching[m + 1].all()
            and not any(runs_on(line, other) for other in zone.text_lines if other is not line)
        ):
            released.extend(line.members)
        else:
            kept.append(line)
    if not released:
        return best
    zone.text_lines[:] = kept
    zone.is_handwriting[released] = True
    given_back = comps.mask_of(np.isin(np.arange(comps.n), released))
    zone.printed &= ~given_back
    zone.handwriting |= given_back
    return _candidate(zone, np.array(sorted(set(best.members) | set(released))), field_box)


def runs_on(line: TextLine, other: TextLine) -> bool:
    """Whether ``other`` continues ``line``: on its rows, within three glyph heights along them
    (a printed name the pen crossed, broken into pieces)."""
    rows = min(line.box[3], other.box[3]) - max(line.box[1], other.box[1])
    if rows < 0.5 * min(line.box[3] - line.box[1], other.box[3] - other.box[1]):
        return False
    size = max(line.height, 2.0)
    return line.box[0] <= other.box[2] + 3 * size and other.box[0] <= line.box[2] + 3 * size


@dataclass(frozen=True)
class Found:
    """The signature in a :class:`ChequeView`: its ink ``mask`` over the
    search zone, the zone's ``offset`` (x, y) in the view, the
    ``confidence`` and the ``zone`` analysis (printed lines seen there)."""

    mask: np.ndarray
    offset: tuple[int, int]
    confidence: float
    zone: ZoneInk


def find_signature(view: ChequeView) -> Found:
    """The signature's ink in ``view``.

    Raises :class:`SignatureNotFound` when the zone holds no handwriting.
    """
    vh, vw = view.grey.shape
    layout = view.layout
    sx0, sy0, sx1, sy1 = to_pixels(layout.signature_search, vw, vh)
    rgb = view.rgb[sy0:sy1, sx0:sx1] if view.rgb is not None else None
    zone = analyse_zone(view.grey[sy0:sy1, sx0:sx1], view.px_per_mm, (sx0, sy0), rgb)
    fx0, fy0, fx1, fy1 = to_pixels(layout.signature, vw, vh)
    field_box = (fx0 - sx0, fy0 - sy0, fx1 - sx0, fy1 - sy0)
    if "micr" in layout.fields:
        # nothing is written in the MICR clear band: what lies there at the
        # size of the code's characters is the printed code line, however it
        # was classified (a signature may still dip into the band)
        mx0, my0, mx1, my1 = to_pixels(layout.fields["micr"], vw, vh)
        c = zone.comps
        inside_rows = np.clip(np.minimum(c.y1, my1 - sy0) - np.maximum(c.y0, my0 - sy0), 0, None)
        in_band = (inside_rows >= 0.5 * np.maximum(c.height, 1)) & (c.height <= 4.5 * view.px_per_mm + 4)
        zone.is_handwriting &= ~in_band
    cands = [c for c in _clusters(zone, field_box) if c.in_field > 0]
    ppm = view.px_per_mm
    plausible = [c for c in cands if _is_plausible(c, ppm)]
    if not plausible:
        raise SignatureNotFound(
            "No signature found on the cheque: the signature area is blank.",
            hint="Check that the cheque is signed, or draw the signature box by hand.",
        )
    best = _grow(zone, plausible[0], [c for c in cands if c is not plausible[0]], field_box)
    best = _release_letters(zone, best, field_box)
    rivals = [c.score for c in plausible[1:] if not set(c.members) <= set(best.members)]
    second = max(rivals, default=0.0)
    amount = min(1.0, best.mass_mm2 / 40.0) ** 0.5
    separation = best.score / (best.score + second)
    recognised = 1.0 if view.layout_score >= 0.3 else 0.8
    confidence = float(np.clip(amount * best.in_field * (0.4 + 0.6 * separation) * recognised, 0.0, 1.0))
    mask = zone.comps.mask_of(np.isin(np.arange(zone.comps.n), best.members))
    return Found(mask, zone.offset, confidence, zone)


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
    found = find_signature(view)
    box = _box_in_input(view, found.mask, found.offset)
    return Located(box=box, confidence=round(found.confidence, 3), **view.located_fields())
