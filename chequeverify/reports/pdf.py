"""A small PDF 1.4 writer: pages, Helvetica text, lines, rectangles, greyscale/RGB images.

Just enough for audit reports, with the standard library only (Qt is not
allowed outside the GUI and no PDF library is in the stack). Content
streams and images are Flate-compressed (``zlib``). Text uses the
standard Helvetica fonts with WinAnsi encoding; characters outside it are
replaced by ``?``. Widths are approximate (average Helvetica glyph width),
which is enough to fit cells and wrap lines.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

#: A4 landscape, points
PAGE_WIDTH, PAGE_HEIGHT = 842.0, 595.0
#: average advance of a Helvetica glyph, in ems (for fitting and wrapping)
AVERAGE_GLYPH = 0.52


@dataclass(frozen=True)
class RasterImage:
    """Raw pixels: ``mode`` ``L`` (1 byte/pixel) or ``RGB`` (3 bytes/pixel), rows top to bottom."""

    width: int
    height: int
    mode: str
    pixels: bytes = field(repr=False)

    def __post_init__(self) -> None:
        channels = {"L": 1, "RGB": 3}.get(self.mode)
        if channels is None:
            raise ValueError(f"unsupported image mode {self.mode!r} (use L or RGB)")
        if self.width <= 0 or self.height <= 0 or len(self.pixels) != self.width * self.height * channels:
            raise ValueError("image pixels do not match its size and mode")


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b" ").replace(b"\n", b" ")


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


class Page:
    """One page; drawing calls append to its content stream (origin bottom-left, points)."""

    def __init__(self, doc: PdfDocument, width: float, height: float) -> None:
        self.doc = doc
        self.width, self.height = width, height
        self.ops: list[bytes] = []
        self.images: set[str] = set()

    def text(self, x: float, y: float, text: str, *, size: float = 9, bold: bool = False,
             colour: tuple[float, float, float] | None = None) -> None:  # fmt: skip
        font = "F2" if bold else "F1"
        rgb = colour or (0, 0, 0)
        self.ops.append(
            b"BT %s rg /%s %s Tf %s %s Td (" % (" ".join(_num(c) for c in rgb).encode(), font.encode(),
                                               _num(size).encode(), _num(x).encode(), _num(y).encode())
            + _escape(text) + b") Tj ET"
        )  # fmt: skip

    def line(self, x0: float, y0: float, x1: float, y1: float, *, width: float = 0.5,
             colour: tuple[float, float, float] = (0, 0, 0)) -> None:  # fmt: skip
        self.ops.append(
            f"q {' '.join(_num(c) for c in colour)} RG {_num(width)} w {_num(x0)} {_num(y0)} m {_num(x1)} {_num(y1)} l S Q".encode()
        )

    def rect(self, x: float, y: float, w: float, h: float, *, fill: tuple[float, float, float] | None = None,
             stroke: tuple[float, float, float] | None = None, width: float = 0.5) -> None:  # fmt: skip
        ops = ["q"]
        if fill:
            ops.append(f"{' '.join(_num(c) for c in fill)} rg")
        if stroke:
            ops.append(f"{' '.join(_num(c) for c in stroke)} RG {_num(width)} w")
        ops.append(f"{_num(x)} {_num(y)} {_num(w)} {_num(h)} re {'B' if fill and stroke else 'f' if fill else 'S'} Q")
        self.ops.append(" ".join(ops).encode())

    def image(self, name: str, x: float, y: float, *, max_w: float, max_h: float,
              frame: tuple[float, float, float] | None = None) -> float:  # fmt: skip
        """Draw a registered image inside ``max_w × max_h`` at (x, y) bottom-left, keeping its aspect; returns the width used."""
        img = self.doc.image_sizes[name]
        scale = min(max_w / img[0], max_h / img[1])
        w, h = img[0] * scale, img[1] * scale
        self.images.add(name)
        self.ops.append(f"q {_num(w)} 0 0 {_num(h)} {_num(x)} {_num(y)} cm /{name} Do Q".encode())
        if frame:
            self.rect(x - 1, y - 1, w + 2, h + 2, stroke=frame, width=0.6)
        return w


class PdfDocument:
    """Pages and images, written out by :meth:`save`."""

    def __init__(self, page_width: float = PAGE_WIDTH, page_height: float = PAGE_HEIGHT) -> None:
        self.page_width, self.page_height = page_width, page_height
        self.pages: list[Page] = []
        self._images: dict[str, bytes] = {}
        self.image_sizes: dict[str, tuple[int, int]] = {}
        self._image_modes: dict[str, str] = {}
        self._dedupe: dict[int, str] = {}

    def new_page(self) -> Page:
        page = Page(self, self.page_width, self.page_height)
        self.pages.append(page)
        return page

    def add_image(self, image: RasterImage) -> str:
        """Register an image (deduplicated by content); returns its resource name."""
        key = hash((image.width, image.height, image.mode, image.pixels))
        if key in self._dedupe:
            return self._dedupe[key]
        name = f"Im{len(self._images) + 1}"
        self._images[name] = zlib.compress(image.pixels, 6)
        self.image_sizes[name] = (image.width, image.height)
        self._image_modes[name] = image.mode
        self._dedupe[key] = name
        return name

    @staticmethod
    def text_width(text: str, size: float) -> float:
        return len(text) * size * AVERAGE_GLYPH

    def fit(self, text: str, size: float, width: float) -> str:
        """``text`` cut (with an ellipsis) to fit ``width`` points."""
        max_chars = max(1, int(width / (size * AVERAGE_GLYPH)))
        return text if len(text) <= max_chars else text[: max(1, max_chars - 3)] + "..."

    def wrap(self, text: str, size: float, width: float) -> list[str]:
        """``text`` broken into lines of at most ``width`` points (at spaces; long words are cut)."""
        max_chars = max(8, int(width / (size * AVERAGE_GLYPH)))
        lines, current = [], ""
        for word in text.split():
            while len(word) > max_chars:
                if current:
                    lines.append(current)
                    current = ""
                lines.append(word[:max_chars])
                word = word[max_chars:]
            candidate = f"{current} {word}" if current else word
            if len(candidate) > max_chars:
                lines.append(current)
                current = word
            else:
                current = candidate
        if current or not lines:
            lines.append(current)
        return lines

    def save(self, path: str | Path) -> None:
        """Write the document (objects, cross-reference table, trailer)."""
        objects: list[bytes] = []

        def add(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        catalog = add(b"")  # filled in below
        pages_obj = add(b"")
        font_regular = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        font_bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
        image_objs = {}
        for name, data in self._images.items():
            w, h = self.image_sizes[name]
            space = b"/DeviceGray" if self._image_modes[name] == "L" else b"/DeviceRGB"
            image_objs[name] = add(
                b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8"
                b" /Filter /FlateDecode /Length %d >>\nstream\n" % (w, h, space, len(data)) + data + b"\nendstream"
            )
        page_ids = []
        for page in self.pages or [self.new_page()]:
            content = zlib.compress(b"\n".join(page.ops), 6)
            content_id = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream")
            xobjects = b" ".join(b"/%s %d 0 R" % (n.encode(), image_objs[n]) for n in sorted(page.images))
            resources = b"<< /Font << /F1 %d 0 R /F2 %d 0 R >> /XObject << %s >> >>" % (font_regular, font_bold, xobjects)
            page_ids.append(add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources %s /Contents %d 0 R >>"
                % (pages_obj, _num(page.width).encode(), _num(page.height).encode(), resources, content_id)
            ))  # fmt: skip
        objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
        kids = b" ".join(b"%d 0 R" % i for i in page_ids)
        objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        for off in offsets:
            out += b"%010d 00000 n \n" % off
        out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
        Path(path).write_bytes(bytes(out))
