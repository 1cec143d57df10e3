"""Cheque layouts: where the fields of a cheque are, and which layout a scan follows.

A layout is a small JSON file (``chequeverify/imaging/layouts/*.json``,
shipped with the package). A bank adds its own design by dropping a file in
a folder named by ``$CHEQUEVERIFY_LAYOUTS`` (``os.pathsep``-separated) or
by calling :func:`add_layout_file`. The format::

    {
      "name": "cts2010",                 # unique id
      "title": "...",                    # for people
      "size_mm": [202, 92],              # width, height of the cheque
      "units": "relative",               # or "mm": all boxes below in mm from the top-left
      "generic": false,                  # true: the fallback when no layout matches
      "fields": {                        # x0, y0, x1, y1 of each field
        "signature": [...], "micr": [...], "account": [...],
        "date": [...], "amount": [...], ...
      },
      "signature_search": [...],         # optional: where to look (default: signature field grown)
      "landmarks": {
        "rules": [[x0, x1, y, weight, tolerance], ...],  # printed horizontal lines
                                               # that identify it (weight 1, tolerance 0.06 by default)
        "no_rules": [[x0, y0, x1, y1], ...]    # areas where this layout prints no line
      },
      "synthetic": {...}                 # optional hints for the cheque generator
    }

Detection (:func:`detect_layout`) compares the printed horizontal rules found
on the scan with each layout's landmarks, in both upright and upside-down
readings, so it also tells when a scan is upside down.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chequeverify.errors import InvalidInput

log = logging.getLogger(__name__)

LAYOUTS_DIR = Path(__file__).resolve().parent / "layouts"
#: the environment variable naming extra layout folders (a bank's own designs)
LAYOUTS_ENV = "CHEQUEVERIFY_LAYOUTS"

Box = tuple[float, float, float, float]

#: fields every layout must define
REQUIRED_FIELDS = ("signature", "micr")


@dataclass(frozen=True)
class Rule:
    """A printed horizontal line: from ``x0`` to ``x1`` at height ``y`` (relative units)."""

    x0: float
    x1: float
    y: float
    weight: float = 1.0
    #: how far (in heights of the cheque) the line may sit from ``y`` between designs
    tolerance: float = 0.06


@dataclass(frozen=True)
class Layout:
    """One cheque design. Boxes are ``(x0, y0, x1, y1)`` in fractions of the cheque."""

    name: str
    title: str
    size_mm: tuple[float, float]
    fields: dict[str, Box]
    signature_search: Box
    rules: tuple[Rule, ...] = ()
    no_rules: tuple[Box, ...] = ()
    generic: bool = False
    synthetic: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def aspect(self) -> float:
        """Width / height of the cheque."""
        return self.size_mm[0] / self.size_mm[1]

    @property
    def signature(self) -> Box:
        return self.fields["signature"]

    def field_px(self, name: str, width: int, height: int) -> tuple[int, int, int, int]:
        """A field's box in pixels of a ``width×height`` cheque image."""
        return to_pixels(self.fields[name], width, height)


