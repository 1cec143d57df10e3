"""Binary-image primitives in numpy: runs, connected components, morphology.

No scipy or OpenCV in this layer (DESIGN.md), so connected components are
labelled on *runs* (maximal horizontal stretches of ink): runs of adjacent
rows that touch are joined with a vectorised union-find. A 200-dpi cheque
has a few tens of thousands of runs, which numpy handles in milliseconds.

Masks are ``H×W bool`` with ``True`` = ink. Boxes are ``(x0, y0, x1, y1)``
with exclusive ends, in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Runs:
    """Horizontal runs of a mask: run ``i`` covers ``row[i], start[i]:end[i]``."""

    row: np.ndarray  # int64, sorted
    start: np.ndarray  # int64
    end: np.ndarray  # int64, exclusive

    def __len__(self) -> int:
        return int(self.row.size)

    @property
    def length(self) -> np.ndarray:
        return self.end - self.start


def runs(mask: np.ndarray) -> Runs:
    """``H×W bool`` → its horizontal runs, in raster order."""
    m = np.asarray(mask, dtype=bool)
    h, w = m.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = m
    d = np.diff(padded, axis=1).ravel()  # +1 where a run starts, -1 just after it ends
    idx = np.flatnonzero(d)
    starts = idx[d[idx] > 0]
    ends = idx[d[idx] < 0]
    row, start = np.divmod(starts, w + 1)
    end = ends - row * (w + 1)
    return Runs(row.astype(np.int64), start.astype(np.int64), end.astype(np.int64))


@dataclass(frozen=True)
class Components:
    """Connected components (8-connected) of a mask.

    ``labels``: ``H×W int32``, 0 = background, ``1..n`` = components;
    per-component arrays are indexed ``0..n-1`` (component ``k`` has label
    ``k + 1``): ``area`` (pixels), ``x0, y0, x1, y1`` (box, exclusive ends).
    """

    labels: np.ndarray
    area: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray

    @property
    def n(self) -> int:
        return int(self.area.size)

    @property
    def width(self) -> np.ndarray:
        return self.x1 - self.x0

    @property
    def height(self) -> np.ndarray:
        return self.y1 - self.y0

    def box(self, k: int) -> tuple[int, int, int, int]:
        return int(self.x0[k]), int(self.y0[k]), int(self.x1[k]), int(self.y1[k])

    def mask_of(self, keep: np.ndarray) -> np.ndarray:
        """``H×W bool`` of the components where ``keep`` (bool, length ``n``) is true."""
        lut = np.concatenate([[False], np.asarray(keep, dtype=bool)])
        return lut[self.labels]


def _run_labels(r: Runs, connectivity: int = 8) -> np.ndarray:
    """Component id of every run (0-based, consecutive, in raster order of first run)."""
    n = len(r)
    if n == 0:
        return np.zeros(0, np.int64)
    reach = 1 if connectivity == 8 else 0
    stride = int(max(r.end.max(), 1)) + 2
    key_start = r.row * stride + r.start
    key_end = r.row * stride + r.end  # exclusive end
    # For run a in row y, the runs b of row y+1 that touch it are a contiguous
    # range: those with b.end > a.start - reach and b.start < a.end + reach.
    nxt = (r.row + 1) * stride
    lo = np.searchsorted(key_end, nxt + r.start - reach, side="right")
    hi = np.searchsorted(key_start, nxt + r.end + reach, side="left")
    count = np.maximum(hi - lo, 0)
    a = np.repeat(np.arange(n), count)
    if a.size:
        offsets = np.arange(a.size) - np.repeat(np.cumsum(count) - count, count)
        b = np.repeat(lo, count) + offsets
        ok = r.row[b] == r.row[a] + 1
        a, b = a[ok], b[ok]
    else:
        b = a
    parent = np.arange(n)
    while True:
        pa, pb = parent[a], parent[b]
        low = np.minimum(pa, pb)
        changed = np.any(pa != pb)
        np.minimum.at(parent, pa, low)
        np.minimum.at(parent, pb, low)
        # pointer jumping until every run points at its root
        while True:
            nxt_parent = parent[parent]
            if np.array_equal(nxt_parent, parent):
                break
            parent = nxt_parent
        if not changed:
            break
    _, ids = np.unique(parent, return_inverse=True)
    return ids.astype(np.int64)


def label(mask: np.ndarray, connectivity: int = 8) -> Components:
    """``H×W bool`` → :class:`Components` (8- or 4-connected)."""
    m = np.asarray(mask, dtype=bool)
    h, w = m.shape
    r = runs(m)
    ids = _run_labels(r, connectivity)
    n = int(ids.max()) + 1 if ids.size else 0
    labels = np.zeros((h, w), np.int32)
    if n:
        lengths = r.length
        flat_start = r.row * w + r.start
        idx = np.repeat(flat_start - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        labels.ravel()[idx] = np.repeat(ids + 1, lengths).astype(np.int32)
    area = np.bincount(ids, weights=r.length, minlength=n).astype(np.int64)
    x0 = np.full(n, w, np.int64)
    y0 = np.full(n, h, np.int64)
    x1 = np.zeros(n, np.int64)
    y1 = np.zeros(n, np.int64)
    np.minimum.at(x0, ids, r.start)
    np.minimum.at(y0, ids, r.row)
    np.maximum.at(x1, ids, r.end)
    np.maximum.at(y1, ids, r.row + 1)
    return Components(labels, area, x0, y0, x1, y1)


# --- morphology --------------------------------------------------------------
# Separable numpy passes: Pillow's rank filters sort every window and are
# tens of times slower for the window sizes used here.


def max_filter(a: np.ndarray, width: int, height: int | None = None) -> np.ndarray:
    """Running maximum of an ``H×W`` array over a ``width×height`` window (edges replicated)."""
    height = width if height is None else height
    out = np.asarray(a)
    for axis, size in ((1, width), (0, height)):
        if size <= 1:
            continue
        before = size // 2
        after = size - 1 - before
        pad = [(0, 0), (0, 0)]
        pad[axis] = (before, after)
        p = np.pad(out, pad, mode="edge")
        n = out.shape[axis]
        acc = np.take(p, np.arange(n), axis=axis)
        for k in range(1, size):
            np.maximum(acc, np.take(p, np.arange(k, k + n), axis=axis), out=acc)
        out = acc
    return out


def dilate(mask: np.ndarray, size: int = 3) -> np.ndarray:
    """``H×W bool`` grown by a ``size×size`` square."""
    return dilate_rect(mask, size, size)


def erode(mask: np.ndarray, size: int = 3) -> np.ndarray:
    """``H×W bool`` shrunk by a ``size×size`` square (outside the image counts as ink)."""
    return ~dilate_rect(~np.asarray(mask, dtype=bool), size, size)


def dilate_rect(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """``H×W bool`` grown by a ``width×height`` rectangle (separable, any sizes ≥ 1).

    Done with cumulative sums, so a long horizontal smear (joining the
    letters of a word, the strokes of a signature) costs the same as a short one.
    """
    m = np.asarray(mask, dtype=bool)
    out = _grow_axis(m, width, axis=1)
    return _grow_axis(out, height, axis=0)


def _grow_axis(m: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Grow ``m`` by ``size`` along one axis: OR of shifted copies when short,
    a difference of cumulative sums when long."""
    if size <= 1:
        return m
    before = size // 2
    after = size - 1 - before
    n = m.shape[axis]
    mt = m if axis == 1 else m.T
    if size <= 7:
        # out[i] = any(m[i - after : i + before + 1])
        p = np.zeros((mt.shape[0], n + size - 1), bool)
        p[:, after : after + n] = mt
        out = p[:, 0:n].copy()
        for k in range(1, size):
            out |= p[:, k : k + n]
        return out if axis == 1 else out.T
    c = np.zeros((mt.shape[0], n + 1), np.int32)
    np.cumsum(mt, axis=1, dtype=np.int32, out=c[:, 1:])
    # hi = min(i + before + 1, n), lo = max(i - after, 0), by padding with the ends
    padded = np.concatenate([np.repeat(c[:, :1], after, axis=1), c, np.repeat(c[:, -1:], before, axis=1)], axis=1)
    out = padded[:, size : size + n] - padded[:, 0:n]
    return (out > 0) if axis == 1 else (out > 0).T


def boundary_length(mask: np.ndarray) -> int:
    """Number of ink pixels with a 4-neighbour of paper (a perimeter estimate)."""
    m = np.asarray(mask, dtype=bool)
    p = np.pad(m, 1)
    inner = p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return int(m.sum() - inner.sum())
