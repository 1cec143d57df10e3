"""Conversions between what users hand in, what imaging returns and what storage keeps.

Signature images are ``H×W uint8``, dark ink on white. Storage keeps them
as grey PNG bytes; embeddings as ``float32`` bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image

from chequeverify import config
from chequeverify.errors import UnreadableScan

#: what a use case accepts as an image: a path, the file's bytes, a Pillow image or an array
ImageSource = Union[str, Path, bytes, Image.Image, np.ndarray]


def printable(text: str | Path) -> str:
    """``text`` with any byte that was not UTF-8 in the file system's name shown as ``\\xNN``.

    A name from another system (Latin-1 ``chèque.png`` on a USB stick)
    reaches Python with lone surrogates, which can be neither stored,
    hashed into the audit log nor printed.
    """
    return os.fsencode(str(text)).decode("utf-8", "backslashreplace")


def source_name(source: ImageSource) -> str | None:
    """A file name to show and store for ``source`` (None for in-memory images)."""
    if isinstance(source, (str, Path)):
        return printable(Path(source).name)
    return None


def read_source_bytes(source: str | Path | bytes) -> bytes:
    """The file's bytes (for its SHA-256); raises :class:`UnreadableScan` for a missing, unreadable or huge file."""
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise UnreadableScan(f"Cannot read {printable(path)}: {exc.strerror or exc}.") from exc
        if not path.is_file():
            raise UnreadableScan(f"{printable(path)} is not a file.")
        if size > config.MAX_FILE_BYTES:
            raise UnreadableScan(
                f"{printable(path.name)} is {size / 1e6:.0f} MB; the largest scan accepted is {config.MAX_FILE_BYTES / 1e6:.0f} MB."
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableScan(f"Cannot read {printable(path)}: {exc.strerror or exc}.") from exc
    if len(data) > config.MAX_FILE_BYTES:
        raise UnreadableScan(f"The scan is {len(data) / 1e6:.0f} MB; the largest accepted is {config.MAX_FILE_BYTES / 1e6:.0f} MB.")
    if not data:
        raise UnreadableScan("The file is empty.")
    return data


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file, read in 1 MB blocks (a workspace copy may be gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def image_fingerprint(image: Image.Image | np.ndarray) -> str:
    """SHA-256 of an in-memory image's pixels, mode and size (stands in for a file hash)."""
    if isinstance(image, np.ndarray):
        arr = np.ascontiguousarray(image)
        head = f"{arr.dtype}{arr.shape}".encode()
        return hashlib.sha256(head + arr.tobytes()).hexdigest()
    head = f"{image.mode}{image.size}".encode()
    return hashlib.sha256(head + image.tobytes()).hexdigest()


def as_pil(image: Image.Image | np.ndarray) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and float(arr.max()) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4)):
        return Image.fromarray(arr)
    raise UnreadableScan(f"Expected an H×W or H×W×3 image array, got shape {arr.shape}.")


def grey_png(grey: np.ndarray) -> bytes:
    """``H×W uint8`` → PNG bytes (lossless, compressed)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(grey, dtype=np.uint8), mode="L").save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def png_grey(data: bytes) -> np.ndarray:
    """PNG bytes from :func:`grey_png` → ``H×W uint8``."""
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("L"), dtype=np.uint8).copy()


def embedding_bytes(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def bytes_embedding(data: bytes, dim: int) -> np.ndarray:
    v = np.frombuffer(data, dtype="<f4")
    if v.size != dim:
        raise ValueError(f"stored embedding has {v.size} values, expected {dim}")
    return v.astype(np.float32, copy=False)


def crop_to_ink(grey: np.ndarray, box: tuple[int, int, int, int], margin: int = 8) -> np.ndarray:
    """Crop ``H×W uint8`` to the ink ``box`` with a white margin (keeps stored specimens small)."""
    x0, y0, x1, y1 = box
    h, w = grey.shape
    return np.ascontiguousarray(grey[max(0, y0 - margin) : min(h, y1 + margin), max(0, x0 - margin) : min(w, x1 + margin)])
