"""Speed of the cheque reader on this CPU: load + locate + clean of a 200-dpi cheque.

What verification pays per cheque before the engine runs: read the file
(JPEG decode, orientation), find the signature (borders, skew, layout,
zone analysis) and cut and clean it (:func:`chequeverify.imaging.extract_signature`).

The cheques are the 56 IDRBT scans of the shared data (200 dpi JPEG) when
they are there, synthetic 200-dpi cheques of every layout otherwise. Each
cheque is timed alone, file bytes in memory to leave the disk out, after
one warm-up pass. ``--as grey-100dpi`` or ``--as bitonal`` times the same
cheques encoded as image clearing sends them (``imaging.clearing_image``:
100 dpi grey JPEG, black-and-white Group 4 TIFF).

Prints, as its last line: ``cheques_per_s=<float> single_ms=<float>``
(throughput over the whole set, one after the other, and the median time
of one cheque end to end).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from chequeverify import config
from chequeverify.imaging import (
    CLEARING_FORMS,
    clearing_image,
    draw_cheque,
    extract_signature,
    load_scan,
    save_clearing_image,
    synthetic_layouts,
    synthetic_signature,
)


def encoded(blob: bytes, form: str) -> bytes:
    """A cheque file in the clearing ``form``: grey JPEG, or a Group 4 TIFF when bitonal."""
    if form == "scan":
        return blob
    buf = io.BytesIO()
    save_clearing_image(clearing_image(load_scan(blob), form), buf, form)
    return buf.getvalue()


def cheque_files(limit: int, form: str = "scan") -> tuple[list[bytes], str]:
    """The encoded cheques to time, and where they came from."""
    folder = config.shared_data_dir() / "cheques" / "idrbt"
    files = sorted(folder.glob("*.jpg"))[:limit]
    what = "200 dpi JPEG" if form == "scan" else form
    if files:
        return [encoded(f.read_bytes(), form) for f in files], f"{len(files)} IDRBT scans ({what})"
    out = []
    layouts = synthetic_layouts()
    for i in range(min(limit, 24)):
        cheque, _ = draw_cheque(synthetic_signature(i), layouts[i % len(layouts)], seed=i, dpi=200)
        buf = io.BytesIO()
        cheque.save(buf, "JPEG", quality=90)
        out.append(encoded(buf.getvalue(), form))
    return out, f"{len(out)} synthetic cheques ({what})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=56, help="cheques to time (default: all 56)")
    parser.add_argument("--repeat", type=int, default=2, help="timed passes over the set")
    parser.add_argument("--as", dest="form", choices=CLEARING_FORMS, default="scan",
                        help="time the cheques in the form image clearing sends them")
    args = parser.parse_args()

    data, source = cheque_files(args.limit, args.form)
    print(f"cheques: {source}")
    for blob in data:  # warm-up: imports, caches, first allocations
        extract_signature(load_scan(blob))
    single = []
    loads = []
    start = time.perf_counter()
    for _ in range(args.repeat):
        for blob in data:
            t0 = time.perf_counter()
            image = load_scan(blob)
            t1 = time.perf_counter()
            extract_signature(image)
            t2 = time.perf_counter()
            loads.append(t1 - t0)
            single.append(t2 - t0)
    total = time.perf_counter() - start
    n = len(single)
    print(f"load   median {1000 * statistics.median(loads):.1f} ms")
    print(f"total  median {1000 * statistics.median(single):.1f} ms, p90 "
          f"{1000 * sorted(single)[int(0.9 * (n - 1))]:.1f} ms, max {1000 * max(single):.1f} ms")
    print(f"cheques_per_s={n / total:.2f} single_ms={1000 * statistics.median(single):.1f}")


if __name__ == "__main__":
    main()
