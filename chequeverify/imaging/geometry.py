"""Where the cheque is in the scan, how it is turned, and its printed rules.

Works on a reduced grey copy of the scan (about 100 dpi is plenty to see
borders, lines and skew), so it costs a few milliseconds.

* :func:`cheque_region` — the cheque inside the scan: black scanner borders
  and frames are trimmed, and a full-width bar (a photograph's edge, the
  cut between a cheque and an annotation below it) splits the scan, keeping
  the larger part;
* :func:`estimate_skew` — the angle that makes the printed rows (rules,
  type, MICR line) most horizontal (projection profiles);
* :func:`find_horizontal_rules` — the printed horizontal lines, in units of
  the cheque, for layout detection.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from chequeverify.imaging.components import runs
from chequeverify.imaging.layouts import Rule

#: a scanner's background or a photo's frame: darker than any cheque paper
BORDER_GREY = 90


def reduce_to(grey: np.ndarray, target_width: int = 800) -> tuple[np.ndarray, int]:
    """``H×W uint8`` → (reduced copy, integer factor), about ``target_width`` wide."""
    factor = max(1, int(round(grey.shape[1] / target_width)))
    if factor == 1:
        return grey, 1
    return np.asarray(Image.fromarray(grey).reduce(factor), dtype=np.uint8), factor


def cheque_region(grey: np.ndarray) -> tuple[int, int, int, int]:
    """``H×W uint8`` → box ``(x0, y0, x1, y1)`` of the cheque itself.

    Rows or columns at the edges that are mostly dark are scanner
    background or a frame; an interior row band that is dark across nearly
    the whole width is a cut, and the larger side is the cheque.
    """
    h, w = grey.shape
    dark = grey < BORDER_GREY
    x0, y0, x1, y1 = 0, 0, w, h
    for _ in range(3):  # trimming rows changes the column fractions and back
        rows = dark[y0:y1, x0:x1].mean(axis=1)
        while y1 - y0 > 4 and rows[0] > 0.5:
            y0 += 1
            rows = rows[1:]
        while y1 - y0 > 4 and rows[-1] > 0.5:
            y1 -= 1
            rows = rows[:-1]
        cols = dark[y0:y1, x0:x1].mean(axis=0)
        while x1 - x0 > 4 and cols[0] > 0.5:
            x0 += 1
            cols = cols[1:]
        while x1 - x0 > 4 and cols[-1] > 0.5:
            x1 -= 1
            cols = cols[:-1]
    rows = dark[y0:y1, x0:x1].mean(axis=1)
    # A cut is a band dark across the width and thicker than any printed
    # rule (a rule with its label can be dark across most of a row too).
    min_bar = max(4, int(0.012 * (y1 - y0)))
    bands = _true_runs(rows > 0.9)
    cuts = [(a, b) for a, b in bands if b - a >= min_bar]
    if cuts:
        edges = [0] + [v for a, b in cuts for v in (a, b)] + [y1 - y0]
        pieces = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]
        top, bottom = max(pieces, key=lambda p: p[1] - p[0])
        y0, y1 = y0 + top, y0 + bottom
    return _trim_blank_page(grey, (x0, y0, x1, y1))


#: a scanner lid or an empty page around a cheque: white, and wide
BLANK_GREY = 246
MIN_BLANK_MARGIN = 0.12


def _trim_blank_page(grey: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Cut away wide, empty white margins: a cheque scanned on a page.

    Only margins wider than :data:`MIN_BLANK_MARGIN` of the image count —
    a cheque's own blank edges are narrower — and what is left must still
    look like a cheque (wider than tall).
    """
    x0, y0, x1, y1 = box
    sub = grey[y0:y1, x0:x1]
    h, w = sub.shape
    if h < 8 or w < 8:
        return box
    blank_rows = (sub >= BLANK_GREY).mean(axis=1) >= 0.995
    blank_cols = (sub >= BLANK_GREY).mean(axis=0) >= 0.995

    def run(flags: np.ndarray) -> int:
        return int(np.argmin(flags)) if not flags.all() else flags.size

    top, bottom = run(blank_rows), run(blank_rows[::-1])
    left, right = run(blank_cols), run(blank_cols[::-1])
    top = top if top >= MIN_BLANK_MARGIN * h else 0
    bottom = bottom if bottom >= MIN_BLANK_MARGIN * h else 0
    left = left if left >= MIN_BLANK_MARGIN * w else 0
    right = right if right >= MIN_BLANK_MARGIN * w else 0
    nh, nw = h - top - bottom, w - left - right
    if nh < 0.1 * h or nw < 0.1 * w or nw < 1.3 * nh:
        return box
    # leave a little of the page: the cheque's edge may be soft
    pad = max(1, int(0.01 * max(nh, nw)))
    return (
        x0 + max(0, left - pad),
        y0 + max(0, top - pad),
        x1 - max(0, right - pad),
        y1 - max(0, bottom - pad),
    )


