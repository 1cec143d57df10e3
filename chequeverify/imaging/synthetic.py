"""Synthetic cheques and signatures, drawn with Pillow.

Tests and the demo workspace need cheques with a known signature box and
nothing from the research data committed, so the project draws its own:

* :func:`synthetic_signature` — a random pen trajectory (cubic Bézier
  strokes through loops and humps, an optional flourish and dot), ``H×W
  uint8`` dark on white; the same ``seed`` gives the same "writer's" design
  and ``variant`` perturbs it like a second signature by the same hand;
* :func:`draw_cheque` — a blank cheque of one of the registered layouts
  (:func:`synthetic_layouts`) with its tinted paper, security pattern, bank
  name, printed rules, date and amount fields, account box, the holder's
  printed name, a MICR-style code line and, optionally, handwritten payee
  and amount; then the given signature placed in the signature field (it
  may run over the printed name, as real ones do). Returns the cheque and
  the true box of the signature's ink (``None`` when unsigned);
* :func:`clearing_image`, :func:`save_clearing_image` — a scan turned into
  the images cheque clearing sends the paying bank (grey, CTS-2010's 100 dpi
  grey front, black and white) and written as clearing systems store them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from chequeverify.errors import InvalidInput
from chequeverify.imaging.components import label
from chequeverify.imaging.layouts import Layout, all_layouts, get_layout
from chequeverify.imaging.normalise import to_grey

#: pen colours: blue ballpoint, black ballpoint, dark blue gel
PEN_COLOURS = ((25, 45, 150), (25, 25, 30), (20, 30, 95))


def synthetic_layouts() -> list[str]:
    """Names of the layouts :func:`draw_cheque` can draw (every registered layout)."""
    return sorted(all_layouts())


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's built-in scalable font (no system font needed)."""
    return ImageFont.load_default(size=max(6, int(size)))


# --- signatures -----------------------------------------------------------------


