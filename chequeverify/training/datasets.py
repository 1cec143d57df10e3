"""Signature datasets in the ``<set>/<writer>/{genuine,forged}/<image>`` layout.

Any folder in that layout can be trained on or evaluated — a bank retrains
on its own specimen signatures the same way. A data spec is
``PATH[:RANGES]``, e.g. ``../shared/data/cedar:1-45`` or
``data/bhsig-hindi:1-90,95``; writers are selected by the number in their
folder name.

Normalising a few thousand scans takes minutes on a small CPU, so the
normalised images are cached (``uint8``, ink = 255) keyed by the file list,
the file sizes and times, the input size and the normalisation version.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from chequeverify.errors import DatasetError, InvalidInput, SignatureNotFound
from chequeverify.imaging.normalise import NORMALISATION_VERSION, normalise_signature
from chequeverify.imaging.synthetic import cheque_sized

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}


@dataclass(frozen=True)
class Sample:
    """One signature image: its file, its writer (``set/writer``) and whether it is genuine."""

    path: Path
    writer: str
    genuine: bool


@dataclass(frozen=True)
class DataSpec:
    """A set folder and the writers taken from it (None = all)."""

    root: Path
    writers: frozenset[int] | None = None

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def label(self) -> str:
        """``set:writers`` without the machine's path (for model cards)."""
        return f"{self.name}:{format_ranges(self.writers)}" if self.writers else self.name

    def __str__(self) -> str:
        return f"{self.root}:{format_ranges(self.writers)}" if self.writers else str(self.root)


def parse_ranges(text: str) -> frozenset[int]:
    """``"1-45,50"`` → {1, …, 45, 50}; raises :class:`DatasetError` when malformed."""
    numbers: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise DatasetError(f"Malformed writer range {part!r}: use forms like 1-45 or 1-45,50.")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise DatasetError(f"Writer range {part!r} runs backwards.")
        numbers.update(range(lo, hi + 1))
    return frozenset(numbers)


def format_ranges(numbers: frozenset[int] | set[int] | None) -> str:
    """{1, 2, 3, 7} → ``"1-3,7"`` (inverse of :func:`parse_ranges`)."""
    if not numbers:
        return ""
    ordered = sorted(numbers)
    parts, start, prev = [], ordered[0], ordered[0]
    for n in ordered[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}-{prev}" if prev != start else str(start))
        if n is not None:
            start = prev = n
    return ",".join(parts)


def parse_spec(text: str, writers: str | None = None) -> DataSpec:
    """``PATH[:RANGES]`` (or a path and a separate ``writers`` range) → :class:`DataSpec`."""
    path, ranges = text, writers
    m = re.fullmatch(r"(.+?):([\d,\-\s]+)", text)
    if m and not Path(text).exists():
        path, ranges = m.group(1), m.group(2)
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"Data folder not found: {root}")
    return DataSpec(root, parse_ranges(ranges) if ranges else None)


def writer_number(folder_name: str) -> int | None:
    m = re.search(r"(\d+)", folder_name)
    return int(m.group(1)) if m else None


def list_samples(spec: DataSpec) -> list[Sample]:
    """Every image of the selected writers, sorted by writer then file name.

    Raises :class:`DatasetError` when no writer folder holds a ``genuine``
    folder (the layout is wrong) or when the range selects nobody.
    """
    samples: list[Sample] = []
    found_layout = False
    for writer_dir in sorted(p for p in spec.root.iterdir() if p.is_dir()):
        number = writer_number(writer_dir.name)
        if not (writer_dir / "genuine").is_dir():
            continue
        found_layout = True
        if spec.writers is not None and number not in spec.writers:
            continue
        key = f"{spec.name}/{writer_dir.name}"
        for kind, genuine in (("genuine", True), ("forged", False)):
            folder = writer_dir / kind
            if folder.is_dir():
                for f in sorted(folder.iterdir()):
                    if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file():
                        samples.append(Sample(f, key, genuine))
    if not found_layout:
        raise DatasetError(
            f"{spec.root} is not in the <set>/<writer>/genuine/<image> layout "
            "(no writer folder with a 'genuine' folder inside)."
        )
    if not samples:
        raise DatasetError(f"No images for writers {format_ranges(spec.writers)} in {spec.root}.")
    return samples


#: ``cheque-size`` renderings: signature heights drawn from 9-14 mm at 200 dpi (pixels)
CHEQUE_SIZE_PX = (71, 111)


