"""From a whole cheque to the cleaned signature: what verification calls.

:func:`extract_signature` finds the signature (or takes the box a clerk
drew), cuts it from the upright, levelled view of the cheque with a margin
(so that printed lines and type reaching into the box are seen whole),
cleans it, and cuts the margin off again.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from chequeverify.errors import InvalidInput, SignatureNotFound
from chequeverify.imaging.clean import clean_crop
from chequeverify.imaging.ink import TextLine
from chequeverify.imaging.components import dilate_rect
from chequeverify.imaging.locate import (
    ChequeView,
    Located,
    ZoneInk,
    _box_in_input,
    analyse_cheque,
    analyse_zone,
    find_signature,
    to_pixels,
)

#: context kept around the box while cleaning (mm)
CLEAN_MARGIN_MM = 4.0
#: paper kept around the strokes in the returned crop (mm)
CROP_PAD_MM = 1.0
#: a black-and-white (bitonal) scan's crop is blurred by this much (mm, Gaussian radius) to
#: the soft edges of the grey scans the network learnt from. On the 56 IDRBT cheques sent
#: black and white, the crops' embeddings against those of the colour scans: mean cosine
#: 0.87 sharp, 0.92 blurred (random-forgery EER at K = 1 6.1 → 4.0 %); on synthetic cheques
#: of train and validation writers 0.674 sharp, 0.687 at 0.07 and 0.1 mm, 0.663 at 0.15 mm
BITONAL_SOFTEN_MM = 0.1
#: around a clerk's box, the neighbourhood searched for printed lines (mm, across and down)
CONTEXT_MM = (15.0, 6.0)


def _check_box(box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    try:
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
    except (TypeError, ValueError):
        raise InvalidInput(f"A signature box is four numbers (x0, y0, x1, y1), got {box!r}.") from None
    W, H = size
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        raise InvalidInput(
            f"The signature box {tuple(box)} is empty or outside the {W}×{H} image.",
            hint="Draw the box around the signature again.",
        )
    return x0, y0, x1, y1


def _zone_around(view: ChequeView, vbox: tuple[int, int, int, int]) -> ZoneInk:
    """The analysis of the region around a box of the view (its printed lines and barcodes).

    The region is the layout's signature zone and the box widened by
    :data:`CONTEXT_MM`: the zone's printed words give the colour of the
    cheque's type, which tells small handwriting from type.
    """
    vh, vw = view.grey.shape
    mx, my = (int(round(v * view.px_per_mm)) for v in CONTEXT_MM)
    sx0, sy0, sx1, sy1 = to_pixels(view.layout.signature_search, vw, vh)
    x0, y0 = max(0, min(sx0, vbox[0] - mx)), max(0, min(sy0, vbox[1] - my))
    x1, y1 = min(vw, max(sx1, vbox[2] + mx)), min(vh, max(sy1, vbox[3] + my))
    rgb = view.rgb[y0:y1, x0:x1] if view.rgb is not None else None
    return analyse_zone(view.grey[y0:y1, x0:x1], view.px_per_mm, (x0, y0), rgb)


def _view_box(view: ChequeView, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """A box of the input image → the box of the view that holds it."""
    x0, y0, x1, y1 = box
    xs, ys = view.to_view(np.array([x0, x1, x1, x0], float), np.array([y0, y0, y1, y1], float))
    vh, vw = view.grey.shape
    return (
        int(np.clip(np.floor(xs.min()), 0, vw)),
        int(np.clip(np.floor(ys.min()), 0, vh)),
        int(np.clip(np.ceil(xs.max()), 0, vw)),
        int(np.clip(np.ceil(ys.max()), 0, vh)),
    )


def extract_signature(
    cheque: Image.Image | np.ndarray, box: tuple[int, int, int, int] | None = None
) -> tuple[Located, np.ndarray]:
    """Locate (or take the clerk's ``box``), crop and clean the signature of a cheque.

    ``cheque``: the whole cheque as loaded; ``box``: ``(x0, y0, x1, y1)`` in
    its pixels when a clerk corrected the location. Returns the
    :class:`Located` (a clerk's box has confidence 1.0) and the cleaned
    signature, ``h×w uint8``, dark strokes on white, upright (from a
    black-and-white scan, with edges softened like a grey scan's). Raises
    :class:`SignatureNotFound` for a blank cheque or an empty box.
    """
    view = analyse_cheque(cheque)
    vh, vw = view.grey.shape
    ppm = view.px_per_mm
    strokes = None
    known: list[TextLine] = []
    if box is None:
        found = find_signature(view)
        mask, (ox, oy) = found.mask, found.offset
        located = Located(
            box=_box_in_input(view, mask, (ox, oy)), confidence=round(found.confidence, 3), **view.located_fields()
        )
        ys, xs = np.nonzero(mask)
        vbox = (int(xs.min()) + ox, int(ys.min()) + oy, int(xs.max()) + 1 + ox, int(ys.max()) + 1 + oy)
        strokes = (mask, ox, oy)
    else:
        located = Located(box=_check_box(box, view.input_size), confidence=1.0, **view.located_fields())
        vbox = _view_box(view, located.box)
    m = int(round(CLEAN_MARGIN_MM * ppm))
    cx0, cy0 = max(0, vbox[0] - m), max(0, vbox[1] - m)
    cx1, cy1 = min(vw, vbox[2] + m), min(vh, vbox[3] + m)
    grey = view.grey[cy0:cy1, cx0:cx1]
    rgb = view.rgb[cy0:cy1, cx0:cx1] if view.rgb is not None else None
    # the printed lines a wider view saw around the signature: the located
    # zone's, or around a clerk's box its own neighbourhood's
    zone = found.zone if box is None else _zone_around(view, vbox)
    zx, zy = zone.offset
    for line in zone.text_lines:  # in crop pixels
        x0, y0, x1, y1 = line.box
        x0, x1 = x0 + zx - cx0, x1 + zx - cx0
        y0, y1 = y0 + zy - cy0, y1 + zy - cy0
        if x1 > 0 and y1 > 0 and x0 < cx1 - cx0 and y0 < cy1 - cy0:
            known.append(TextLine((), (x0, y0, x1, y1), line.height))
    cleaned = clean_crop(grey, rgb, ppm, known, on_cheque=True)
    # the barcode the wider view saw goes: in a coarse scan its bars merge into blocks that
    # the crop's own analysis no longer recognises
    zh, zw = zone.bars.shape
    sx0, sy0, sx1, sy1 = max(cx0, zx), max(cy0, zy), min(cx1, zx + zw), min(cy1, zy + zh)
    if sx1 > sx0 and sy1 > sy0:
        overlap = cleaned[sy0 - cy0 : sy1 - cy0, sx0 - cx0 : sx1 - cx0]  # a view: written in place
        overlap[zone.bars[sy0 - zy : sy1 - zy, sx0 - zx : sx1 - zx]] = 255
    if strokes is not None:
        # only the located signature's strokes: other handwriting that the
        # margin brought in (the amount, a date) goes
        mask, ox, oy = strokes
        own = np.zeros(cleaned.shape, bool)
        ys, xs = np.nonzero(mask)
        own[ys + oy - cy0, xs + ox - cx0] = True
        reach = int(round(1.0 * ppm)) * 2 + 1
        cleaned = np.where(dilate_rect(own, reach, reach), cleaned, np.uint8(255))
    pad = int(round(CROP_PAD_MM * ppm))
    bx0, by0 = max(0, vbox[0] - pad - cx0), max(0, vbox[1] - pad - cy0)
    bx1, by1 = min(cx1 - cx0, vbox[2] + pad - cx0), min(cy1 - cy0, vbox[3] + pad - cy0)
    out = np.ascontiguousarray(cleaned[by0:by1, bx0:bx1])
    if not (out < 200).any():
        raise SignatureNotFound("No handwriting left in the signature box after removing print.")
    if view.bitonal:
        out = np.asarray(Image.fromarray(out).filter(ImageFilter.GaussianBlur(BITONAL_SOFTEN_MM * ppm)), np.uint8)
    return located, out
