"""A small PDF 1.4 writer: pages, Unicode text, lines, rectangles, greyscale/RGB images.

Just enough for audit reports, with the standard library only (Qt is not
allowed outside the GUI and no PDF library is in the stack). Content
streams, images and fonts are Flate-compressed (``zlib``).

Text is drawn with the TrueType fonts of ``assets/fonts`` (see its
README): for each character the first font that has it, embedded as a
subset (Type0 font, CIDFontType2, Identity-H encoding, a CIDToGIDMap and a
ToUnicode map), so that any name prints as written and can be searched and
copied from the PDF. There is no shaping (one code point, one glyph) and
bold is the regular font drawn with a thin outline. Widths come from the
fonts, for fitting cells and wrapping lines.

Without fonts (``PdfDocument(fonts=())``, or ``assets/fonts`` missing) it
falls back to the standard Helvetica fonts with WinAnsi encoding, where a
character outside Windows-1252 becomes ``?``.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chequeverify.reports.truetype import FontError, TrueTypeFont

_log = logging.getLogger(__name__)

#: A4 landscape, points
PAGE_WIDTH, PAGE_HEIGHT = 842.0, 595.0
#: average advance of a Helvetica glyph, in ems (fitting and wrapping without embedded fonts)
AVERAGE_GLYPH = 0.52
#: the embedded fonts, in the order a character is looked for (files in ``assets/fonts``)
DEFAULT_FONT_FILES = ("NotoSans-Regular.ttf", "NotoSansDevanagari-Regular.ttf", "NotoSansBengali-Regular.ttf")
#: outline width of fake bold, in ems
_BOLD_STROKE = 0.03

_default_fonts: tuple[TrueTypeFont, ...] | None = None


def default_fonts() -> tuple[TrueTypeFont, ...]:
    """The fonts of ``assets/fonts`` (read once); empty, with a warning, when none can be read."""
    global _default_fonts
    if _default_fonts is None:
        from chequeverify import config

        fonts = []
        for name in DEFAULT_FONT_FILES:
            try:
                fonts.append(TrueTypeFont.load(config.ASSETS_DIR / "fonts" / name))
            except (OSError, FontError) as exc:
                _log.warning("PDF font %s not usable (%s): its characters will print as '?'", name, exc)
        _default_fonts = tuple(fonts)
    return _default_fonts


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
    """``text`` as a WinAnsi literal string body (the Helvetica fallback)."""
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b" ").replace(b"\n", b" ")


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _printable(char: str) -> str:
    """Control characters print as a space; lone surrogates (undecodable file names) as U+FFFD."""
    code = ord(char)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return " "
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return char


class _EmbeddedFont:
    """One TrueType font as used by a document: the characters drawn with it, numbered as CIDs 1, 2, …"""

    def __init__(self, font: TrueTypeFont, resource: str) -> None:
        self.font = font
        self.resource = resource
        self.cids: dict[str, int] = {}
        self.gids: list[int] = [0]  # CID → glyph id; CID 0 is .notdef

    def cid(self, char: str, gid: int) -> int:
        cid = self.cids.get(char)
        if cid is None:
            cid = self.cids[char] = len(self.gids)
            self.gids.append(gid)
        return cid


class Page:
    """One page; drawing calls append to its content stream (origin bottom-left, points)."""

    def __init__(self, doc: PdfDocument, width: float, height: float) -> None:
        self.doc = doc
        self.width, self.height = width, height
        self.ops: list[bytes] = []
        self.images: set[str] = set()
        self.fonts: set[str] = set()

    def text(self, x: float, y: float, text: str, *, size: float = 9, bold: bool = False,
             colour: tuple[float, float, float] | None = None) -> None:  # fmt: skip
        rgb = " ".join(_num(c) for c in colour or (0, 0, 0)).encode()
        at = b"%s %s Td" % (_num(x).encode(), _num(y).encode())
        if not self.doc.embeds_fonts:
            font = b"F2" if bold else b"F1"
            self.fonts.add(font.decode())
            self.ops.append(b"BT %s rg /%s %s Tf %s (%s) Tj ET" % (rgb, font, _num(size).encode(), at, _escape(text)))
            return
        runs = []
        for font, codes in self.doc.encode(text):
            self.fonts.add(font.resource)
            runs.append(b"/%s %s Tf <%s> Tj" % (font.resource.encode(), _num(size).encode(), codes.hex().encode()))
        if not runs:
            return
        body = b"BT %s rg %s %s ET" % (rgb, at, b" ".join(runs))
        if bold:  # fill and stroke the outlines: a bold look without a second font
            body = b"q %s RG %s w 2 Tr %s 0 Tr Q" % (rgb, _num(size * _BOLD_STROKE).encode(), body)
        self.ops.append(body)

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
    """Pages, images and fonts, written out by :meth:`save`.

    ``fonts``: TrueType fonts to embed, in the order a character is looked
    for (default: :func:`default_fonts`); empty: the Helvetica fallback.
    """

    def __init__(self, page_width: float = PAGE_WIDTH, page_height: float = PAGE_HEIGHT,
                 fonts: Sequence[TrueTypeFont] | None = None) -> None:  # fmt: skip
        self.page_width, self.page_height = page_width, page_height
        self.pages: list[Page] = []
        self._images: dict[str, bytes] = {}
        self.image_sizes: dict[str, tuple[int, int]] = {}
        self._image_modes: dict[str, str] = {}
        self._dedupe: dict[int, str] = {}
        chain = default_fonts() if fonts is None else tuple(fonts)
        self._fonts = [_EmbeddedFont(font, f"F{i + 1}") for i, font in enumerate(chain)]
        # character → (font, glyph id, advance in thousandths of an em)
        self._glyphs: dict[str, tuple[_EmbeddedFont, int, float]] = {}

    @property
    def embeds_fonts(self) -> bool:
        """True when text is drawn with embedded TrueType fonts (False: the Helvetica fallback)."""
        return bool(self._fonts)

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

    # --- text -----------------------------------------------------------------

    def _glyph(self, char: str) -> tuple[_EmbeddedFont, int, float]:
        """The font, glyph id and advance for one (printable) character; the first font's .notdef if none has it."""
        found = self._glyphs.get(char)
        if found is None:
            for embedded in self._fonts:
                gid = embedded.font.glyph(char)
                if gid is not None:
                    break
            else:
                embedded, gid = self._fonts[0], 0
            found = self._glyphs[char] = (embedded, gid, embedded.font.advance(gid))
        return found

    def encode(self, text: str) -> list[tuple[_EmbeddedFont, bytes]]:
        """``text`` as runs of one font each: (font, 2-byte CIDs big-endian). Registers the characters for embedding."""
        runs: list[tuple[_EmbeddedFont, bytearray]] = []
        for char in map(_printable, text):
            embedded, gid, _ = self._glyph(char)
            cid = embedded.cid(char, gid)
            if not runs or runs[-1][0] is not embedded:
                runs.append((embedded, bytearray()))
            runs[-1][1].extend(cid.to_bytes(2, "big"))
        return [(font, bytes(codes)) for font, codes in runs]

    def char_width(self, char: str, size: float) -> float:
        """Advance of one character at ``size`` points, in points."""
        if not self._fonts:
            return size * AVERAGE_GLYPH
        return self._glyph(_printable(char))[2] * size / 1000

    def text_width(self, text: str, size: float) -> float:
        """Width of ``text`` drawn at ``size`` points, in points."""
        return sum(self.char_width(c, size) for c in text)

    def fit(self, text: str, size: float, width: float) -> str:
        """``text`` cut (with an ellipsis) to fit ``width`` points."""
        if self.text_width(text, size) <= width:
            return text
        room = width - self.text_width("...", size)
        used, cut = 0.0, 0
        for char in text:
            used += self.char_width(char, size)
            if used > room:
                break
            cut += 1
        return text[: max(1, cut)] + "..."

    def wrap(self, text: str, size: float, width: float) -> list[str]:
        """``text`` broken into lines of at most ``width`` points (at spaces; long words are cut)."""
        space = self.char_width(" ", size)
        lines: list[str] = []
        current, current_w = "", 0.0
        for word in text.split():
            word_w = self.text_width(word, size)
            while word_w > width and len(word) > 1:
                if current:
                    lines.append(current)
                    current, current_w = "", 0.0
                piece, piece_w = self._cut(word, size, width)
                lines.append(piece)
                word, word_w = word[len(piece) :], word_w - piece_w
            if current and current_w + space + word_w > width:
                lines.append(current)
                current, current_w = "", 0.0
            current, current_w = (f"{current} {word}", current_w + space + word_w) if current else (word, word_w)
        if current or not lines:
            lines.append(current)
        return lines

    def _cut(self, word: str, size: float, width: float) -> tuple[str, float]:
        """The longest start of ``word`` (at least one character) that fits ``width``, and its width."""
        used, n = 0.0, 0
        for char in word:
            w = self.char_width(char, size)
            if n and used + w > width:
                break
            used, n = used + w, n + 1
        return word[:n], used

    # --- output -------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the document (objects, cross-reference table, trailer)."""
        objects: list[bytes] = []

        def add(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        def stream(data: bytes, extra: bytes = b"") -> int:
            packed = zlib.compress(data, 6)
            head = b"<< /Length %d /Filter /FlateDecode%s >>\nstream\n" % (len(packed), extra)
            return add(head + packed + b"\nendstream")

        catalog = add(b"")  # filled in below
        pages_obj = add(b"")
        font_objs: dict[str, int] = {}
        if self._fonts:
            for embedded in self._fonts:
                if len(embedded.gids) > 1:
                    font_objs[embedded.resource] = _embed_font(embedded, add, stream)
        else:
            for resource, base in (("F1", b"Helvetica"), ("F2", b"Helvetica-Bold")):
                font_objs[resource] = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
                                          % base)  # fmt: skip
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
            content_id = stream(b"\n".join(page.ops))
            fonts = b" ".join(b"/%s %d 0 R" % (n.encode(), font_objs[n]) for n in sorted(page.fonts))
            xobjects = b" ".join(b"/%s %d 0 R" % (n.encode(), image_objs[n]) for n in sorted(page.images))
            resources = b"<< /Font << %s >> /XObject << %s >> >>" % (fonts, xobjects)
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


