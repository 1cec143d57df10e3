"""Reading scans safely: what bank scanners and image exchanges produce.

Formats: JPEG, PNG, BMP and TIFF (multi-page front/back, CCITT G4
bilevel as in image cash letters, 16-bit, palette, CMYK). The EXIF (or
TIFF) orientation is applied, so every coordinate the product reports is in
the image *as loaded*, the way a viewer shows it.

Nothing here trusts the file: its size is checked before anything is read,
its pixel count before anything is decoded (decompression bombs), and any
decoder failure becomes :class:`~chequeverify.errors.UnreadableScan` with a
message a clerk can act on.

Returned images are mode ``"L"`` (grey sources: bilevel, 8/16-bit grey,
float) or ``"RGB"`` (colour sources: RGB, palette, CMYK, YCbCr), with any
transparency composited on white paper.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from chequeverify import config
from chequeverify.errors import InvalidInput, UnreadableScan

log = logging.getLogger(__name__)

#: what a scanner or an image exchange produces; anything else is refused
#: before a decoder runs (Pillow would otherwise try dozens of formats).
SUPPORTED_FORMATS = ("JPEG", "PNG", "BMP", "TIFF")
#: the file names those formats go by (a folder of scans is listed by them)
SUPPORTED_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
_SUPPORTED_WORDS = "JPEG, PNG, BMP or TIFF"

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO]

#: Pillow modes whose pixels are grey levels (returned as "L")
_GREY_MODES = {"1", "L", "LA", "La", "I", "F", "I;16", "I;16B", "I;16L", "I;16N"}

#: first bytes of files a clerk may pick by mistake, for a clearer message
_KNOWN_OTHER = (
    (b"%PDF", "a PDF document; export the scan as a JPEG, PNG or TIFF image"),
    (b"PK\x03\x04", "a ZIP archive or an office document, not an image"),
    (b"GIF8", "a GIF image; cheque scans must be JPEG, PNG, BMP or TIFF"),
    (b"RIFF", "a WebP or other RIFF file; cheque scans must be JPEG, PNG, BMP or TIFF"),
)


@dataclass(frozen=True)
class ScanInfo:
    """What the file says about itself, read without decoding the pixels.

    ``size``: ``(width, height)`` of page ``page`` *as stored* (before the
    orientation is applied); ``dpi``: ``(x, y)`` or ``None`` when the file
    does not say; ``orientation``: the EXIF/TIFF orientation tag (1 = none).
    """

    format: str
    mode: str
    size: tuple[int, int]
    pages: int
    dpi: tuple[float, float] | None
    orientation: int


def _name(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return "the image"


def _read_bytes(source: Source) -> bytes:
    """The file's content, refusing empty and oversized files before reading them."""
    name = _name(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise UnreadableScan(f"{name}: the file does not exist.") from None
        except OSError as exc:
            raise UnreadableScan(f"{name}: the file cannot be opened ({exc.strerror or exc}).") from None
        if path.is_dir():
            raise UnreadableScan(f"{name}: this is a folder, not an image file.")
        if size > config.MAX_FILE_BYTES:
            raise UnreadableScan(
                f"{name}: the file is too large ({size / 2**20:.0f} MB; at most "
                f"{config.MAX_FILE_BYTES / 2**20:.0f} MB).",
                hint="Scan the cheque again at 200-300 dpi.",
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableScan(f"{name}: the file cannot be read ({exc.strerror or exc}).") from None
    elif hasattr(source, "read"):
        data = source.read(config.MAX_FILE_BYTES + 1)
    else:
        raise InvalidInput(f"Expected a file path or the bytes of an image, got {type(source).__name__}.")
    if len(data) == 0:
        raise UnreadableScan(f"{name}: the file is empty (0 bytes).", hint="Scan the cheque again.")
    if len(data) > config.MAX_FILE_BYTES:
        raise UnreadableScan(
            f"{name}: the file is too large (more than {config.MAX_FILE_BYTES / 2**20:.0f} MB)."
        )
    return data


def _open(data: bytes, name: str) -> Image.Image:
    """Open (header only) and check format and size; nothing is decoded yet."""
    with warnings.catch_warnings():
        # We check the pixel count ourselves, against our own limit.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
        except Image.DecompressionBombError:
            raise _too_large(name) from None
        except UnidentifiedImageError:
            raise UnreadableScan(f"{name}: {_what_is_it(data)}.") from None
        except Exception as exc:  # a broken header can raise anything inside a plugin
            raise UnreadableScan(f"{name}: the image header is damaged ({_short(exc)}).") from None
    _check_size(image, name)
    return image


def _what_is_it(data: bytes) -> str:
    for magic, words in _KNOWN_OTHER:
        if data.startswith(magic):
            return f"this is {words}"
    head = data[:512]
    if head and all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        return f"this is a text file, not an image (a {_SUPPORTED_WORDS} scan is needed)"
    return f"this is not a {_SUPPORTED_WORDS} image, or the file is damaged"


def _too_large(name: str, size: tuple[int, int] | None = None) -> UnreadableScan:
    dims = f" ({size[0]}×{size[1]} pixels)" if size else ""
    return UnreadableScan(
        f"{name}: the image is too large{dims}; at most "
        f"{config.MAX_IMAGE_PIXELS / 1e6:.0f} million pixels are accepted.",
        hint="Scan the cheque again at 200-300 dpi.",
    )


def _check_size(image: Image.Image, name: str) -> None:
    w, h = image.size
    if w * h > config.MAX_IMAGE_PIXELS:
        raise _too_large(name, (w, h))
    if min(w, h) < config.MIN_IMAGE_SIDE:
        raise UnreadableScan(
            f"{name}: the image is too small ({w}×{h} pixels) to hold a readable signature."
        )


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def _page_count(image: Image.Image) -> int:
    return int(getattr(image, "n_frames", 1) or 1)


def _seek(image: Image.Image, page: int, name: str) -> None:
    pages = _page_count(image)
    if not isinstance(page, int) or page < 0:
        raise InvalidInput(f"Page numbers start at 0; got {page!r}.")
    if page >= pages:
        # pages count from 0 here as in `--page N`: "no page 3" names the number asked for
        numbered = "only page 0" if pages == 1 else "pages 0 and 1" if pages == 2 else f"pages 0 to {pages - 1}"
        raise InvalidInput(f"{name} has {pages} page{'s' if pages != 1 else ''} ({numbered}); there is no page {page}.")
    if page:
        try:
            image.seek(page)
        except Exception as exc:
            raise UnreadableScan(f"{name}: page {page + 1} cannot be read ({_short(exc)}).") from None
    _check_size(image, name)


def _decode(image: Image.Image, name: str) -> Image.Image:
    """Decode the current page, apply its orientation, return mode "L" or "RGB"."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
            oriented = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError:
        raise _too_large(name) from None
    except MemoryError:
        raise _too_large(name, image.size) from None
    except Exception as exc:  # any decoder failure on a malformed file is the file's fault
        text = str(exc).lower()
        if "truncated" in text or "broken data stream" in text or "premature end" in text:
            raise UnreadableScan(
                f"{name}: the file is incomplete (truncated); it was probably not fully copied or saved.",
                hint="Copy or scan the cheque again.",
            ) from None
        raise UnreadableScan(f"{name}: the image data is damaged ({_short(exc)}).") from None
    try:
        return _to_l_or_rgb(oriented)
    except Exception as exc:
        raise UnreadableScan(f"{name}: the image's colour format cannot be read ({_short(exc)}).") from None


def _to_l_or_rgb(image: Image.Image) -> Image.Image:
    """Any decoded Pillow image → mode "L" (grey sources) or "RGB" (colour ones)."""
    mode = image.mode
    if mode == "L" or mode == "RGB":
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return Image.fromarray(_wide_to_uint8(np.asarray(image)))
    if mode == "1":
        return image.convert("L")
    has_alpha = mode in ("RGBA", "LA", "La", "RGBa", "PA") or (mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(paper, rgba)
        return flat.convert("L" if mode in ("LA", "La") else "RGB")
    return image.convert("RGB")  # palette, CMYK, YCbCr, LAB, HSV


def _wide_to_uint8(a: np.ndarray) -> np.ndarray:
    """``H×W`` 16-bit, 32-bit int or float grey → ``H×W uint8`` (full scale kept)."""
    if np.issubdtype(a.dtype, np.floating):
        a = np.nan_to_num(a.astype(np.float64), nan=1.0)
        top = 1.0 if a.max(initial=0) <= 1.0 else 255.0 if a.max(initial=0) <= 255.0 else float(a.max())
        return np.clip(a * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    a = a.astype(np.int64)
    top = float(a.max(initial=0))
    # 16-bit scanners use the whole 0..65535 range; an "I" image holding 8-bit
    # values (some TIFF writers) must not be darkened 257-fold.
    full = 255.0 if top <= 255 else 65535.0 if top <= 65535 else top
    return np.clip(a * (255.0 / full) + 0.5, 0, 255).astype(np.uint8)


def load_scan(source: Source, page: int = 0, name: str | None = None) -> Image.Image:
    """Read one page of a scan: ``PIL.Image`` mode "L" or "RGB", orientation applied.

    ``source``: a path, the file's bytes, or a binary file object. ``page``
    counts from 0 (front of a front/back TIFF). ``name``: the file's name
    for messages when ``source`` is bytes already read from it. Raises
    :class:`UnreadableScan` for anything that is not a readable
    JPEG/PNG/BMP/TIFF within the size limits, and :class:`InvalidInput`
    for a page the file does not have.
    """
    name = name or _name(source)
    image = _open(_read_bytes(source), name)
    _seek(image, page, name)
    return _decode(image, name)


def load_pages(source: Source) -> list[Image.Image]:
    """Every page of a scan (front, back, ...), at most :data:`config.MAX_PAGES`.

    Each page as :func:`load_scan` returns it. A file with more pages keeps
    the first ``MAX_PAGES`` (a warning is logged): cheque image files hold two.
    """
    name = _name(source)
    image = _open(_read_bytes(source), name)
    pages = _page_count(image)
    if pages > config.MAX_PAGES:
        log.warning("%s has %d pages; reading the first %d", name, pages, config.MAX_PAGES)
    out = []
    for page in range(min(pages, config.MAX_PAGES)):
        _seek(image, page, name)
        out.append(_decode(image, name))
    return out


def scan_info(source: Source, page: int = 0) -> ScanInfo:
    """Format, stored size, mode, page count, resolution and orientation, without decoding."""
    name = _name(source)
    image = _open(_read_bytes(source), name)
    _seek(image, page, name)
    dpi = image.info.get("dpi")
    if dpi is not None:
        try:
            dpi = (float(dpi[0]), float(dpi[1]))
        except (TypeError, ValueError, IndexError):
            dpi = None
        if dpi is not None and (not all(np.isfinite(dpi)) or min(dpi) <= 1):
            dpi = None  # many writers store 1 or 0 for "unknown"
    try:
        orientation = int(image.getexif().get(0x0112, 1) or 1)
    except Exception:
        orientation = 1
    return ScanInfo(
        format=image.format or "?",
        mode=image.mode,
        size=image.size,
        pages=_page_count(image),
        dpi=dpi,
        orientation=orientation,
    )