def to_pixels(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return (
        max(0, int(round(x0 * width))),
        max(0, int(round(y0 * height))),
        min(width, int(round(x1 * width))),
        min(height, int(round(y1 * height))),
    )


def _box(value: Any, what: str, scale: tuple[float, float] | None) -> Box:
    try:
        x0, y0, x1, y1 = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InvalidInput(f"Layout {what}: expected [x0, y0, x1, y1], got {value!r}.") from None
    if scale:
        x0, x1 = x0 / scale[0], x1 / scale[0]
        y0, y1 = y0 / scale[1], y1 / scale[1]
    if not (0 <= x0 < x1 <= 1.0001 and 0 <= y0 < y1 <= 1.0001):
        raise InvalidInput(f"Layout {what}: the box {value!r} is not inside the cheque.")
    return (x0, y0, min(x1, 1.0), min(y1, 1.0))


def parse_layout(data: dict[str, Any], source: str = "") -> Layout:
    """A layout from its JSON object; raises :class:`InvalidInput` naming what is wrong."""
    where = f" ({source})" if source else ""
    if not isinstance(data, dict):
        raise InvalidInput(f"A layout must be a JSON object{where}.")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"A layout needs a \"name\"{where}.")
    try:
        width, height = (float(v) for v in data["size_mm"])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(f"Layout {name}: \"size_mm\" must be [width, height]{where}.") from None
    if not (50 <= width <= 400 and 30 <= height <= 200):
        raise InvalidInput(f"Layout {name}: a cheque of {width}×{height} mm is not plausible{where}.")
    units = data.get("units", "relative")
    if units not in ("relative", "mm"):
        raise InvalidInput(f"Layout {name}: \"units\" must be \"relative\" or \"mm\"{where}.")
    scale = (width, height) if units == "mm" else None
    raw_fields = data.get("fields") or {}
    fields = {str(k): _box(v, f"{name} field {k}{where}", scale) for k, v in raw_fields.items()}
    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    if missing:
        raise InvalidInput(f"Layout {name}: missing field(s) {', '.join(missing)}{where}.")
    if "signature_search" in data:
        search = _box(data["signature_search"], f"{name} signature_search{where}", scale)
    else:
        x0, y0, x1, y1 = fields["signature"]
        search = (max(0.0, x0 - 0.1), max(0.0, y0 - 0.08), min(1.0, x1 + 0.02), min(1.0, y1 + 0.04))
    marks = data.get("landmarks") or {}
    rules = []
    for r in marks.get("rules", []):
        try:
            vals = [float(v) for v in r]
            x0, x1, y = vals[:3]
            weight = vals[3] if len(vals) > 3 else 1.0
            tolerance = vals[4] if len(vals) > 4 else 0.06
        except (TypeError, ValueError):
            raise InvalidInput(f"Layout {name}: a rule must be [x0, x1, y(, weight)], got {r!r}{where}.") from None
        if scale:
            x0, x1, y = x0 / scale[0], x1 / scale[0], y / scale[1]
            tolerance = tolerance / scale[1]
        rules.append(Rule(x0, x1, y, weight, tolerance))
    no_rules = tuple(_box(b, f"{name} no_rules{where}", scale) for b in marks.get("no_rules", []))
    return Layout(
        name=name.strip(),
        title=str(data.get("title", name)),
        size_mm=(width, height),
        fields=fields,
        signature_search=search,
        rules=tuple(rules),
        no_rules=no_rules,
        generic=bool(data.get("generic", False)),
        synthetic=dict(data.get("synthetic") or {}),
        source=source,
    )