def _bezier(p0, p1, p2, p3, n: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return ((1 - t) ** 3) * p0 + 3 * ((1 - t) ** 2) * t * p1 + 3 * (1 - t) * (t**2) * p2 + (t**3) * p3


def _trajectory(rng: np.random.Generator, jitter: np.random.Generator, variant_scale: float) -> list[np.ndarray]:
    """Pen strokes (lists of points in a unit box, x right, y down) of one signature design."""
    strokes = []
    n_parts = int(rng.integers(1, 3))  # first name initial + surname, or one word
    x = 0.02
    for part in range(n_parts):
        width = float(rng.uniform(0.35, 0.6)) if part == n_parts - 1 else float(rng.uniform(0.12, 0.3))
        humps = int(rng.integers(3, 8)) if part == n_parts - 1 else int(rng.integers(1, 3))
        pts = [np.array([x, float(rng.uniform(0.55, 0.8))])]
        for h in range(humps):
            xh = x + width * (h + 1) / humps
            top = float(rng.uniform(0.05, 0.45)) if rng.random() < 0.35 else float(rng.uniform(0.35, 0.6))
            bottom = float(rng.uniform(0.65, 0.95))
            pts.append(np.array([xh - width / humps * 0.5, top]))
            pts.append(np.array([xh, bottom]))
        pts = [p + jitter.normal(0, 0.015 * variant_scale, 2) for p in pts]
        curve = []
        for a, b in zip(pts[:-1], pts[1:]):
            bend = float(rng.uniform(-0.15, 0.15))
            c1 = a + (b - a) * 0.3 + np.array([bend, -abs(bend)])
            c2 = a + (b - a) * 0.7 + np.array([-bend, abs(bend)])
            curve.append(_bezier(a, c1, c2, b, 24))
        strokes.append(np.concatenate(curve))
        x += width + float(rng.uniform(0.04, 0.1))
    if rng.random() < 0.7:  # a flourish under or through the name
        y = float(rng.uniform(0.75, 0.98))
        a = np.array([float(rng.uniform(0.0, 0.3)), y + float(rng.uniform(-0.05, 0.05))])
        b = np.array([min(0.98, x + float(rng.uniform(-0.1, 0.1))), y - float(rng.uniform(0.0, 0.2))])
        c1 = a + np.array([0.2, 0.08]) + jitter.normal(0, 0.02 * variant_scale, 2)
        c2 = b + np.array([-0.2, 0.05]) + jitter.normal(0, 0.02 * variant_scale, 2)
        strokes.append(_bezier(a, c1, c2, b, 40))
    if rng.random() < 0.4:  # a final dot, just after the name
        p = np.array([min(0.99, x - float(rng.uniform(0.02, 0.05))), float(rng.uniform(0.55, 0.8))])
        strokes.append(np.stack([p, p + 0.01]))
    return strokes


def synthetic_signature(
    seed: int = 0,
    size: tuple[int, int] = (360, 140),
    *,
    variant: int = 0,
    pen_width: float | None = None,
) -> np.ndarray:
    """A random handwritten-looking signature: ``H×W uint8`` (``size`` = (W, H)), dark on white.

    ``seed`` fixes the design (one "writer"); ``variant`` draws it again with
    the small differences of another signing by the same hand.
    """
    w, h = int(size[0]), int(size[1])
    if w < 16 or h < 8:
        raise InvalidInput(f"A signature needs at least 16×8 pixels, got {w}×{h}.")
    rng = np.random.default_rng(seed)
    jitter = np.random.default_rng((seed, variant))
    strokes = _trajectory(rng, jitter, 1.0 if variant else 0.0)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    pw = pen_width if pen_width is not None else max(1.5, min(w, h) * float(rng.uniform(0.018, 0.03)))
    margin = pw
    slant = float(rng.uniform(-0.25, 0.1))
    for pts in strokes:
        xs = margin + pts[:, 0] * (w - 2 * margin) + slant * (pts[:, 1] - 0.5) * h
        ys = margin + pts[:, 1] * (h - 2 * margin)
        draw.line(list(zip(xs.tolist(), ys.tolist())), fill=20, width=max(1, int(round(pw))), joint="curve")
    return np.asarray(img, dtype=np.uint8)


# --- cheques ---------------------------------------------------------------------


def _mm(v: float, dpi: int) -> int:
    return int(round(v * dpi / 25.4))


def _security_pattern(draw: ImageDraw.ImageDraw, size: tuple[int, int], paper, rng, dpi: int, bank: str) -> None:
    """Fine wavy guilloche lines and tiled micro-text, a little darker than the paper."""
    w, h = size
    shade = tuple(max(0, c - int(rng.integers(18, 34))) for c in paper)
    period = _mm(float(rng.uniform(2.5, 4.0)), dpi)
    amp = _mm(float(rng.uniform(0.8, 1.6)), dpi)
    xs = np.arange(0, w + 8, 4)
    for y0 in range(-amp, h + amp, period):
        ys = y0 + amp * np.sin(xs / max(period, 1) * 1.3 + y0 * 0.05)
        draw.line(list(zip(xs.tolist(), ys.tolist())), fill=shade, width=1)
    font = _font(_mm(1.4, dpi))
    word = (bank.upper() + " \u00b7 ") * 3
    step_y = _mm(7.0, dpi)
    for i, y in enumerate(range(_mm(3, dpi), h, step_y)):
        draw.text(((i % 3) * -_mm(6, dpi), y), word * 4, fill=shade, font=font)


def _text(draw, xy, text, size_px, fill=(20, 20, 20), anchor="la") -> tuple[int, int, int, int]:
    font = _font(size_px)
    draw.text(xy, text, fill=fill, font=font, anchor=anchor)
    return draw.textbbox(xy, text, font=font, anchor=anchor)


def _micr_line(draw, field_px, rng, dpi: int) -> None:
    """A MICR-style code line: digit groups separated by E-13B-like symbols (drawn as blocks)."""
    x0, y0, x1, y1 = field_px
    size = _mm(3.0, dpi)
    y = (y0 + y1) // 2 - size // 2
    x = x0 + _mm(8, dpi)
    for group in range(4):
        # transit / on-us symbols: small bar pairs
        draw.rectangle([x, y + size // 4, x + _mm(0.5, dpi), y + size], fill=(10, 10, 10))
        draw.rectangle([x + _mm(0.9, dpi), y, x + _mm(1.5, dpi), y + size // 2], fill=(10, 10, 10))
        x += _mm(2.4, dpi)
        digits = "".join(str(int(d)) for d in rng.integers(0, 10, int(rng.integers(4, 9))))
        bb = _text(draw, (x, y), digits, size, fill=(10, 10, 10))
        x = bb[2] + _mm(3.0, dpi)
        if x > x1 - _mm(20, dpi):
            break


def _pen_scribble(draw, box, rng, colour, dpi: int, words: int = 3) -> None:
    """Handwritten-looking words (payee, amount) in ``box``."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    x = x0
    for _ in range(words):
        width = int(rng.uniform(0.15, 0.3) * (x1 - x0))
        if x + width > x1:
            break
        sig = synthetic_signature(int(rng.integers(1 << 30)), (max(16, width), max(8, h)))
        ys, xs = np.nonzero(sig < 128)
        if xs.size:
            pts = set(zip((xs + x).tolist(), (ys + y0).tolist()))
            draw.point(list(pts), fill=colour)
        x += width + _mm(3, dpi)


def _paste_ink(cheque: Image.Image, ink: np.ndarray, x: int, y: int, colour) -> tuple[int, int, int, int] | None:
    """Lay pen ink (``h×w float`` 0..1) on the cheque at (x, y), multiplying like real ink; return its box."""
    h, w = ink.shape
    W, H = cheque.size
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    sub = ink[y0 - y : y1 - y, x0 - x : x1 - x]
    region = np.asarray(cheque.crop((x0, y0, x1, y1)), dtype=np.float32)
    pen = np.array(colour, np.float32)
    a = sub[..., None]
    out = region * (1 - a) + np.minimum(region, pen) * a
    cheque.paste(Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8)), (x0, y0))
    ys, xs = np.nonzero(sub > 0.35)
    if xs.size == 0:
        return None
    return int(xs.min()) + x0, int(ys.min()) + y0, int(xs.max()) + 1 + x0, int(ys.max()) + 1 + y0


def cheque_sized(signature: Image.Image | np.ndarray, height_px: int) -> np.ndarray:
    """A signature image → ``h×w uint8``: the same signature as a cheque scan carries it.

    Specimen sheets are scanned with signatures several times larger than
    the 9-14 mm a signature spans on a cheque at 200 dpi (70-110 pixels):
    this scales the ink (``height_px`` tall) and lays it dark on white paper,
    so that training can show the network both renderings of one signature.
    """
    ink = _signature_ink(signature, int(height_px), 100 * int(height_px))
    return np.clip(255.0 - 235.0 * ink + 0.5, 0, 255).astype(np.uint8)


def _signature_ink(signature, target_h: int, max_w: int) -> np.ndarray:
    """A signature image (any mode; dark on light) → ``h×w float32`` ink (1 = full pen), scaled."""
    grey = to_grey(signature)
    dark = grey < 200
    if not dark.any():
        raise InvalidInput("The signature image holds no ink.")
    # dust on the scanned specimen is not part of the signature (nor of its box)
    comps = label(dark)
    dust = comps.area < max(4, 0.003 * comps.area.sum())
    if not dust.all():
        grey = np.where(comps.mask_of(dust), np.uint8(255), grey)
        dark &= ~comps.mask_of(dust)
    ys, xs = np.nonzero(dark)
    grey = grey[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = grey.shape
    scale = min(target_h / h, max_w / w)
    nw, nh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    small = np.asarray(Image.fromarray(grey).resize((nw, nh), Image.Resampling.LANCZOS), dtype=np.float32)
    paper = float(np.percentile(grey, 90)) if grey.size else 255.0
    ink = np.clip((paper - small) / max(paper - float(small.min()), 1.0), 0.0, 1.0)
    return np.where(ink > 0.15, ink, 0.0).astype(np.float32)


def draw_cheque(
    signature: Image.Image | np.ndarray | None,
    layout: str = "cts2010",
    *,
    holder: str = "RAJESH KUMAR",
    bank: str = "Demo Bank",
    seed: int = 0,
    dpi: int = 200,
    pen: tuple[int, int, int] | None = None,
    filled: bool = True,
    pattern: bool = True,
    signature_height_mm: float | None = None,
) -> tuple[Image.Image, tuple[int, int, int, int] | None]:
    """Draw a cheque of ``layout`` and sign it with ``signature``.

    Returns the cheque (``PIL.Image`` RGB, at ``dpi``) and the true box
    ``(x0, y0, x1, y1)`` (exclusive ends) of the signature's ink, or
    ``None`` when ``signature`` is ``None`` (an unsigned cheque).
    ``filled``: also write the payee, amount and date by hand, as on a
    presented cheque; ``pattern``: draw the security background.
    """
    spec: Layout = get_layout(layout)
    rng = np.random.default_rng(seed)
    W, H = _mm(spec.size_mm[0], dpi), _mm(spec.size_mm[1], dpi)
    hints = spec.synthetic
    papers = hints.get("paper") or [[236, 236, 236]]
    paper = tuple(int(c) for c in papers[int(rng.integers(len(papers)))])
    cheque = Image.new("RGB", (W, H), paper)
    draw = ImageDraw.Draw(cheque)
    if pattern:
        _security_pattern(draw, (W, H), paper, rng, dpi, bank)
    ink_print = (20, 20, 20)
    # clear band at the bottom: plain paper, as the standards require
    micr = spec.field_px("micr", W, H)
    draw.rectangle([0, micr[1], W, H], fill=tuple(min(255, c + 12) for c in paper))
    _text(draw, (_mm(6, dpi), _mm(4, dpi)), bank, _mm(5.0, dpi), fill=(120, 20, 40))
    _text(draw, (_mm(6, dpi), _mm(11, dpi)), "Main Branch, 1 Example Road", _mm(2.2, dpi))
    # printed rules (the layout's landmarks)
    lw = max(1, _mm(0.2, dpi))
    for r in spec.rules:
        y = int(round(r.y * H))
        draw.line([(int(r.x0 * W), y), (int(r.x1 * W), y)], fill=ink_print, width=lw)
    small = _mm(2.4, dpi)
    if "payee" in spec.fields:
        px0, py0, px1, py1 = spec.field_px("payee", W, H)
        _text(draw, (px0, py1 - small - _mm(1, dpi)), "Pay", small)
    if "amount" in spec.fields:
        ax0, ay0, ax1, ay1 = spec.field_px("amount", W, H)
        draw.rectangle([ax0, ay0 + _mm(1, dpi), ax1 - _mm(1, dpi), ay1 - _mm(1, dpi)], outline=ink_print, width=lw)
        _text(draw, (ax0 + _mm(2, dpi), ay0 + _mm(2.5, dpi)), "Rs." if layout == "cts2010" else "$", _mm(3.5, dpi))
    if "date" in spec.fields:
        dx0, dy0, dx1, dy1 = spec.field_px("date", W, H)
        n = int(hints.get("date_boxes", 0))
        if n:
            cell = (dx1 - dx0) // n
            for i in range(n):
                draw.rectangle([dx0 + i * cell, dy0, dx0 + (i + 1) * cell, dy0 + cell], outline=ink_print, width=lw)
            _text(draw, (dx0, dy0 + cell + _mm(0.8, dpi)), "D D M M Y Y Y Y", _mm(2.0, dpi))
        else:
            _text(draw, (dx0, dy1 - small), "DATE", small)
    if "account" in spec.fields and hints.get("account_box", False):
        cx0, cy0, cx1, cy1 = spec.field_px("account", W, H)
        draw.rectangle([cx0, cy0, cx1, cy1], outline=ink_print, width=lw)
        number = "".join(str(int(d)) for d in rng.integers(0, 10, 14))
        _text(draw, (cx0 + _mm(2, dpi), cy0 + _mm(2, dpi)), "A/c No. " + number, _mm(3.0, dpi))
    if "memo" in spec.fields:
        mx0, my0, mx1, my1 = spec.field_px("memo", W, H)
        _text(draw, (mx0, my1 - _mm(6, dpi)), "MEMO", _mm(2.0, dpi))
    _micr_line(draw, micr, rng, dpi)

    # printed words around the signature
    sx0, sy0, sx1, sy1 = spec.field_px("signature", W, H)
    below = list(hints.get("printed_below_signature", []))
    label_size = _mm(2.1, dpi)
    y = sy1 - label_size - _mm(1.0, dpi)
    cx = (sx0 + sx1) // 2
    for text in reversed(below):
        _text(draw, (cx, y), text, label_size, anchor="ma")
        y -= int(label_size * 1.5)
    if holder and hints.get("holder_above_label", False):
        _text(draw, (cx, y), holder.upper(), _mm(2.3, dpi), anchor="ma")
    if hints.get("company_above_signature"):
        _text(draw, (cx, sy0 - _mm(4, dpi)), "FOR " + holder.upper(), _mm(2.3, dpi), anchor="ma")
    elif holder and not hints.get("holder_above_label", False):
        _text(draw, (_mm(6, dpi), _mm(15, dpi)), holder.upper(), _mm(2.6, dpi))
    if "signature_label" in hints:
        _text(draw, (sx1 - _mm(2, dpi), sy1 - _mm(2, dpi)), hints["signature_label"], _mm(1.8, dpi), anchor="ra")

    pen_colour = pen or PEN_COLOURS[int(rng.integers(len(PEN_COLOURS)))]
    if filled:
        if "payee" in spec.fields:
            px0, py0, px1, py1 = spec.field_px("payee", W, H)
            _pen_scribble(draw, (px0 + _mm(14, dpi), py0, px1 - _mm(5, dpi), py1 - _mm(1, dpi)), rng, pen_colour, dpi)
        if "amount" in spec.fields:
            ax0, ay0, ax1, ay1 = spec.field_px("amount", W, H)
            _pen_scribble(
                draw, (ax0 + _mm(9, dpi), ay0 + _mm(2, dpi), ax1 - _mm(3, dpi), ay1 - _mm(2, dpi)), rng, pen_colour, dpi, 1
            )
    if signature is None:
        return cheque, None
    # the signature: 9-15 mm tall, in the signature field, often over the printed words
    target_h = _mm(signature_height_mm or float(rng.uniform(9.0, 14.0)), dpi)
    max_w = int((sx1 - sx0) * 0.92)
    ink = _signature_ink(signature, target_h, max_w)
    h, w = ink.shape
    x = sx0 + int(rng.integers(0, max(1, (sx1 - sx0) - w)))
    # anywhere in the field, down to running over the printed words below it
    y_low, y_high = sy0, max(sy0 + 1, sy1 - int(0.75 * h))
    y = int(rng.integers(y_low, y_high))
    box = _paste_ink(cheque, ink, x, y, pen_colour)
    return cheque, box


# --- clearing images ----------------------------------------------------------------

#: the forms in which image clearing exchanges a cheque's front (:func:`clearing_image`)
CLEARING_FORMS = ("scan", "grey", "grey-100dpi", "bitonal")


def clearing_image(scan: Image.Image, form: str, dpi: float = 200.0) -> Image.Image:
    """A cheque scan (at ``dpi``) in the form image clearing sends it to the paying bank.

    ``form``: ``"scan"`` (as given), ``"grey"`` (8-bit grey), ``"grey-100dpi"``
    (grey at 100 dpi: the grey front image of India's CTS-2010) or
    ``"bitonal"`` (1-bit black and white at the scan's resolution: CTS-2010's
    other front image at 200 dpi, and the front image of US Check 21 / X9
    exchange). A capture system drops the paper and its security pattern from
    the bitonal image with a threshold below the paper's tone; this one
    thresholds at 60 % of the median grey (the paper). Returns a Pillow image
    (mode ``RGB``/``L``/``1`` with the given resolution recorded as its ``dpi``).
    """
    if form not in CLEARING_FORMS:
        raise InvalidInput(f"Unknown clearing image form {form!r}; known: {', '.join(CLEARING_FORMS)}.")
    if form == "scan":
        return scan
    grey = scan.convert("L")
    if form == "grey":
        out = grey
    elif form == "grey-100dpi":
        factor = 100.0 / dpi
        size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
        out, dpi = grey.resize(size, Image.Resampling.BOX if factor < 1 else Image.Resampling.BICUBIC), 100.0
    else:
        cut = 0.6 * float(np.median(np.asarray(grey)))
        out = grey.point(lambda v: 255 if v > cut else 0).convert("1")
    out.info["dpi"] = (dpi, dpi)
    return out


def save_clearing_image(image: Image.Image, target, form: str) -> None:
    """Write a :func:`clearing_image` as clearing systems store it: a black-and-white image as
    a CCITT Group 4 TIFF, grey as JPEG (quality 90), a ``"scan"`` as PNG. ``target``: a path
    or a binary file; :data:`CLEARING_SUFFIX` gives the file name's ending."""
    dpi = image.info.get("dpi", (200.0, 200.0))
    if form == "bitonal":
        image.convert("1").save(target, "TIFF", compression="group4", dpi=dpi)
    elif form == "scan":
        image.save(target, "PNG", compress_level=1, dpi=dpi)
    else:
        image.save(target, "JPEG", quality=90, dpi=dpi)


#: the file ending of each clearing form as :func:`save_clearing_image` writes it
CLEARING_SUFFIX = {"scan": ".png", "grey": ".jpg", "grey-100dpi": ".jpg", "bitonal": ".tif"}