def _embed_font(embedded: _EmbeddedFont, add, stream) -> int:
    """Write one font's objects (subset program, descriptor, maps, CIDFont, Type0); returns the Type0 font's number."""
    font = embedded.font
    program = font.subset(set(embedded.gids))
    # a subset is named TAG+Name, TAG six capital letters that differ between subsets (PDF 32000-1, 9.6.4)
    digest = hashlib.sha256(b"".join(g.to_bytes(2, "big") for g in embedded.gids)).digest()
    base = ("".join(chr(65 + b % 26) for b in digest[:6]) + "+" + font.name).encode()
    file_id = stream(program, b" /Length1 %d" % len(program))
    bbox = " ".join(str(font.scaled(v)) for v in font.bbox).encode()
    descriptor = add(
        b"<< /Type /FontDescriptor /FontName /%s /Flags 4 /FontBBox [%s] /ItalicAngle %s /Ascent %d /Descent %d"
        b" /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>"
        % (base, bbox, _num(font.italic_angle).encode(), font.scaled(font.ascent), font.scaled(font.descent),
           font.scaled(font.cap_height), file_id)
    )  # fmt: skip
    cid_to_gid = stream(b"".join(g.to_bytes(2, "big") for g in embedded.gids))
    widths = b" ".join(b"%d" % round(font.advance(g)) for g in embedded.gids)
    cid_font = add(
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
        b" /FontDescriptor %d 0 R /DW %d /W [0 [%s]] /CIDToGIDMap %d 0 R >>"
        % (base, descriptor, round(font.advance(0)), widths, cid_to_gid)
    )  # fmt: skip
    to_unicode = stream(_to_unicode_cmap(embedded.cids))
    return add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R]"
        b" /ToUnicode %d 0 R >>" % (base, cid_font, to_unicode)
    )


def _to_unicode_cmap(cids: dict[str, int]) -> bytes:
    """A ToUnicode CMap: each CID → its character (UTF-16BE), so that text can be searched and copied."""
    entries = [b"<%04X> <%s>" % (cid, char.encode("utf-16-be").hex().upper().encode()) for char, cid in cids.items()]
    blocks = []
    for i in range(0, len(entries), 100):  # at most 100 entries per block
        chunk = entries[i : i + 100]
        blocks.append(b"%d beginbfchar\n%s\nendbfchar" % (len(chunk), b"\n".join(chunk)))
    return (
        b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        b"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + b"\n".join(blocks)
        + b"\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
