"""Cleaning a signature crop: only the pen strokes, dark on white paper.

:func:`clean_signature` takes the crop of a cheque around a signature
(``H×W`` grey or RGB) and returns ``H×W uint8`` with white paper and the
pen strokes in their own darkness, which is what
:func:`~chequeverify.imaging.normalise.normalise_signature` expects.

Removed, in order:

* the **security pattern and the paper tint** — the ink is what is much
  darker than the local paper (:func:`~.ink.ink_mask`), and the output
  paper is white;
* **printed lines and barcodes** — long straight runs, stacks of bars;
  where a stroke crosses a line, the crossing stays;
* **printed type** — rows of small glyphs on one baseline
  (:func:`~.ink.find_text_lines`);
* **type that touches the signature** — where a stroke runs through a
  printed word, the pen and the type merge into one component. Inside the
  band of that text line, the ink is split by colour when pen and type
  differ (a blue pen over black type), otherwise by shape: the stroke is
  what continues the pen's path through the band (the pieces entering the
  band, joined), the rest is type.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

from chequeverify.errors import SignatureNotFound
from chequeverify.imaging.components import dilate_rect, label
from chequeverify.imaging.ink import (
    TextLine,
    colour_distance,
    find_hidden_lines,
    hysteresis,
    ink_mask,
    paper_level,
    stroke_width,
)
from chequeverify.imaging.locate import ZoneInk, _as_arrays, analyse_zone, runs_on

#: a ballpoint stroke is about this wide (mm): gives the scale of a crop whose resolution is unknown
TYPICAL_STROKE_MM = 0.45
#: printed type near a signature is at most this fraction of the signature's height
MAX_TYPE_TO_SIGNATURE = 0.45


def estimate_px_per_mm(grey: np.ndarray) -> float:
    """Resolution of a crop of unknown origin, from the width of its strokes (``H×W uint8``)."""
    mask = ink_mask(grey, window=max(7, min(grey.shape) // 4 | 1))
    sw = stroke_width(mask) if mask.any() else 3.5
    return float(np.clip(sw / TYPICAL_STROKE_MM, 2.0, 24.0))


def clean_signature(
    crop: Image.Image | np.ndarray, *, px_per_mm: float | None = None, on_cheque: bool | None = None
) -> np.ndarray:
    """A crop around a signature → ``H×W uint8``, the pen strokes dark on white paper.

    ``crop``: Pillow image (any mode) or array, ``H×W`` or ``H×W×3``.
    ``px_per_mm``: the scan's resolution when known (the cheque analysis
    knows it); otherwise it is estimated from the stroke width.
    ``on_cheque``: whether the crop comes from a cheque, where printed type
    near the signature is expected and is searched for harder (see
    :func:`clean_crop`); ``None`` decides from the crop itself: tinted
    paper, a security pattern, printed lines or barcodes say "cheque"; a
    signature on plain white paper (a specimen card, a dataset image) is
    only freed of its background. Raises :class:`SignatureNotFound` when no
    handwriting is left.
    """
    grey, rgb = _as_arrays(crop)
    h, w = grey.shape
    if min(h, w) < 4:
        raise SignatureNotFound("The signature crop is empty.")
    ppm = float(px_per_mm) if px_per_mm else estimate_px_per_mm(grey)
    return clean_crop(grey, rgb, ppm, on_cheque=on_cheque)


def clean_crop(
    grey: np.ndarray,
    rgb: np.ndarray | None,
    ppm: float,
    known_lines: Sequence[TextLine] | None = None,
    *,
    on_cheque: bool | None = False,
) -> np.ndarray:
    """:func:`clean_signature` on arrays (``h×w uint8`` grey, ``h×w×3`` colour or ``None``).

    ``on_cheque``: the crop comes from a cheque's signature zone, where
    type is expected: also look for type blurred into word blobs, or hidden
    under the pen (twin glyphs, upright stems). On a crop of unknown origin
    (a specimen card, a dataset image) those tests could take cursive or
    Indic handwriting for type, so only plain printed lines are removed.
    ``known_lines``: printed text lines seen around the crop by a wider
    analysis (boxes in crop pixels), used with the crop's own: a line whose
    letters are nearly all crossed by the signature is not recognisable
    inside the crop alone. When they are given (even empty), a line found
    in the crop alone or hidden under the pen is type only where the wider
    analysis saw type too: inside a signature, small letters of a broken
    cursive word, or the letters of a Devanagari word, line up like type,
    upright letters stand like type's stems, and taking them out cuts the
    signature apart, while printed words run on beyond the signature, where
    the wider view sees them whole.
    ``on_cheque=None``: decide with :func:`looks_printed`.
    """
    h, w = grey.shape
    paper = paper_level(grey, max(7, int(round(3.0 * ppm))))
    if on_cheque is None:
        on_cheque = looks_printed(grey, rgb, paper)
    # A printed line runs on beyond the signature, so across a crop around
    # it from edge to edge; a pen's underline ends inside the crop.
    min_rule = (
        int(round(max(0.9 * w, 5 * ppm))),
        int(round(max(0.9 * h, 5 * ppm))),
    )
    zone = analyse_zone(
        grey, ppm, rgb=rgb, paper=paper, min_rule=min_rule, whole_vertical=False, merged_type=on_cheque
    )
    if not on_cheque and not zone.rules.any():
        # plain paper: all the ink is the signature's (handwriting in some
        # scripts would pass for type)
        keep = _drop_debris(zone.handwriting | zone.printed, ppm)
        if not keep.any():
            raise SignatureNotFound("No handwriting found in the signature image.")
        return render(grey, paper, keep)
    # How tall the signature is: printed captions are much smaller. A "line"
    # as tall as the handwriting is handwriting in a script whose letters
    # sit on a common line (Devanagari, Bengali), not type. With no
    # handwriting besides the lines, it is all type.
    hand = zone.handwriting
    if hand.any() and hand.sum() >= 0.2 * (hand.sum() + zone.printed.sum()):
        ys = np.nonzero(hand)[0]
        limit = MAX_TYPE_TO_SIGNATURE * float(np.percentile(ys, 98) - np.percentile(ys, 2) + 1)
    else:
        limit = math.inf

    def is_type(line: TextLine) -> bool:
        return max(line.height, 0.8 * (line.box[3] - line.box[1])) <= limit

    keep = zone.handwriting.copy()
    lines = []
    context = list(known_lines) if known_lines is not None else None
    for line in zone.text_lines:
        if is_type(line) and (context is None or _confirmed(line, context)):
            lines.append(line)
        else:  # give its glyphs back to the signature
            keep |= zone.comps.mask_of(np.isin(np.arange(zone.comps.n), line.members))
    # lines hidden in a component where the pen crossed every glyph
    big = zone.is_handwriting & (zone.comps.area >= 2.0 * ppm * ppm)
    if on_cheque and big.any():
        lines_found = find_hidden_lines(zone.comps.mask_of(big), 1.2 * ppm, 3.6 * ppm)
        if context is not None:
            # upright letters of a small signature stand like type's stems:
            # only where the wider view saw a printed line
            lines_found = [line for line in lines_found if _confirmed(line, context, stacked=True)]
        known_lines = [*(known_lines or ()), *lines_found]
    for known in known_lines or ():
        if is_type(known) and not any(_same_line(known, own) for own in lines):
            lines.append(known)
            keep &= ~_glyphs_in_band(zone, known)
    for line in lines:
        keep = _remove_touching_type(keep, zone, line, rgb, ppm, grey)
    keep = _drop_band_leftovers(keep, lines, zone.ink)
    if on_cheque and rgb is not None:
        # what was kept is mostly the pen, what was taken out mostly type
        pen = pen_by_colour(rgb, zone.ink, keep, zone.ink & ~keep & ~zone.rules, ppm)
        if pen is not None:
            # the pen's colour decides, pixel by pixel: type merged with the
            # strokes goes, and the strokes that shape cut out with the type
            # come back wherever they run on from what was kept
            keep = hysteresis(pen & (zone.handwriting | zone.printed), keep & pen)
    keep = _drop_debris(keep, ppm)
    if not keep.any():
        raise SignatureNotFound("No handwriting left in the signature crop after removing print.")
    return render(grey, paper, keep)


#: how many spreads apart the pen's and the type's ink colours must be for colour to decide
MIN_COLOUR_SEPARATION = 3.0
#: pixels darker than their paper by less than this (RGB length) have too little colour to tell
MIN_COLOURED_DARKENING = 60.0


def pen_by_colour(
    rgb: np.ndarray, ink: np.ndarray, pen_px: np.ndarray, type_px: np.ndarray, ppm: float
) -> np.ndarray | None:
    """``h×w bool``: the ``ink`` pixels of the pen's colour, or ``None`` when colour cannot tell pen from type.

    ``pen_px`` / ``type_px``: pixels taken for the pen and for type by
    shape; each is allowed to hold some of the other (type merged with the
    strokes, pieces of strokes cut out with type). Colour is read as the
    *direction* in which a pixel darkens its paper (the paper's RGB minus
    the pixel's, normalised): a thin stroke mixes its ink with the paper
    and looks lighter, but darkens in the same direction, so faint and
    heavy strokes of one pen agree. Three rounds of 2-means over the clearly
    dark pixels, started from the two groups, refine both colours. Colour
    decides only when the two clusters lie :data:`MIN_COLOUR_SEPARATION`
    spreads apart and each holds most of its own group: a black pen over
    black type is left to shape.
    """
    window = max(7, int(round(3.0 * ppm)))
    paper = np.stack([paper_level(np.ascontiguousarray(rgb[..., c]), window) for c in range(3)], axis=-1)
    dark = np.maximum(paper - rgb.astype(np.float32), 0.0)
    norm = np.linalg.norm(dark, axis=-1)
    direction = dark / np.maximum(norm, 1e-6)[..., None]
    strong = norm >= MIN_COLOURED_DARKENING
    typed, penned = type_px & strong, pen_px & strong
    if typed.sum() < 20 or penned.sum() < 20:
        return None
    t, p = direction[typed].mean(axis=0), direction[penned].mean(axis=0)
    for _ in range(3):
        axis = p - t
        if not axis.any():
            return None
        cut = 0.5 * float((p + t) @ axis)
        on_pen = direction[penned] @ axis > cut
        on_type = direction[typed] @ axis > cut
        if on_pen.mean() < 0.6 or on_type.mean() > 0.5:
            return None  # the colours do not follow the shapes
        both = np.concatenate([direction[penned], direction[typed]])
        is_pen = np.concatenate([on_pen, on_type])
        t, p = both[~is_pen].mean(axis=0), both[is_pen].mean(axis=0)
    axis = p - t
    score = both @ axis
    cut = 0.5 * float((p + t) @ axis)
    a, b = score[score > cut], score[score <= cut]
    if a.size < 20 or b.size < 20:
        return None
    spread = float(np.sqrt(0.5 * (a.var() + b.var()))) + 1e-9
    if (a.mean() - b.mean()) / spread < MIN_COLOUR_SEPARATION:
        return None
    pen = ink & (direction @ axis > cut)
    return dilate_rect(pen, 3, 3) & _majority(pen, ink) & ink


def looks_printed(grey: np.ndarray, rgb: np.ndarray | None, paper: np.ndarray) -> bool:
    """Whether a crop shows the paper of a cheque (or a printed form) rather than plain white paper.

    Evidence: tinted paper (coloured, or grey well below white), or a
    security pattern (many pixels a little darker than the paper, too
    light to be ink).
    """
    d = np.maximum(paper - grey.astype(np.float32), 0.0)
    blank = d < 10
    if not blank.any():
        return True
    if rgb is not None:
        tint = rgb[blank].astype(np.float32).mean(axis=0)
        if float(tint.max() - tint.min()) >= 12.0:
            return True
    if float(np.median(grey[blank])) < 215.0:
        return True
    return float(np.mean((d >= 12) & (d < 40))) >= 0.03


def render(grey: np.ndarray, paper: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``H×W uint8``: white where not ``keep``; elsewhere the ink's darkness relative to its paper."""
    scaled = grey.astype(np.float32) * (255.0 / np.maximum(paper, 1.0))
    out = np.full(grey.shape, 255, np.uint8)
    out[keep] = np.clip(scaled[keep], 0, 235).astype(np.uint8)
    return out


def _drop_band_leftovers(keep: np.ndarray, lines: list[TextLine], ink: np.ndarray) -> np.ndarray:
    """Remove what is left wholly inside a text line's band at glyph size: letters
    that were cut off the pen's strokes."""
    if not lines:
        return keep
    comps = label(keep)
    drop = np.zeros(comps.n, bool)
    for line in lines:
        bx0, by0, bx1, by1 = _band(line, ink)
        drop |= (
            (comps.x0 >= bx0)
            & (comps.x1 <= bx1)
            & (comps.y0 >= by0)
            & (comps.y1 <= by1)
            & (comps.height <= 1.3 * max(line.height, 2.0))
        )
    return comps.mask_of(~drop)


def _drop_debris(keep: np.ndarray, ppm: float) -> np.ndarray:
    """Remove fragments too small to be pen marks (left by the print removal)."""
    comps = label(keep)
    if comps.n == 0:
        return keep
    small = comps.area < max(6.0, 0.15 * ppm * ppm)
    return comps.mask_of(~small)


def _confirmed(line: TextLine, context: list[TextLine], *, stacked: bool = False) -> bool:
    """Whether a line found in the crop is type: on the rows of a line the wider
    analysis saw, and near it along them.

    ``stacked``: also when it sits directly above or below such a line over
    the same columns, as the lines of a printed block do (a name printed
    over "Please sign above", hidden under the pen while its label shows).
    """
    size = max(line.height, 2.0)
    for k in context:
        if runs_on(line, k):
            return True
        if stacked:
            overlap = min(line.box[2], k.box[2]) - max(line.box[0], k.box[0])
            shorter = min(line.box[2] - line.box[0], k.box[2] - k.box[0])
            gap = max(k.box[1] - line.box[3], line.box[1] - k.box[3])
            if shorter > 0 and overlap >= 0.5 * shorter and gap <= 2.5 * max(size, k.height):
                return True
    return False


def _same_line(a: TextLine, b: TextLine) -> bool:
    rows = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    return rows >= 0.5 * min(a.box[3] - a.box[1], b.box[3] - b.box[1])


def _glyphs_in_band(zone: ZoneInk, line: TextLine) -> np.ndarray:
    """``h×w bool``: the handwriting components that lie wholly in a known line's band and fit its glyph size."""
    bx0, by0, bx1, by1 = _band(line, zone.ink)
    c = zone.comps
    fits = (
        zone.is_handwriting
        & (c.x0 >= bx0)
        & (c.x1 <= bx1)
        & (c.y0 >= by0)
        & (c.y1 <= by1)
        & (c.height <= 1.3 * max(line.height, 2.0))
    )
    return c.mask_of(fits)


def _band(line: TextLine, ink: np.ndarray) -> tuple[int, int, int, int]:
    """Where a text line's glyphs may be: its rows (descenders included) and,
    along them, on past its ends while ink continues (``ink``: ``H×W bool``).

    Letters merged with a stroke were not found as part of the line, so the
    band runs on over ink with gaps no wider than a word space, up to seven
    glyphs; a signature that merely starts beside the type, past a wider
    gap, is outside it.
    """
    x0, y0, x1, y1 = line.box
    # a line of two members may report a tiny median height: trust its box too
    size = max(line.height, 0.8 * (y1 - y0), 2.0)
    tol = max(2, int(round(0.25 * size)))
    H, W = ink.shape
    by0, by1 = max(0, y0 - tol), min(H, y1 + tol)
    inked = ink[by0:by1].any(axis=0) if by1 > by0 else np.zeros(W, bool)
    reach, gap = int(7 * size), max(2, int(round(1.0 * size)))
    return _run_on(inked, x0, -1, reach, gap), by0, _run_on(inked, x1 - 1, 1, reach, gap) + 1, by1


def _run_on(inked: np.ndarray, start: int, step: int, reach: int, gap: int) -> int:
    """From column ``start``, the last inked column in direction ``step`` before a
    gap of more than ``gap`` empty columns, at most ``reach`` columns on (clipped)."""
    W = inked.size
    last = min(max(start, 0), W - 1)
    empty = 0
    for k in range(1, reach + 1):
        x = start + step * k
        if x < 0 or x >= W:
            break
        if inked[x]:
            last, empty = x, 0
        else:
            empty += 1
            if empty > gap:
                break
    return last


def _remove_touching_type(
    keep: np.ndarray, zone: ZoneInk, line: TextLine, rgb: np.ndarray | None, ppm: float, grey: np.ndarray
) -> np.ndarray:
    """Take the glyphs of ``line`` out of the handwriting components that touch them."""
    bx0, by0, bx1, by1 = _band(line, zone.ink)
    if bx1 <= bx0 or by1 <= by0:
        return keep
    comps = zone.comps
    region = np.zeros(keep.shape, bool)
    region[by0:by1, bx0:bx1] = True
    touched = np.unique(comps.labels[region & keep])
    touched = touched[touched > 0]
    if touched.size == 0:
        return keep
    line_colour = None
    if rgb is not None:
        members = np.array(line.members, dtype=np.int64)
        sel = comps.mask_of(np.isin(np.arange(comps.n), members)) if members.size else zone.printed & region
        if sel.sum() < 10:
            sel = zone.printed  # a cheque's type is printed in one colour
        if sel.sum() >= 10:
            line_colour = rgb[sel].astype(np.float64).mean(axis=0)
    out = keep.copy()
    sw = max(1.5, stroke_width(keep))
    for lab in touched:
        comp = comps.labels == lab
        inside = comp & region
        outside = comp & ~region
        if outside.sum() < 0.15 * inside.sum():
            # glyphs of the line that it did not claim (touching letters
            # merged into a block): type, whatever its shape
            out &= ~comp
            continue
        split = None
        if line_colour is not None and outside.any():
            split = _split_by_colour(inside, outside, rgb, line_colour)
        if split is None and outside.any():
            split = _split_by_darkness(inside, outside, zone, line, grey)
        if split is None:
            split = _split_by_path(inside, outside, sw, line.height, (by0, by1))
        out &= ~inside
        out |= split
    return out


def _split_by_colour(
    inside: np.ndarray, outside: np.ndarray, rgb: np.ndarray, type_colour: np.ndarray
) -> np.ndarray | None:
    """The pen pixels of ``inside``, told from the type by colour; ``None`` when the colours agree."""
    pen_colour = rgb[outside].astype(np.float64).mean(axis=0)
    if colour_distance(pen_colour, type_colour) <= 30.0:
        return None
    ys, xs = np.nonzero(inside)
    px = rgb[ys, xs].astype(np.float64)
    is_pen = colour_distance(px, pen_colour) < colour_distance(px, type_colour)
    out = np.zeros(inside.shape, bool)
    out[ys[is_pen], xs[is_pen]] = True
    # single pixels of the wrong side at the edges of type: majority of the 3×3 neighbourhood
    votes = dilate_rect(out, 3, 3) & inside
    return votes & _majority(out, inside)


def _split_by_darkness(
    inside: np.ndarray, outside: np.ndarray, zone: ZoneInk, line: TextLine, grey: np.ndarray
) -> np.ndarray | None:
    """In a grey scan, the pen pixels of ``inside`` told from much lighter type
    (a security pattern's micro-text) by darkness; ``None`` when they are alike."""
    members = np.array(line.members, dtype=np.int64)
    if members.size:
        type_px = zone.comps.mask_of(np.isin(np.arange(zone.comps.n), members))
    else:  # a line seen only through its stems: the type printed around it
        type_px = zone.printed
    if type_px.sum() < 10:
        return None
    pen = float(np.median(grey[outside]))
    kind = float(np.median(grey[type_px]))
    if kind - pen < 50.0:
        return None
    return inside & (grey <= (pen + kind) / 2.0)


def _majority(mask: np.ndarray, within: np.ndarray) -> np.ndarray:
    m = mask.astype(np.int16)
    w = within.astype(np.int16)
    pm = np.pad(m, 1)
    pw = np.pad(w, 1)
    s = sum(pm[dy : dy + m.shape[0], dx : dx + m.shape[1]] for dy in range(3) for dx in range(3))
    n = sum(pw[dy : dy + m.shape[0], dx : dx + m.shape[1]] for dy in range(3) for dx in range(3))
    return s * 2 >= n


def _split_by_path(
    inside: np.ndarray, outside: np.ndarray, sw: float, glyph_height: float, band_rows: tuple[int, int]
) -> np.ndarray:
    """The pen pixels of ``inside`` (a stroke merged with type in a text band), by shape.

    Each piece of the band's ink is entered by the pen's strokes from
    outside the band; what stays is the ink along the straight path joining
    the places where strokes enter (a stroke crossing the band, or running
    along it), or near a single entry (a loop dipping into the band, or a
    glyph touching a stroke: only a stub of it stays). Glyphs away from
    those paths go.
    """
    out = np.zeros(inside.shape, bool)
    pieces = label(inside)
    touch = dilate_rect(outside, 3, 3)
    radius = max(1.0, 1.0 * sw)
    dip = max(2.0, 1.5 * sw)
    for k in range(pieces.n):
        x0, y0, x1, y1 = pieces.box(k)
        piece = pieces.labels[y0:y1, x0:x1] == k + 1
        entry = piece & touch[y0:y1, x0:x1]
        if not entry.any():
            continue  # type only
        groups = label(dilate_rect(entry, 3, 3) & piece)
        centres = [
            ((groups.x0[g] + groups.x1[g] - 1) / 2.0, (groups.y0[g] + groups.y1[g] - 1) / 2.0)
            for g in range(groups.n)
        ]
        ys, xs = np.nonzero(piece)
        keep = np.zeros(ys.size, bool)
        middle = (band_rows[0] + band_rows[1]) / 2.0 - y0  # the band's middle row, in the piece
        pairs, alone = _pair_entries(centres, piece, middle)
        for a, b in pairs:
            keep |= _near_segment(xs, ys, centres[a], centres[b]) <= radius
        for a in alone:
            cx, cy = centres[a]
            keep |= np.hypot(xs - cx, ys - cy) <= dip
        out[y0 + ys[keep], x0 + xs[keep]] = True
    return out


def _pair_entries(
    centres: list[tuple[float, float]], piece: np.ndarray, middle: float
) -> tuple[list[tuple[int, int]], list[int]]:
    """Pair the places where strokes enter a band into the strokes that cross it.

    First an entry from above with one from below, nearly straight across
    (a stroke crossing the type); then any two entries joined by a straight
    run of ink (a stroke running along the type). Entries left over are
    strokes that dip into the band and turn back.
    """
    n = len(centres)
    height = max(1.0, 2.0 * middle)
    above = [i for i in range(n) if centres[i][1] < middle]
    below = [i for i in range(n) if i not in above]
    used: set[int] = set()
    pairs = []
    cross = sorted(
        ((abs(centres[i][0] - centres[j][0]), i, j) for i in above for j in below),
        key=lambda t: t[0],
    )
    for dx, i, j in cross:
        if dx > 1.5 * height or i in used or j in used:
            continue
        used.update((i, j))
        pairs.append((i, j))
    rest = [i for i in range(n) if i not in used]
    along = sorted(
        ((math.dist(centres[i], centres[j]), i, j) for a, i in enumerate(rest) for j in rest[a + 1 :]),
        key=lambda t: t[0],
    )
    for _, i, j in along:
        if i in used or j in used:
            continue
        if _inked(piece, centres[i], centres[j]) >= 0.8:
            used.update((i, j))
            pairs.append((i, j))
    return pairs, [i for i in range(n) if i not in used]


def _inked(piece: np.ndarray, a: tuple[float, float], b: tuple[float, float]) -> float:
    """Fraction of the straight segment ``a``–``b`` that lies on ink of ``piece``."""
    steps = max(2, int(math.dist(a, b)))
    t = np.linspace(0.0, 1.0, steps)
    xs = np.clip(np.round(a[0] + t * (b[0] - a[0])).astype(int), 0, piece.shape[1] - 1)
    ys = np.clip(np.round(a[1] + t * (b[1] - a[1])).astype(int), 0, piece.shape[0] - 1)
    return float(piece[ys, xs].mean())


def _near_segment(xs: np.ndarray, ys: np.ndarray, a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
    """Distance of points to the segment ``a``–``b``."""
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return np.hypot(xs - ax, ys - ay)
    t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length2, 0.0, 1.0)
    return np.hypot(xs - (ax + t * dx), ys - (ay + t * dy))