def cheque_size_height(path: Path | str) -> int:
    """The height (pixels) at which a file's signature is rendered cheque-size: fixed per file."""
    lo, hi = CHEQUE_SIZE_PX
    return lo + zlib.crc32(str(Path(path).name).encode()) % (hi - lo)


def _normalise_file(args: tuple[str, int, int, str]) -> np.ndarray | None:
    path, height, width, variant = args
    try:
        with Image.open(path) as img:
            source = img if variant == "scan" else cheque_sized(img, cheque_size_height(path))
            out = normalise_signature(source, height, width)
    except (SignatureNotFound, InvalidInput):
        return None
    return np.round(out * 255).astype(np.uint8)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "chequeverify" / "normalised"


def load_images(
    samples: list[Sample],
    height: int,
    width: int,
    *,
    workers: int | None = None,
    use_cache: bool = True,
    variant: str = "scan",
) -> tuple[np.ndarray, np.ndarray]:
    """Normalise every sample → (``N×H×W uint8`` ink = 255, ``N`` bool kept).

    ``kept`` is False for images with no ink (logged and skipped by callers).
    ``variant``: ``scan`` (the file as it is) or ``cheque-size`` (its
    signature first scaled to the size it has on a 200-dpi cheque,
    :func:`~chequeverify.imaging.synthetic.cheque_sized`, at a height fixed
    per file).
    """
    if variant not in ("scan", "cheque-size"):
        raise DatasetError(f"Unknown image variant {variant!r}.")
    tag = "" if variant == "scan" else f":{variant}:{CHEQUE_SIZE_PX}"
    h = hashlib.sha256(f"v{NORMALISATION_VERSION}:{height}x{width}{tag}".encode())
    for s in samples:
        st = s.path.stat()
        h.update(f"{s.path}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    cache = cache_dir() / f"{h.hexdigest()[:24]}.npz"
    if use_cache and cache.exists():
        with np.load(cache) as z:
            return z["images"], z["kept"]
    jobs = [(str(s.path), height, width, variant) for s in samples]
    workers = workers or min(4, os.cpu_count() or 1)
    log.info("normalising %d images with %d processes", len(jobs), workers)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_normalise_file, jobs, chunksize=32))
    else:
        results = [_normalise_file(j) for j in jobs]
    images = np.zeros((len(samples), height, width), np.uint8)
    kept = np.zeros(len(samples), bool)
    for i, r in enumerate(results):
        if r is not None:
            images[i], kept[i] = r, True
    for s, k in zip(samples, kept):
        if not k and variant == "scan":
            log.warning("no ink found, skipped: %s", s.path)
    if use_cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        # a per-process name: two runs normalising the same set must not share a temporary file
        tmp = cache.with_name(f"{cache.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, images=images, kept=kept)
        os.replace(tmp, cache)
    return images, kept


@dataclass
class SignatureArrays:
    """Normalised images of several sets, ready for training or evaluation.

    ``images``: ``N×H×W uint8`` (ink = 255); ``writer``: ``N`` int index into
    ``writers`` (names ``set/writer``); ``genuine``: ``N`` bool; ``paths``.
    """

    images: np.ndarray
    writer: np.ndarray
    genuine: np.ndarray
    writers: list[str]
    paths: list[Path]

    @classmethod
    def from_specs(cls, specs: list[DataSpec], height: int, width: int, **kw) -> SignatureArrays:
        """Load the selected writers of each spec.

        Whole sets are normalised and cached once, then the writers are
        selected, so that train, validation and test splits share a cache.
        """
        chunks, samples = [], []
        for spec in specs:
            every = list_samples(DataSpec(spec.root))
            images, kept = load_images(every, height, width, **kw)
            chosen = np.array(
                [k and (spec.writers is None or writer_number(s.writer.split("/")[-1]) in spec.writers)
                 for s, k in zip(every, kept)],
                bool,
            )
            if not chosen.any():
                raise DatasetError(f"No images for writers {format_ranges(spec.writers)} in {spec.root}.")
            chunks.append(images[chosen])
            samples += [s for s, c in zip(every, chosen) if c]
        writers = sorted({s.writer for s in samples})
        index = {w: i for i, w in enumerate(writers)}
        return cls(
            images=np.concatenate(chunks),
            writer=np.array([index[s.writer] for s in samples], np.int64),
            genuine=np.array([s.genuine for s in samples], bool),
            writers=writers,
            paths=[s.path for s in samples],
        )