def _true_runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` of every stretch of True in a 1-D bool array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    d = np.diff(padded)
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist()))


def estimate_skew(mask: np.ndarray, max_degrees: float = 6.0, max_points: int = 6000) -> float:
    """Angle in degrees by which the ink rows of ``mask`` are turned (counter-clockwise positive).

    Turning the image by minus this angle levels them.

    Projection-profile search: the shear that makes the row histogram of the
    ink most peaked (sum of squares) is the skew. Coarse 0.5° steps, then
    0.1° around the best.
    """
    ys, xs = np.nonzero(mask)
    if ys.size < 50:
        return 0.0
    if ys.size > max_points:
        pick = np.random.default_rng(0).choice(ys.size, max_points, replace=False)
        ys, xs = ys[pick], xs[pick]
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - mask.shape[1] / 2.0
    offset = 0.5 + mask.shape[1] * math.tan(math.radians(max_degrees + 1.0))

    def sharpness(deg: float) -> float:
        t = math.tan(math.radians(deg))
        proj = (ys + xs * t + offset).astype(np.int64)  # offset keeps it positive: truncation rounds
        hist = np.bincount(proj)
        return float(np.dot(hist, hist))

    coarse = np.arange(-max_degrees, max_degrees + 1e-9, 0.5)
    scores = [sharpness(a) for a in coarse]
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.1)
    scores = [sharpness(a) for a in fine]
    # ys grow downwards: a line turned counter-clockwise rises to the right
    # (y falls as x grows) and is levelled by adding x·tan(angle)
    return float(fine[int(np.argmax(scores))])


def find_horizontal_rules(mask: np.ndarray, min_fraction: float = 0.08) -> list[Rule]:
    """Printed horizontal lines of ``mask`` (a cheque, ``H×W bool``) in relative units.

    Runs of a row at least 2 % of the width long are joined across small
    gaps (dashes, a stroke crossing the line); joined runs of at least
    ``min_fraction`` of the width are rules. Neighbouring rows of one thick
    line are merged.
    """
    h, w = mask.shape
    r = runs(mask)
    keep = r.length >= max(3, int(0.02 * w))
    rows, starts, ends = r.row[keep], r.start[keep], r.end[keep]
    segments: list[list[float]] = []  # [row, x0, x1, covered]
    gap = max(2, int(0.012 * w))
    for row, a, b in zip(rows.tolist(), starts.tolist(), ends.tolist()):
        if segments and segments[-1][0] == row and a - segments[-1][2] <= gap:
            segments[-1][2] = b
            segments[-1][3] += b - a
        else:
            segments.append([row, a, b, b - a])
    lines: list[list[float]] = []  # [y_sum, n, x0, x1, last_row]
    for row, a, b, covered in segments:
        if b - a < min_fraction * w or covered < 0.6 * (b - a):
            continue
        for line in lines:
            if 0 < row - line[4] <= 2 and min(b, line[3]) - max(a, line[2]) > 0.5 * (b - a):
                line[0] += row
                line[1] += 1
                line[2] = min(line[2], a)
                line[3] = max(line[3], b)
                line[4] = row
                break
        else:
            lines.append([row, 1, a, b, row])
    return [Rule(x0 / w, x1 / w, (ysum / n + 0.5) / h) for ysum, n, x0, x1, _ in lines]
