"""Ink analysis: separate pen and print from paper, patterns, rules and type.

Pure numpy/Pillow functions on ``H×W uint8`` grey images (dark ink on light
paper) and ``H×W bool`` masks (True = ink). Lengths are in pixels; callers
convert from millimetres with the scan's resolution.

The chain used by both the locator and the cleaner:

* :func:`paper_level` — the local brightness of the paper, which follows the
  tint and the security pattern of the cheque (a max filter: paper is the
  brightest thing within a few millimetres);
* :func:`ink_mask` — hysteresis on the darkness below that paper: pen
  strokes hold strongly dark pixels, a security pattern does not;
* :func:`find_rules` — printed lines and barcode bars: long, perfectly
  straight runs that no hand draws (a hand's straight line — the headline
  of a Devanagari or Bengali word, an underline — wanders off a straight
  line by more than a printed one does, and stays);
* :func:`find_text_lines` — printed type: rows of small components of one
  height on one baseline;
* :func:`stroke_width` — 2·area / perimeter, the mean thickness of a stroke.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from chequeverify.imaging.components import Components, boundary_length, dilate_rect, label, max_filter, runs


def paper_level(grey: np.ndarray, window: int) -> np.ndarray:
    """``H×W uint8`` → ``H×W float32`` local paper brightness.

    ``window``: pixels, larger than any pen stroke is wide (about 3 mm).
    Computed on a reduced copy: paper changes slowly.
    """
    h, w = grey.shape
    factor = max(1, window // 8)
    small = Image.fromarray(grey)
    if factor > 1:
        small = small.reduce(factor)
    k = max(3, (window // factor) | 1)
    bright = Image.fromarray(max_filter(np.asarray(small), k))
    bright = bright.filter(ImageFilter.BoxBlur(max(1, k // 2)))
    if factor > 1:
        bright = bright.resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(bright, dtype=np.float32)


#: a short horizontal line with ink close under this fraction of its columns or more is a
#: headline with its letters (:func:`find_rules`)
HEADLINE_COVER = 0.4


@dataclass(frozen=True)
class InkThresholds:
    """Darkness below the local paper (grey levels) that makes ink.

    ``strong``: a component must hold pixels this dark to be ink at all;
    ``weak``: pixels this dark join an ink component they touch (the faint
    edges and tails of a stroke). Each is also at least a fraction of the
    paper's brightness, so that dark-tinted cheques need more contrast.
    """

    strong: float = 80.0
    weak: float = 45.0
    strong_fraction: float = 0.36
    weak_fraction: float = 0.20


DEFAULT_THRESHOLDS = InkThresholds()
#: however light the ink, "strong" ink is at least this much darker than its paper
MIN_STRONG = 40.0


def darkness(grey: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """``H×W float32``: how much darker than its paper each pixel is (≥ 0)."""
    return np.maximum(paper - grey.astype(np.float32), 0.0)


def ink_mask(
    grey: np.ndarray,
    paper: np.ndarray | None = None,
    window: int = 25,
    thresholds: InkThresholds = DEFAULT_THRESHOLDS,
    reach: int = 2,
    adaptive: bool = True,
) -> np.ndarray:
    """``H×W uint8`` grey → ``H×W bool`` ink, with a short hysteresis.

    Strongly dark pixels are ink; weakly dark ones only within ``reach``
    pixels of them: the soft edges and faint ends of a pen stroke stay,
    while a security pattern (weak at most) vanishes, even where its lines
    touch a stroke (an unbounded hysteresis would follow them across the cheque).

    ``adaptive``: when the darkest ink of the image is light (a pencil, a
    pale scan of a specimen card), "strong" is lowered to 60 % of it, never
    below :data:`MIN_STRONG` (a security pattern alone stays paper).
    """
    if paper is None:
        paper = paper_level(grey, window)
    d = darkness(grey, paper)
    strong_level = np.maximum(thresholds.strong, thresholds.strong_fraction * paper)
    weak_level = np.maximum(thresholds.weak, thresholds.weak_fraction * paper)
    if adaptive and d.size:
        darkest = float(np.percentile(d, 99.7))
        if 0.6 * darkest < thresholds.strong:
            cap = max(MIN_STRONG, 0.6 * darkest)
            strong_level = np.minimum(strong_level, cap)
            weak_level = np.minimum(weak_level, 0.7 * cap)
    weak = d >= weak_level
    strong = d >= strong_level
    if reach <= 0:
        return strong
    return strong | (weak & dilate_rect(strong, 2 * reach + 1, 2 * reach + 1))


def hysteresis(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """Components of ``weak`` that contain a pixel of ``strong`` (both ``H×W bool``)."""
    weak = weak | strong
    if not strong.any():
        return np.zeros_like(weak)
    comps = label(weak)
    keep = np.zeros(comps.n + 1, bool)
    keep[np.unique(comps.labels[strong])] = True
    keep[0] = False
    return keep[comps.labels]


def find_rules(
    mask: np.ndarray,
    min_horizontal: int,
    min_vertical: int,
    max_thickness: int = 5,
    whole_vertical: bool = True,
    min_wobble: float = 0.0,
    hang_reach: int = 0,
    hang_max: int = 0,
) -> np.ndarray:
    """``H×W bool`` of the pixels on straight printed lines and bars.

    A printed line is long one way and thin the other: its pixels lie in a
    run of at least ``min_horizontal`` pixels along a row (``min_vertical``
    down a column for vertical lines) — no hand keeps a stroke inside one
    pixel row for that long — and across it the ink is at most
    ``max_thickness`` thick. The whole thickness is taken (the rows next
    to the long run, which noise breaks into shorter runs), but where a
    pen stroke crosses a horizontal line the ink is thicker across it, and
    stays: signatures cross their signature line. Vertical lines (box
    sides, frames, often doubled) are taken whole (a stroke crossing one
    loses the line's width) unless ``whole_vertical`` is false.

    ``min_wobble`` (pixels, 0 = off): a horizontal line whose centre strays
    from its best straight line by more than this (root mean square, over
    the columns where nothing crosses it) is a pen's line — the headline
    that joins the letters of a Devanagari or Bengali word, a flourish
    underlining a signature — and is not taken. Print is straight to a
    fraction of a pixel (a skewed scan tilts it, it does not bend it).
    ``hang_reach`` (pixels, 0 = off): a horizontal line shorter than
    ``hang_max`` pixels with ink within this distance under much of it
    (letters hanging from a headline drawn straight) is not taken either
    (:func:`_drop_hand_lines`).
    """
    out = np.zeros(mask.shape, bool)
    if min_horizontal > 0:
        along = _long_runs(mask, min_horizontal)
        if min_wobble > 0 or hang_reach > 0:
            along = _drop_hand_lines(mask, along, max_thickness, min_wobble, hang_reach, hang_max)
        out |= _thin_across(mask, along, max_thickness)
    if min_vertical > 0:
        along = _long_runs(mask.T, min_vertical)
        thin = _thin_across(mask.T, along, max_thickness)
        out |= (along | thin).T if whole_vertical else thin.T
    return out


def _drop_hand_lines(
    mask: np.ndarray, along: np.ndarray, max_thickness: int, min_wobble: float, hang_reach: int, hang_max: int
) -> np.ndarray:
    """``along`` (long row runs of ``mask``) without the lines drawn by a pen.

    Each line (8-connected piece of ``along``) is sampled once per column,
    through the column's run of ink that holds it. A line is a pen's when

    * its centre wanders: where it is at most ``max_thickness`` thick (a
      crossing stroke makes it thicker and says nothing of the line), the
      centre strays from the best straight line by more than ``min_wobble``
      pixels, root mean square, over ten columns or more; or
    * letters hang from it: it is shorter than ``hang_max`` pixels (a word,
      not a cheque's signature line) and within ``hang_reach`` pixels under
      it there is other ink (or a stroke leaves it downwards) under
      :data:`HEADLINE_COVER` of its columns or more — a headline spans its word, while a printed line
      runs on past the handwriting near it (a signature sitting on a
      printed line touches it from above).
    """
    lines = label(along)
    if lines.n == 0:
        return along
    col = runs(mask.T)  # row = column index x, start/end = y
    lengths = col.length
    run_of = np.full(mask.T.shape, -1, np.int64)  # which column run each pixel is in
    pixels = _run_pixels(col.row, col.start, col.end, mask.shape[0])
    run_of.ravel()[pixels] = np.repeat(np.arange(len(lengths)), lengths)
    ys, xs = np.nonzero(along)
    line = lines.labels[ys, xs] - 1
    _, first = np.unique(line * mask.shape[1] + xs, return_index=True)  # one pixel per line and column
    line, xs = line[first], xs[first]
    r = run_of[xs, ys[first]]
    thin = lengths[r] <= max_thickness
    centre = (col.start[r] + col.end[r] - 1) / 2.0
    # ink under the line in its column: a stroke leaving it downwards, or the
    # next run down the same column close enough
    nxt = np.minimum(r + 1, len(lengths) - 1)
    leaves = ~thin & (col.end[r] - 1 > ys[first] + max_thickness // 2)
    below = leaves | (thin & (nxt != r) & (col.row[nxt] == xs) & (col.start[nxt] - col.end[r] < hang_reach))
    hand = np.zeros(lines.n, bool)
    for k in range(lines.n):
        sel = line == k
        if hang_reach > 0 and np.ptp(xs[sel]) < hang_max and below[sel].mean() >= HEADLINE_COVER:
            hand[k] = True
            continue
        # where a stroke runs into the line the column is thicker than the line itself, and
        # its centre says nothing of the line
        own = np.median(lengths[r[sel]])  # every line has a pixel in some column
        sel &= thin & (lengths[r] <= max(1.5 * own, own + 1))
        if min_wobble <= 0 or sel.sum() < 10:
            continue
        x = xs[sel].astype(np.float64)
        a = np.stack([x - x.mean(), np.ones_like(x)], axis=1)
        fit = np.linalg.lstsq(a, centre[sel], rcond=None)[0]
        hand[k] = float(np.sqrt(np.mean((centre[sel] - a @ fit) ** 2))) > min_wobble
    return along & ~lines.mask_of(hand) if hand.any() else along


def _thin_across(mask: np.ndarray, along: np.ndarray, max_thickness: int) -> np.ndarray:
    """Pixels of the column runs of ``mask`` (rows = the line's direction) that
    are at most ``max_thickness`` long and touch a pixel of ``along``."""
    if not along.any():
        return along
    col = runs(mask.T)  # runs down the columns: row = column index
    hits = np.cumsum(np.concatenate([np.zeros((1, mask.shape[1]), np.int32), along.astype(np.int32)]), axis=0)
    touched = hits[col.end, col.row] - hits[col.start, col.row] > 0
    keep = touched & (col.length <= max_thickness)
    out = np.zeros(mask.shape[::-1], bool)  # transposed, then back
    if keep.any():
        out.ravel()[_run_pixels(col.row[keep], col.start[keep], col.end[keep], mask.shape[0])] = True
    return out.T


def _run_pixels(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """Flat indices (into an array ``width`` wide) of every pixel of the runs ``rows[i], starts[i]:ends[i]``."""
    lengths = ends - starts
    flat = rows * width + starts
    return np.repeat(flat - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))


def _long_runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    """Pixels of ``mask`` in row runs at least ``min_len`` long."""
    r = runs(mask)
    keep = r.length >= min_len
    out = np.zeros(mask.shape, bool)
    if not keep.any():
        return out
    out.ravel()[_run_pixels(r.row[keep], r.start[keep], r.end[keep], mask.shape[1])] = True
    return out


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke thickness of the ink in ``mask`` (pixels): 2·area / perimeter."""
    area = int(np.count_nonzero(mask))
    if area == 0:
        return 0.0
    return 2.0 * area / max(boundary_length(mask), 1)


@dataclass(frozen=True)
class TextLine:
    """A row of printed type: ``members`` (component indices), its ``box`` and glyph ``height`` (px)."""

    members: tuple[int, ...]
    box: tuple[int, int, int, int]
    height: float


def letter_count(comps: Components, members: np.ndarray) -> float:
    """How many letters the components ``members`` hold, counted by width: type's letters merge
    into word-sized pieces, each about three quarters of a letter height wide per letter."""
    m = np.asarray(members, dtype=np.int64)
    return float(np.sum(np.maximum(1.0, comps.width[m] / (0.75 * np.maximum(comps.height[m], 1)))))


def find_text_lines(
    comps: Components,
    min_height: float,
    max_height: float,
    colours: np.ndarray | None = None,
    max_colour_distance: float = 30.0,
    *,
    merged: bool = True,
    max_blob_height: float | None = None,
    exclude: np.ndarray | None = None,
) -> list[TextLine]:
    """Rows of printed type among ``comps``.

    ``merged``: also accept what blurred or crossed type leaves — a single
    word blob, two twin glyphs (see :func:`_is_word_blob`,
    :func:`_twin_glyphs`). Cursive handwriting can pass those tests, so
    they are for places where type is expected (a cheque's signature zone).
    ``max_blob_height``: only type this small blurs into word blobs (at a
    scanner's resolution); a taller blob is a handwritten word.
    ``exclude``: ``n`` bool, components known to be something else (the
    bars of a barcode and their broken pieces): they neither start nor join
    a line, so that a bar's piece and a pen stroke beside the code are not
    taken for two letters.

    Printed type is a chain of small glyphs (at most ``max_height`` tall)
    spaced by less than a glyph height whose bottoms (or tops) line up to a
    pixel or two, in one ink colour (``colours``: ``n×3`` mean RGB of each
    component, optional). Letters of small type touch and merge into
    word-sized components, so a line may be two or three wide components.
    Once a line is found, the components inside its band and of its colour
    join it (a word whose letters merged differently).

    Handwriting rarely passes: its letters are joined into large
    components, or wander in height and baseline; when it is in colour and
    the cheque's type is not, the colour tells them apart.
    """
    n = comps.n
    h = comps.height.astype(np.float64)
    w = comps.width.astype(np.float64)
    x0, x1, y0, y1 = (a.astype(np.float64) for a in (comps.x0, comps.x1, comps.y0, comps.y1))
    H = comps.labels.shape[0]
    # A component cut by the top or bottom of the image has a false edge
    # there, which would line up with every other cut component: only its
    # other edge may be compared.
    cut_top = y0 <= 0
    cut_bottom = y1 >= H
    excluded = np.zeros(n, bool) if exclude is None else np.asarray(exclude, bool)
    cand = np.nonzero(
        ~excluded
        & ~(cut_top & cut_bottom)
        & (h >= min_height)
        & (h <= max_height)
        & (w <= 12.0 * np.maximum(h, min_height))
    )[0]
    if cand.size == 0:
        return []
    order = cand[np.argsort(x0[cand], kind="stable")]
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def close_colour(a: int, b: int, limit: float = max_colour_distance) -> bool:
        return colours is None or colour_distance(colours[a], colours[b]) <= limit

    for a_pos, a in enumerate(order):
        for b in order[a_pos + 1 : a_pos + 12]:
            hmax = max(h[a], h[b])
            gap = x0[b] - x1[a]
            if gap > 1.2 * hmax:
                break
            if gap < -0.3 * hmax:
                continue
            if min(y1[a], y1[b]) - max(y0[a], y0[b]) < 0.5 * min(h[a], h[b]):
                continue
            cut = cut_top[a] or cut_top[b] or cut_bottom[a] or cut_bottom[b]
            if not cut and not (0.4 <= h[a] / h[b] <= 2.5):
                continue
            tol = max(2.0, 0.12 * hmax)
            same_bottom = not (cut_bottom[a] or cut_bottom[b]) and abs(y1[a] - y1[b]) <= tol
            same_top = not (cut_top[a] or cut_top[b]) and abs(y0[a] - y0[b]) <= tol
            if not (same_bottom or same_top):
                continue
            if not close_colour(a, b):
                continue
            parent[find(int(a))] = find(int(b))

    groups: dict[int, list[int]] = {}
    for i in order:
        groups.setdefault(find(int(i)), []).append(int(i))
    found: list[tuple[float, list[int]]] = []
    for members in groups.values():
        if len(members) == 1 and not (
            merged
            and (max_blob_height is None or h[members[0]] <= max_blob_height)
            and _is_word_blob(comps, members[0])
        ):
            continue
        m = np.array(members)
        hmed = float(np.median(h[m]))
        glyphs = letter_count(comps, m)
        if glyphs < 3 or x1[m].max() - x0[m].min() < 2.5 * hmed:
            continue
        tol = max(1.5, 0.1 * hmed)
        if len(members) == 1:  # a word blob, checked above
            bottoms = tops = 1.0
        else:
            bottoms = _aligned(y1[m], ~cut_bottom[m], tol)
            tops = _aligned(y0[m], ~cut_top[m], tol)
        if max(bottoms, tops) < 0.6:
            continue
        found.append((glyphs * max(bottoms, tops), members))
    if merged:
        found += _twin_glyphs(comps, cand, [m for _, m in found], colours, max_colour_distance, cut_top | cut_bottom)
    if not found:
        return []

    line_colour = None
    if colours is not None:
        # the cheque's type is one colour: that of the clearest line of
        # ordinary type (microprint is too thin to show its true colour)
        normal = [f for f in found if np.median(h[np.array(f[1])]) >= 3 * min_height]
        best = max(normal, key=lambda f: f[0]) if normal else (0.0, [])
        if best[0] >= 6:
            m = np.array(best[1])
            line_colour = np.average(colours[m], axis=0, weights=comps.area[m])

    lines = []
    taken = excluded.copy()
    for _, members in sorted(found, key=lambda f: -f[0]):
        m = np.array(members)
        if line_colour is not None:
            colour = np.average(colours[m], axis=0, weights=comps.area[m])
            if colour_distance(colour, line_colour) > max_colour_distance:
                continue
        top, base = _line_levels(y0[m], y1[m], ~cut_top[m], ~cut_bottom[m])
        members = [
            k for k in members if _fits_line(y0[k], y1[k], top, base, bool(cut_top[k]), bool(cut_bottom[k]))
        ]
        if len(members) == 0:
            continue
        members = _absorb(comps, members, top, base, colours, max_colour_distance, taken)
        taken[members] = True
        m = np.array(members)
        box = (int(x0[m].min()), int(y0[m].min()), int(x1[m].max()), int(y1[m].max()))
        lines.append(TextLine(tuple(members), box, float(np.median(h[m]))))
    return lines


def _twin_glyphs(
    comps: Components,
    cand: np.ndarray,
    taken: list[list[int]],
    colours: np.ndarray | None,
    max_colour_distance: float,
    cut: np.ndarray,
) -> list[tuple[float, list[int]]]:
    """Pairs of glyphs of one size on exactly the same rows: what shows of a printed
    line whose other letters a signature runs through.

    Two letters of one font size, side by side within a dozen glyph widths,
    start and end on the same rows to a pixel; handwritten letters do not.
    """
    used = {k for m in taken for k in m}
    h = comps.height
    w = comps.width
    glyph = [int(k) for k in cand if int(k) not in used and not cut[k] and w[k] <= 1.5 * h[k] and h[k] >= 6]
    out = []
    for a_pos, a in enumerate(glyph):
        for b in glyph[a_pos + 1 :]:
            if abs(int(comps.y0[a]) - int(comps.y0[b])) > 1 or abs(int(comps.y1[a]) - int(comps.y1[b])) > 1:
                continue
            if abs(int(h[a]) - int(h[b])) > 1:
                continue
            gap = max(int(comps.x0[b]) - int(comps.x1[a]), int(comps.x0[a]) - int(comps.x1[b]))
            if gap > 12 * h[a]:
                continue
            if colours is not None and colour_distance(colours[a], colours[b]) > max_colour_distance:
                continue
            out.append((2.0, [a, b]))
            used.update((a, b))
            break
    return out


def _aligned(edges: np.ndarray, valid: np.ndarray, tol: float) -> float:
    """Fraction of the valid ``edges`` within ``tol`` of their median (0 when none is valid)."""
    e = edges[valid]
    if e.size < max(2, 0.5 * edges.size):
        return 0.0
    return float(np.mean(np.abs(e - np.median(e)) <= tol))


def _line_levels(
    tops: np.ndarray, bottoms: np.ndarray, top_ok: np.ndarray, bottom_ok: np.ndarray
) -> tuple[float, float]:
    """The ascender (or capital) line and the baseline of a row of glyphs.

    Edges cut by the image border are left out; when every glyph is cut at
    one end, that level is estimated from the other and the glyph height.
    """
    size = float(np.median(bottoms - tops))
    t = np.sort(tops[top_ok])
    b = bottoms[bottom_ok]
    top = float(np.median(t[: max(1, (t.size + 1) // 2)])) if t.size else None
    base = float(np.median(b)) if b.size else None
    if top is None and base is None:
        return float(np.min(tops)), float(np.max(bottoms))
    if top is None:
        top = base - size
    if base is None:
        base = top + size
    elif top is not None and t.size >= 3:
        # a line of single letters (a sharp or bitonal scan keeps them apart) is mostly
        # x-height letters: two or more glyphs starting on one row above that, within an
        # ascender's reach, are its ascenders or capitals (a pen stroke stuck to a letter
        # does not start on another glyph's row)
        above = t[(t < top - 1) & (t >= top - 0.8 * (base - top))]
        rows, counts = np.unique(np.round(above), return_counts=True)
        if (counts >= 2).any():
            top = float(rows[counts >= 2].min())
    return top, base


def _fits_line(
    y0: float, y1: float, top: float, base: float, cut_top: bool = False, cut_bottom: bool = False
) -> bool:
    """Whether a glyph spanning rows ``y0..y1`` sits between a line's top and baseline.

    Printed glyphs start at the capital or x-height line and end at the
    baseline or, for descenders, a little below; a pen stroke that crossed
    the type and merged with a letter sticks out. An edge cut by the
    image border is not checked.
    """
    size = max(base - top, 1.0)
    tol = max(2.0, 0.12 * size)
    return (cut_top or y0 >= top - tol) and (cut_bottom or y1 <= base + 0.45 * size)


def find_hidden_lines(
    mask: np.ndarray, min_height: float, max_height: float, min_stems: int = 3
) -> list[TextLine]:
    """Printed lines hidden in ink where a pen crossed every glyph (``mask``: ``H×W bool``).

    When a signature runs through a whole printed name, no glyph stands
    alone and :func:`find_text_lines` sees nothing. The type still shows in
    its stems: many columns whose ink starts on the same row (the capital
    or x-height line) and ends on the same row (the baseline), in several
    separate stems along the line. A hand does not draw four strokes that
    start and end on the same rows to a pixel.
    """
    # a stem is much taller than the strokes are thick: a run down through a
    # thick, flat pen stroke is only as long as the stroke is thick; and type
    # is finer than the pen that crossed it
    sw = stroke_width(mask)
    min_height = max(min_height, 2.5 * sw)
    max_stem = max(2.0, 0.8 * sw)
    col = runs(mask.T)  # row = column index, start/end = rows
    length = col.length
    ok = (length >= min_height) & (length <= max_height)
    if np.count_nonzero(ok) < 2 * min_stems:
        return []
    starts, ends, xs = col.start[ok], col.end[ok], col.row[ok]
    H = mask.shape[0] + 1
    # votes for (start, end), each run also voting for its ±1 neighbours
    key = starts * H + ends
    votes: dict[int, int] = {}
    for k, n in zip(*np.unique(key, return_counts=True)):
        s, e = divmod(int(k), H)
        for ds in (-1, 0, 1):
            for de in (-1, 0, 1):
                kk = (s + ds) * H + (e + de)
                votes[kk] = votes.get(kk, 0) + int(n)
    lines: list[TextLine] = []
    used = np.zeros(xs.size, bool)
    for kk, n in sorted(votes.items(), key=lambda kv: -kv[1]):
        if n < 2 * min_stems:
            break
        s, e = divmod(kk, H)
        hit = (np.abs(starts - s) <= 1) & (np.abs(ends - e) <= 1) & ~used
        cols = np.unique(xs[hit])
        if cols.size < 2 * min_stems:
            continue
        height = e - s
        if _upright_stems(xs[hit], starts[hit], ends[hit], max_stem) < min_stems or cols[-1] - cols[0] < 3 * height:
            continue
        if any(abs(line.box[1] - s) <= 2 and abs(line.box[3] - e) <= 2 for line in lines):
            continue
        used |= hit
        lines.append(TextLine((), (int(cols[0]), int(s), int(cols[-1]) + 1, int(e)), float(height)))
    return lines


def _upright_stems(xs: np.ndarray, starts: np.ndarray, ends: np.ndarray, max_width: float = math.inf) -> int:
    """How many upright stems the column runs ``(xs, starts, ends)`` make.

    A stem is a group of neighbouring columns; it is upright (printed) when
    two neighbouring columns of it start and end on exactly the same rows.
    A slanted pen stroke shifts its ends from one column to the next.
    """
    order = np.lexsort((starts, xs))
    xs, starts, ends = xs[order], starts[order], ends[order]
    # one run per column (the stem's): a second run in a column starts a new stem
    count = 0
    i = 0
    n = xs.size
    while i < n:
        j = i + 1
        while j < n and xs[j] - xs[j - 1] <= 1:
            j += 1
        group = slice(i, j)
        gx, gs, ge = xs[group], starts[group], ends[group]
        # every column of an upright stem starts on one row or ends on one
        # row (the other edge may wander by a pixel); a slanted stroke's
        # columns step both edges along
        flat = gs.size >= 2 and np.all(np.diff(gx) == 1) and (np.ptp(gs) == 0 or np.ptp(ge) == 0)
        flat = flat and max(np.ptp(gs), np.ptp(ge)) <= 1
        # and a stem is narrow beside its height; a thick horizontal stroke
        # also has equal column runs, but along its whole length
        width = gx[-1] - gx[0] + 1
        narrow = width <= max(2, 0.5 * float(np.median(ge - gs))) and width <= max_width
        if flat and narrow:
            count += 1
        i = j
    return count


def _is_word_blob(comps: Components, k: int) -> bool:
    """Whether component ``k`` looks like a printed word whose letters merged.

    Small type blurs into one blob per word (or per line). Such a blob is
    dense (letters fill much of their box), stands on a flat baseline (most
    columns end on the same row), and is crossed by several strokes in most
    columns (the bars and bowls of letters). A flat pen stroke is sparse
    and crossed once.
    """
    x0, y0, x1, y1 = comps.box(k)
    w, h = x1 - x0, y1 - y0
    if w < 2.5 * h or h < 4:
        return False
    if comps.area[k] < 0.33 * w * h:
        return False
    sub = comps.labels[y0:y1, x0:x1] == k + 1
    cols = sub.any(axis=0)
    if cols.mean() < 0.7:
        return False
    bottom = h - 1 - np.argmax(sub[::-1, :], axis=0)
    base = np.bincount(bottom[cols]).argmax()
    flat = np.mean(np.abs(bottom[cols] - base) <= max(1.5, 0.12 * h))
    crossings = np.count_nonzero(np.diff(sub.astype(np.int8), axis=0) == 1, axis=0) + sub[0]
    return bool(flat >= 0.55 and np.mean(crossings[cols]) >= 1.3)


def _absorb(
    comps: Components,
    members: list[int],
    top: float,
    base: float,
    colours: np.ndarray | None,
    max_colour_distance: float,
    taken: np.ndarray,
) -> list[int]:
    """Grow a text line with the components inside its band, next to it, of its colour."""
    m = np.array(members)
    size = max(base - top, 1.0)
    left, right = float(comps.x0[m].min()), float(comps.x1[m].max())
    colour = np.average(colours[m], axis=0, weights=comps.area[m]) if colours is not None else None
    tol = max(2.0, 0.12 * size)
    inside = (comps.y0 >= top - tol) & (comps.y1 <= base + 0.45 * size) & (comps.y1 > top + 0.3 * size) & ~taken
    if colour is not None:
        inside &= colour_distance(colours, colour) <= max_colour_distance
    inside[m] = False
    pool = set(np.nonzero(inside)[0].tolist())
    out = list(members)
    grown = True
    while grown and pool:
        grown = False
        for k in list(pool):
            if comps.x1[k] >= left - 2.5 * size and comps.x0[k] <= right + 2.5 * size:
                out.append(k)
                pool.discard(k)
                left = min(left, float(comps.x0[k]))
                right = max(right, float(comps.x1[k]))
                grown = True
    return out


def colour_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Distance between mean ink colours (``...×3`` RGB), mostly on hue.

    Thin or small strokes look lighter than thick ones of the same ink
    (blur mixes them with the paper), so lightness counts for little;
    the tint (red-green, blue-green) tells a blue pen from black type.
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    rg = d[..., 0] - d[..., 1]
    bg = d[..., 2] - d[..., 1]
    light = d @ np.array([0.299, 0.587, 0.114])
    out = np.sqrt(rg * rg + bg * bg + (0.3 * light) ** 2)
    return float(out) if np.ndim(out) == 0 else out


def component_colours(comps: Components, rgb: np.ndarray) -> np.ndarray:
    """``n×3 float`` mean colour of each component's pixels (``rgb``: ``H×W×3 uint8``)."""
    lab = comps.labels.ravel()
    sel = lab > 0
    idx = lab[sel] - 1
    count = np.maximum(np.bincount(idx, minlength=comps.n), 1)
    flat = rgb.reshape(-1, 3)[sel].astype(np.float64)
    return np.stack([np.bincount(idx, weights=flat[:, c], minlength=comps.n) / count for c in range(3)], axis=1)


@dataclass(frozen=True)
class Barcode:
    """A printed barcode: its ``box`` (pixels) and whether its bars run ``horizontal``."""

    box: tuple[int, int, int, int]
    horizontal: bool

    @property
    def bar_length(self) -> int:
        x0, y0, x1, y1 = self.box
        return (x1 - x0) if self.horizontal else (y1 - y0)


def find_bar_stacks(comps: Components, min_bars: int = 5) -> tuple[np.ndarray, list[Barcode]]:
    """Components that are bars of a barcode (bool, length ``comps.n``), and the barcodes.

    A printed bar is a solid rectangle (it fills its box) much longer than
    thick; a barcode is a stack of such bars side by side, all of about the
    same length and position. A pen never draws five of those in a row.
    """
    n = comps.n
    out = np.zeros(n, bool)
    codes: list[Barcode] = []
    if n < min_bars:
        return out, codes
    w = comps.width.astype(np.float64)
    h = comps.height.astype(np.float64)
    fill = comps.area / np.maximum(w * h, 1.0)
    solid = fill >= 0.7
    for horizontal in (True, False):
        long_, thick = (w, h) if horizontal else (h, w)
        bars = np.nonzero(solid & (long_ >= 2.5 * thick) & (long_ >= 6))[0]
        if bars.size < min_bars:
            continue
        # position along the bars (must agree) and across them (must be close)
        along0 = (comps.x0 if horizontal else comps.y0)[bars].astype(np.float64)
        along1 = (comps.x1 if horizontal else comps.y1)[bars].astype(np.float64)
        across = (comps.y0 if horizontal else comps.x0)[bars].astype(np.float64)
        order = np.argsort(across, kind="stable")
        group = [order[0]]
        groups = []
        for i in order[1:]:
            j = group[-1]
            overlap = min(along1[i], along1[j]) - max(along0[i], along0[j])
            span = max(along1[i] - along0[i], along1[j] - along0[j])
            gap = across[i] - across[j]
            if overlap >= 0.6 * span and gap <= 4 * max(thick[bars[j]], 2):
                group.append(i)
            else:
                groups.append(group)
                group = [i]
        groups.append(group)
        blocks = []  # (along0, along1, across0, across1) of each barcode found
        for g in groups:
            if len(g) < min_bars:
                continue
            members = bars[np.array(g)]
            out[members] = True
            c0 = float((comps.y0 if horizontal else comps.x0)[members].min())
            c1 = float((comps.y1 if horizontal else comps.x1)[members].max())
            blocks.append([float(along0[g].min()), float(along1[g].max()), c0, c1, float(np.median(thick[members]))])
        # one barcode may be found as several stacks, split where bars touch:
        # join stacks with the same extent along the bars
        blocks.sort(key=lambda b: b[2])
        joined: list[list[float]] = []
        for b in blocks:
            if joined:
                j = joined[-1]
                overlap = min(j[1], b[1]) - max(j[0], b[0])
                if overlap >= 0.6 * max(j[1] - j[0], b[1] - b[0]):
                    j[0], j[1], j[3] = min(j[0], b[0]), max(j[1], b[1]), max(j[3], b[3])
                    continue
            joined.append(list(b))
        k_a0 = (comps.x0 if horizontal else comps.y0).astype(np.float64)
        k_a1 = (comps.x1 if horizontal else comps.y1).astype(np.float64)
        k_c0 = (comps.y0 if horizontal else comps.x0).astype(np.float64)
        k_c1 = (comps.y1 if horizontal else comps.x1).astype(np.float64)
        for a0, a1, c0, c1, bar in joined:
            # in a coarse scan neighbouring bars merge into solid blocks of the bars' length
            # (and a pen stroke that reaches the code merges with them): the code goes on
            # across them, a block at a time, judged by what lies within its extent
            b0, b1, block = _blocks_within(comps, horizontal, int(a0), int(np.ceil(a1)))
            full = np.nonzero(block)[0]
            reach = 4 * max(bar, 2.0)
            grown = True
            while grown:
                near = full[(b0[full] <= c1 + reach) & (b1[full] >= c0 - reach)]
                n0, n1 = min(c0, b0[near].min(initial=c0)), max(c1, b1[near].max(initial=c1))
                grown = (n0, n1) != (c0, c1)
                c0, c1 = n0, n1
            # bars that touch merge into blocks: anything lying within the
            # barcode's extent along the bars belongs to it
            slack = 0.1 * (a1 - a0) + 1
            out |= (k_a0 >= a0 - slack) & (k_a1 <= a1 + slack) & (k_c0 >= c0 - 2) & (k_c1 <= c1 + 2)
            if horizontal:
                box = (int(a0), int(c0), int(a1), int(c1))
            else:
                box = (int(c0), int(a0), int(c1), int(a1))
            codes.append(Barcode(box, horizontal))
    return out, codes


def _blocks_within(
    comps: Components, horizontal: bool, a0: int, a1: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each component's part between ``a0`` and ``a1`` along the bars (columns when
    ``horizontal``): its extent across, ``c0`` to ``c1``, and whether that part is a
    solid block spanning most of the extent.

    Returns ``(c0, c1, block)``, each of length ``comps.n``.
    """
    n = comps.n
    window = comps.labels[:, a0:a1] if horizontal else comps.labels[a0:a1, :].T
    cs, al = np.nonzero(window)  # rows of the window = across, columns = along
    lab = window[cs, al] - 1
    c0 = np.full(n, np.inf)
    c1 = np.full(n, -np.inf)
    g0 = np.full(n, np.inf)
    g1 = np.full(n, -np.inf)
    np.minimum.at(c0, lab, cs)
    np.maximum.at(c1, lab, cs + 1)
    np.minimum.at(g0, lab, al)
    np.maximum.at(g1, lab, al + 1)
    area = np.bincount(lab, minlength=n).astype(np.float64)
    span = np.maximum(g1 - g0, 0)
    block = (area > 0) & (area >= 0.7 * span * np.maximum(c1 - c0, 0)) & (span >= 0.8 * (a1 - a0))
    return c0, c1, block


def barcode_areas(codes: list[Barcode], shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """The boxes of ``codes`` grown by a quarter across the bars (bars merged
    with a stroke were not counted in the stack), clipped to ``shape``."""
    H, W = shape
    out = []
    for code in codes:
        x0, y0, x1, y1 = code.box
        if code.horizontal:
            grow = (y1 - y0) // 4 + 2
            y0, y1 = max(0, y0 - grow), min(H, y1 + grow)
        else:
            grow = (x1 - x0) // 4 + 2
            x0, x1 = max(0, x0 - grow), min(W, x1 + grow)
        out.append((x0, y0, x1, y1))
    return out


def barcode_pixels(mask: np.ndarray, codes: list[Barcode]) -> np.ndarray:
    """``H×W bool``: the pixels of ``mask`` on the bars of ``codes``.

    Inside a barcode, ink in a run along the bars at least 60 % of their
    length is a bar; what shows between the bars (a pen stroke crossing
    the code) is not.
    """
    out = np.zeros(mask.shape, bool)
    for code, (x0, y0, x1, y1) in zip(codes, barcode_areas(codes, mask.shape)):
        sub = mask[y0:y1, x0:x1]
        min_len = max(3, int(0.6 * code.bar_length))
        if code.horizontal:
            out[y0:y1, x0:x1] = _long_runs(sub, min_len)
        else:
            out[y0:y1, x0:x1] = _long_runs(sub.T, min_len).T
    return out


def smear(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """``H×W bool`` grown by a ``width×height`` rectangle, to join nearby ink."""
    return dilate_rect(mask, width, height)
