"""imaging layer (see DESIGN.md): reading scans, finding and cleaning the signature.

Pillow and numpy only. The public API the other layers call:

* :func:`load_scan`, :func:`load_pages`, :func:`scan_info` — read JPEG,
  PNG, BMP and TIFF safely (limits, EXIF orientation, multi-page, G4,
  16-bit, palette, CMYK); anything unreadable raises
  :class:`~chequeverify.errors.UnreadableScan`;
* :func:`locate_signature` → :class:`Located` — the signature box on a
  whole cheque, or :class:`~chequeverify.errors.SignatureNotFound`;
* :func:`clean_signature` — a crop → ``H×W uint8``, pen strokes dark on white;
* :func:`extract_signature` — locate (or take a clerk's box), crop and clean;
* :func:`draw_cheque`, :func:`synthetic_layouts`, :func:`synthetic_signature`
  — synthetic cheques with a known signature box; :func:`clearing_image` —
  a scan in the forms image clearing sends (grey, 100-dpi grey, bitonal),
  :func:`save_clearing_image` writes one as clearing systems store it;
* :func:`all_layouts`, :func:`get_layout`, :func:`add_layout_file` — the
  registry of cheque layouts (JSON files, extendable by a bank);
* the normalisation chain for the network (:func:`normalise_signature` ...).
"""

from chequeverify.imaging.clean import clean_signature
from chequeverify.imaging.extract import extract_signature
from chequeverify.imaging.layouts import Layout, add_layout_file, all_layouts, get_layout
from chequeverify.imaging.load import SUPPORTED_FORMATS, SUPPORTED_SUFFIXES, ScanInfo, load_pages, load_scan, scan_info
from chequeverify.imaging.locate import Located, locate_signature
from chequeverify.imaging.normalise import NORMALISATION_VERSION, normalise_batch, normalise_signature
from chequeverify.imaging.synthetic import (
    CLEARING_FORMS,
    CLEARING_SUFFIX,
    clearing_image,
    draw_cheque,
    save_clearing_image,
    synthetic_layouts,
    synthetic_signature,
)

__all__ = [
    "CLEARING_FORMS",
    "CLEARING_SUFFIX",
    "NORMALISATION_VERSION",
    "SUPPORTED_FORMATS",
    "SUPPORTED_SUFFIXES",
    "Layout",
    "Located",
    "ScanInfo",
    "add_layout_file",
    "all_layouts",
    "clean_signature",
    "clearing_image",
    "draw_cheque",
    "extract_signature",
    "get_layout",
    "load_pages",
    "load_scan",
    "locate_signature",
    "normalise_batch",
    "normalise_signature",
    "save_clearing_image",
    "scan_info",
    "synthetic_layouts",
    "synthetic_signature",
]
