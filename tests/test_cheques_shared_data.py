"""The cheque reader on the real scans of ``../shared/data/cheques`` (read at run time, never committed).

* IDRBT: 56 Indian CTS-2010 cheques with hand-checked signature boxes;
  the issue asks for IoU ≥ 0.5 on at least 54.
* Wikimedia: two blank cheques (no signature may be found) and four signed
  ones, whose boxes below were judged by eye on the images (generous,
  approximate; IoU ≥ 0.5 asked).
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from chequeverify.errors import SignatureNotFound
from chequeverify.imaging import clearing_image, extract_signature, load_scan, locate_signature

pytestmark = pytest.mark.shared_data

#: signed Wikimedia cheques: the signature's ink, judged by eye (pixels of the file)
WIKIMEDIA_SIGNED = {
    "canadian_cheque_diagram.png": (780, 335, 1185, 455),  # "John James"
    "check_with_micr.jpg": (1435, 985, 2600, 1075),  # "Walter Adams"
    "real_ford_gerald_signed_check.png": (795, 445, 1240, 540),  # "Gerald R. Ford"
    "check1005.jpg": (270, 145, 415, 182),  # "W" and the blacked-out rest
}
WIKIMEDIA_BLANK = ("blank_check.jpg", "blank_check_spanish.jpg")


def iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.fixture(scope="module")
def idrbt(shared_data):
    folder = shared_data / "cheques" / "idrbt"
    with open(folder / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        (folder / r["file"], tuple(int(r[k]) for k in ("box_x0", "box_y0", "box_x1", "box_y1"))) for r in rows
    ]


def test_idrbt_boxes(idrbt):
    ious = []
    for path, truth in idrbt:
        try:
            ious.append(iou(locate_signature(load_scan(path)).box, truth))
        except SignatureNotFound:
            ious.append(0.0)
    assert len(ious) == 56
    hits = sum(v >= 0.5 for v in ious)
    assert hits >= 54, f"IoU >= 0.5 on {hits}/56"
    assert float(np.mean(ious)) >= 0.85


@pytest.mark.parametrize("form", ["grey-100dpi", "bitonal"])
def test_idrbt_boxes_in_the_forms_image_clearing_sends(idrbt, form):
    """CTS-2010 sends the paying bank a grey front at 100 dpi and a black-and-white one at
    200 dpi (US image exchange: black and white). Before this reader enlarged coarse scans,
    took merged barcode bars for the code and kept single letters' ascenders in their line,
    the 100 dpi grey images were found on 50 of 56 (mean IoU 0.74) and the black-and-white
    ones at mean IoU 0.89; now 56 (0.905) and 56 (0.92)."""
    ious = []
    for path, truth in idrbt:
        scan = load_scan(path)
        image = clearing_image(scan, form)
        s = image.width / scan.width
        truth = tuple(round(v * s) for v in truth)
        try:
            ious.append(iou(locate_signature(image).box, truth))
        except SignatureNotFound:
            ious.append(0.0)
    hits = sum(v >= 0.5 for v in ious)
    assert hits >= 54, f"{form}: IoU >= 0.5 on {hits}/56"
    assert float(np.mean(ious)) >= 0.85


@pytest.mark.slow
def test_idrbt_crops_in_the_clearing_forms_embed_as_the_scans_do(idrbt):
    """What verification gets from the clearing images: each cleaned crop's embedding
    against that of the crop from the colour scan. Measured: mean cosine 0.94 at 100 dpi
    (0.84 enlarged without sharpening, 0.93 before the wider view's barcode was taken out of
    the crop), 0.92 in black and white (0.87 without softening its edges)."""
    from chequeverify.model import load_model

    model = load_model()
    scans = [load_scan(path) for path, _ in idrbt]
    reference = model.embed([extract_signature(scan)[1] for scan in scans])
    for form, floor in (("grey-100dpi", 0.93), ("bitonal", 0.9)):
        crops = model.embed([extract_signature(clearing_image(scan, form))[1] for scan in scans])
        cosines = np.sum(reference * crops, axis=1)
        assert float(cosines.mean()) >= floor, (form, float(cosines.mean()))


def test_idrbt_layout_and_orientation(idrbt):
    for path, _ in idrbt[::7]:
        located = locate_signature(load_scan(path))
        assert located.layout == "cts2010" and located.rotated == 0


def test_idrbt_cleaned_crops(idrbt):
    for path, truth in idrbt[::5]:
        located, crop = extract_signature(load_scan(path))
        assert crop.dtype == np.uint8
        assert np.mean(crop == 255) > 0.7  # white paper: pattern and type gone
        assert np.mean(crop < 128) > 0.02  # the strokes are there


def painted_out(path, box):
    """The cheque with its signature box covered by the paper beside it (its pattern continues)."""
    from PIL import Image

    x0, y0, x1, y1 = box
    img = np.asarray(load_scan(path).convert("RGB")).copy()
    w = x1 - x0
    src = x1 + 10 if x1 + 10 + w <= img.shape[1] else max(0, x0 - w - 10)
    img[y0:y1, x0:x1] = img[y0:y1, src : src + w]
    return Image.fromarray(img)


def test_idrbt_cheques_with_the_signature_painted_out_are_blank(idrbt):
    """Each real cheque with its signature painted out: nothing is found. A second look
    at a light pen's darkness, tried in an earlier release, took the ICICI cheques'
    pattern for a signature on 18 of these 56 and was withdrawn; this keeps any such
    look honest."""
    for path, box in idrbt:
        with pytest.raises(SignatureNotFound):
            locate_signature(painted_out(path, box))


@pytest.mark.parametrize(("form", "allowed"), [("bitonal", 0), ("grey-100dpi", 2)])
def test_idrbt_painted_out_in_the_forms_image_clearing_sends(idrbt, form, allowed):
    """The same in the clearing forms. At 100 dpi two painted-out cheques still give a
    "signature": on 083658 the paint, copied from beside the box, cuts "Please sign above"
    and pastes a shifted piece of it into the word, which no longer lines up with the rest
    of the line; on 309071 the blurred words of that line line up with none of their
    neighbours (joining words over a word fixed it, and took handwriting for type on
    synthetic cheques). The reader before enlarging coarse scans found 32 of 56."""
    found = []
    for path, box in idrbt:
        try:
            locate_signature(clearing_image(painted_out(path, box), form))
            found.append(path.name)
        except SignatureNotFound:
            pass
    assert len(found) <= allowed, found


def test_idrbt_turned_upside_down(idrbt):
    path, truth = idrbt[20]
    image = load_scan(path).rotate(180)
    w, h = image.size
    turned_truth = (w - truth[2], h - truth[3], w - truth[0], h - truth[1])
    located = locate_signature(image)
    assert located.rotated == 180 and iou(located.box, turned_truth) >= 0.5


@pytest.mark.parametrize("name", sorted(WIKIMEDIA_SIGNED))
def test_wikimedia_signed(shared_data, name):
    located = locate_signature(load_scan(shared_data / "cheques" / "wikimedia" / name))
    assert iou(located.box, WIKIMEDIA_SIGNED[name]) >= 0.5, located


@pytest.mark.parametrize("name", WIKIMEDIA_BLANK)
def test_wikimedia_blank(shared_data, name):
    with pytest.raises(SignatureNotFound):
        locate_signature(load_scan(shared_data / "cheques" / "wikimedia" / name))


@pytest.mark.slow
def test_signature_on_a_cheque_scores_as_the_signature_itself(shared_data):
    """The cheque reader must hand verification the signature, not a damaged copy.

    CEDAR validation writers (36-45; no threshold is chosen on test writers):
    three later genuine signatures each, drawn onto synthetic cheques, located
    and cleaned, are scored against the writer's first five images and
    compared with the score of the image itself. Measured with the shipped
    model (signet-lite-v3): mean drop 0.32, largest 1.4 (v2: 0.31, 2.2); with the cleaning
    before small cursive letters and upright letters were told from type by
    the wider view: 0.57 and 8.5, and one signature not found.
    """
    from PIL import Image

    from chequeverify.imaging import draw_cheque
    from chequeverify.model import load_model

    model = load_model()
    drops = []
    for w in range(36, 46):
        genuine = sorted((shared_data / "cedar" / f"{w:03d}" / "genuine").iterdir())
        refs = model.embed([Image.open(f) for f in genuine[:5]])
        for j, path in enumerate(genuine[6:9]):
            image = Image.open(path)
            cheque, _ = draw_cheque(image, holder="Account Holder", bank="Demo Bank", seed=w * 100 + j)
            _, crop = extract_signature(cheque)  # every one is found
            as_image, on_cheque = model.embed([image, crop])
            drops.append(float(model.score(as_image, refs) - model.score(on_cheque, refs)))
    assert len(drops) == 30
    assert np.mean(drops) <= 0.4 and max(drops) <= 3.0, np.round(sorted(drops), 2)