def load_layout_file(path: str | os.PathLike) -> Layout:
    """Read and check one layout JSON file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"Cannot read the layout file {p}: {exc.strerror or exc}.") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The layout file {p.name} is not valid JSON (line {exc.lineno}).") from None
    return parse_layout(data, source=str(p))


_REGISTRY: dict[str, Layout] = {}
_LOADED = False


def _ensure_loaded() -> None:
    global _LOADED
    if _LOADED:
        return
    folders = [LAYOUTS_DIR]
    extra = os.environ.get(LAYOUTS_ENV, "")
    folders += [Path(p) for p in extra.split(os.pathsep) if p.strip()]
    for folder in folders:
        if not folder.is_dir():
            if folder != LAYOUTS_DIR:
                log.warning("layout folder %s does not exist", folder)
            continue
        for path in sorted(folder.glob("*.json")):
            try:
                layout = load_layout_file(path)
            except InvalidInput as exc:
                log.warning("skipping layout %s: %s", path.name, exc)
                continue
            _REGISTRY[layout.name] = layout
    _LOADED = True


def add_layout_file(path: str | os.PathLike) -> Layout:
    """Register a layout from a JSON file (replacing one of the same name)."""
    _ensure_loaded()
    layout = load_layout_file(path)
    _REGISTRY[layout.name] = layout
    return layout


def register_layout(layout: Layout) -> None:
    """Register a layout object (replacing one of the same name)."""
    _ensure_loaded()
    _REGISTRY[layout.name] = layout


def all_layouts() -> dict[str, Layout]:
    """Every known layout by name (shipped ones and a bank's own)."""
    _ensure_loaded()
    return dict(_REGISTRY)


def get_layout(name: str) -> Layout:
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise InvalidInput(f"Unknown cheque layout {name!r} (known: {known}).") from None


def generic_layout() -> Layout:
    """The fallback used when no layout's landmarks are recognised."""
    _ensure_loaded()
    for layout in _REGISTRY.values():
        if layout.generic:
            return layout
    return next(iter(_REGISTRY.values()))


# --- detection ----------------------------------------------------------------


@dataclass(frozen=True)
class LayoutMatch:
    """The outcome of :func:`detect_layout`: the layout, whether the scan reads upside down, and the evidence."""

    layout: Layout
    upside_down: bool
    score: float
    scores: dict[str, float]


def score_layout(layout: Layout, found: list[Rule], aspect: float | None = None) -> float:
    """How well the horizontal rules ``found`` on a scan match a layout's landmarks (≤ 1).

    Each expected rule counts by its weight times the best overlap of a found
    rule near its height; found rules inside an area where the layout prints
    none count against it. A mismatching aspect ratio costs a little.
    """
    # a line across the whole width is the cheque's frame, not a field
    found = [r for r in found if r.x1 - r.x0 < 0.93]
    total = sum(r.weight for r in layout.rules)
    got = 0.0
    for want in layout.rules:
        best = 0.0
        length = max(want.x1 - want.x0, 1e-6)
        for r in found:
            dy = abs(r.y - want.y)
            if dy > want.tolerance:
                continue
            overlap = max(0.0, min(r.x1, want.x1) - max(r.x0, want.x0)) / length
            # a found line much longer than expected is another line
            excess = max(0.0, (r.x1 - r.x0) - 1.6 * length) / length
            best = max(best, max(0.0, overlap - excess) * (1.0 - 0.5 * dy / want.tolerance))
        got += want.weight * min(best, 1.0)
    score = got / total if total else 0.0
    for x0, y0, x1, y1 in layout.no_rules:
        for r in found:
            if y0 <= r.y <= y1:
                inside = max(0.0, min(r.x1, x1) - max(r.x0, x0))
                if inside > 0.5 * (x1 - x0):
                    score -= 0.3
    if aspect is not None:
        score -= 0.5 * min(abs(aspect / layout.aspect - 1.0), 0.4)
    return score


def flip_rules(found: list[Rule]) -> list[Rule]:
    """The same rules as seen on the scan turned by 180 degrees."""
    return [Rule(1.0 - r.x1, 1.0 - r.x0, 1.0 - r.y, r.weight, r.tolerance) for r in found]


#: below this score no layout is recognised and the generic one is used
MIN_LAYOUT_SCORE = 0.3


def detect_layout(found: list[Rule], aspect: float | None = None, allow_flip: bool = True) -> LayoutMatch:
    """The layout (and reading direction) whose landmarks best match the rules ``found``.

    ``found``: horizontal rules on the scan in relative units of the
    cheque; ``aspect``: the cheque's width / height. Falls back to
    :func:`generic_layout` (upright) when nothing scores
    :data:`MIN_LAYOUT_SCORE`.
    """
    _ensure_loaded()
    flipped = flip_rules(found) if allow_flip else []
    scores: dict[str, float] = {}
    best: tuple[float, Layout, bool] | None = None
    for layout in _REGISTRY.values():
        up = score_layout(layout, found, aspect)
        scores[layout.name] = round(up, 3)
        candidates = [(up, False)]
        if allow_flip:
            down = score_layout(layout, flipped, aspect)
            scores[layout.name + "@180"] = round(down, 3)
            # turning the scan over must clearly win: most scans are upright
            candidates.append((down - 0.15, True))
        for s, flip in candidates:
            if best is None or s > best[0]:
                best = (s, layout, flip)
    if best is None or best[0] < MIN_LAYOUT_SCORE:
        return LayoutMatch(generic_layout(), False, best[0] if best else 0.0, scores)
    return LayoutMatch(best[1], best[2], best[0], scores)
