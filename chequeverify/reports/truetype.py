"""Reading TrueType fonts just enough to embed them in a PDF (standard library only).

:class:`TrueTypeFont` reads a ``glyf``-outline font (``.ttf``): its Unicode
``cmap``, advance widths and the metrics a PDF font descriptor needs, and
writes a *subset*: the same font with every glyph it does not need emptied,
glyph ids unchanged (so a PDF ``CIDToGIDMap`` can point into it), and only
the tables a PDF viewer reads for a ``CIDFontType2`` font. No shaping: one
code point is one glyph.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

#: tables a PDF viewer needs from an embedded TrueType font (PDF 32000-1, 9.9), plus OS/2 and post
_KEPT_TABLES = ("OS/2", "cvt ", "fpgm", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "post", "prep")

# composite glyph flags (OpenType 'glyf')
_ARG_WORDS, _HAS_SCALE, _MORE_COMPONENTS, _XY_SCALE, _TWO_BY_TWO = 0x0001, 0x0008, 0x0020, 0x0040, 0x0080


class FontError(ValueError):
    """The file is not a TrueType font this reader can use (CFF outlines, no Unicode cmap, truncated)."""


@dataclass(frozen=True)
class TrueTypeFont:
    """A TrueType font: name, Unicode → glyph map, advances (font units) and metrics.

    ``advances[gid]``: advance width in font units (``units_per_em`` to the
    em); ``bbox``, ``ascent``, ``descent``, ``cap_height`` in font units.
    """

    name: str
    data: bytes = field(repr=False)
    tables: dict[str, tuple[int, int]] = field(repr=False)
    units_per_em: int
    cmap: dict[int, int] = field(repr=False)
    advances: tuple[int, ...] = field(repr=False)
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    italic_angle: float

    @classmethod
    def load(cls, path: str | Path) -> TrueTypeFont:
        """Read ``path``; raises :class:`FontError` (not a usable TrueType font) or :class:`OSError`."""
        data = Path(path).read_bytes()
        try:
            return cls._parse(data, Path(path).stem)
        except (struct.error, IndexError, KeyError) as exc:
            raise FontError(f"{path}: not a readable TrueType font ({exc.__class__.__name__}: {exc})") from None

    @classmethod
    def _parse(cls, data: bytes, fallback_name: str) -> TrueTypeFont:
        if data[:4] not in (b"\x00\x01\x00\x00", b"true"):
            raise FontError("not a TrueType (glyf) font: OpenType CFF and collections are not supported")
        (num_tables,) = struct.unpack_from(">H", data, 4)
        tables = {}
        for i in range(num_tables):
            tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            if offset + length > len(data):
                raise FontError(f"table {tag!r} runs past the end of the file")
            tables[tag.decode("latin-1")] = (offset, length)
        for tag in ("cmap", "glyf", "head", "hhea", "hmtx", "loca", "maxp"):
            if tag not in tables:
                raise FontError(f"the font has no {tag!r} table")

        def table(tag: str) -> bytes:
            offset, length = tables[tag]
            return data[offset : offset + length]

        head, hhea, maxp = table("head"), table("hhea"), table("maxp")
        units_per_em = struct.unpack_from(">H", head, 18)[0]
        bbox = struct.unpack_from(">hhhh", head, 36)
        (num_glyphs,) = struct.unpack_from(">H", maxp, 4)
        ascent, descent = struct.unpack_from(">hh", hhea, 4)
        (num_metrics,) = struct.unpack_from(">H", hhea, 34)
        hmtx = table("hmtx")
        advances = [struct.unpack_from(">H", hmtx, 4 * i)[0] for i in range(num_metrics)]
        advances += [advances[-1]] * (num_glyphs - num_metrics)
        cap_height = ascent
        if "OS/2" in tables:
            os2 = table("OS/2")
            if struct.unpack_from(">H", os2, 0)[0] >= 2 and len(os2) >= 90:
                cap_height = struct.unpack_from(">h", os2, 88)[0]
        italic_angle = 0.0
        if "post" in tables:
            italic_angle = struct.unpack_from(">i", table("post"), 4)[0] / 65536
        cmap = {cp: gid for cp, gid in _read_cmap(table("cmap")).items() if 0 < gid < num_glyphs}
        if not cmap:
            raise FontError("the font has no Unicode cmap")
        return cls(name=_read_name(table("name")) if "name" in tables else fallback_name, data=data, tables=tables,
                   units_per_em=units_per_em, cmap=cmap, advances=tuple(advances), bbox=bbox, ascent=ascent,
                   descent=descent, cap_height=cap_height, italic_angle=italic_angle)  # fmt: skip

    def glyph(self, char: str) -> int | None:
        """The glyph id for one character, or None when the font does not have it."""
        return self.cmap.get(ord(char))

    def advance(self, gid: int) -> float:
        """Advance width of glyph ``gid`` in thousandths of an em (PDF text space units)."""
        return self.advances[gid] * 1000 / self.units_per_em

    def scaled(self, value: float) -> int:
        """A metric in font units, in thousandths of an em."""
        return round(value * 1000 / self.units_per_em)

    def _table(self, tag: str) -> bytes:
        offset, length = self.tables[tag]
        return self.data[offset : offset + length]

    def _glyph_offsets(self) -> list[int]:
        long_format = struct.unpack_from(">h", self._table("head"), 50)[0] == 1
        loca = self._table("loca")
        count = len(self.advances) + 1
        if long_format:
            return list(struct.unpack_from(f">{count}I", loca))
        return [2 * v for v in struct.unpack_from(f">{count}H", loca)]

    def subset(self, gids: set[int] | frozenset[int]) -> bytes:
        """The font with only glyphs ``gids`` (plus ``.notdef`` and the parts of composite glyphs) kept.

        Glyph ids do not change; the other glyphs are left empty. Tables
        other than those a PDF viewer needs (cmap, name, layout tables) are
        left out.
        """
        glyf, offsets = self._table("glyf"), self._glyph_offsets()
        keep, todo = set(), [0, *gids]
        while todo:
            gid = todo.pop()
            if gid in keep or not 0 <= gid < len(self.advances):
                continue
            keep.add(gid)
            todo.extend(_components(glyf[offsets[gid] : offsets[gid + 1]]))
        new_glyf, new_loca = bytearray(), []
        for gid in range(len(self.advances)):
            new_loca.append(len(new_glyf))
            if gid in keep:
                new_glyf += glyf[offsets[gid] : offsets[gid + 1]]
                new_glyf += b"\0" * (-len(new_glyf) % 4)
        new_loca.append(len(new_glyf))
        tables = {tag: self._table(tag) for tag in _KEPT_TABLES if tag in self.tables}
        head = bytearray(tables["head"])
        struct.pack_into(">I", head, 8, 0)  # checkSumAdjustment, set below
        struct.pack_into(">h", head, 50, 1)  # indexToLocFormat: long offsets
        tables["head"] = bytes(head)
        tables["glyf"] = bytes(new_glyf)
        tables["loca"] = struct.pack(f">{len(new_loca)}I", *new_loca)
        if "post" in tables:  # version 3: no glyph names
            tables["post"] = b"\x00\x03\x00\x00" + tables["post"][4:32]
        font = _assemble(tables)
        adjustment = (0xB1B0AFBA - _checksum(font)) & 0xFFFFFFFF
        (head_offset,) = struct.unpack_from(">I", font, 12 + 16 * sorted(tables).index("head") + 8)
        struct.pack_into(">I", font, head_offset + 8, adjustment)
        return bytes(font)


def _components(glyph: bytes) -> list[int]:
    """Glyph ids a composite glyph is built from (empty for a simple or empty glyph)."""
    if len(glyph) < 10 or struct.unpack_from(">h", glyph, 0)[0] >= 0:
        return []
    parts, pos = [], 10
    while True:
        flags, gid = struct.unpack_from(">HH", glyph, pos)
        parts.append(gid)
        pos += 4 + (4 if flags & _ARG_WORDS else 2)
        pos += 8 if flags & _TWO_BY_TWO else 4 if flags & _XY_SCALE else 2 if flags & _HAS_SCALE else 0
        if not flags & _MORE_COMPONENTS:
            return parts


def _read_cmap(cmap: bytes) -> dict[int, int]:
    """Unicode code point → glyph id, from the best Unicode subtable (format 12, else format 4)."""
    (count,) = struct.unpack_from(">H", cmap, 2)
    subtables = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", cmap, 4 + 8 * i)
        fmt = struct.unpack_from(">H", cmap, offset)[0]
        subtables[(platform, encoding, fmt)] = offset
    for key in ((3, 10, 12), (0, 4, 12), (0, 6, 12), (3, 1, 4), (0, 3, 4), (0, 2, 4), (0, 1, 4), (0, 0, 4)):
        if key in subtables:
            offset = subtables[key]
            return _cmap_format12(cmap, offset) if key[2] == 12 else _cmap_format4(cmap, offset)
    return {}


def _cmap_format4(cmap: bytes, offset: int) -> dict[int, int]:
    seg_count = struct.unpack_from(">H", cmap, offset + 6)[0] // 2
    ends_at = offset + 14
    starts_at = ends_at + 2 * seg_count + 2
    deltas_at = starts_at + 2 * seg_count
    ranges_at = deltas_at + 2 * seg_count
    result = {}
    for i in range(seg_count):
        (end,) = struct.unpack_from(">H", cmap, ends_at + 2 * i)
        (start,) = struct.unpack_from(">H", cmap, starts_at + 2 * i)
        delta = struct.unpack_from(">h", cmap, deltas_at + 2 * i)[0]
        range_offset = struct.unpack_from(">H", cmap, ranges_at + 2 * i)[0]
        for cp in range(start, min(end, 0xFFFE) + 1):
            if range_offset == 0:
                gid = (cp + delta) & 0xFFFF
            else:
                at = ranges_at + 2 * i + range_offset + 2 * (cp - start)
                gid = struct.unpack_from(">H", cmap, at)[0]
                gid = (gid + delta) & 0xFFFF if gid else 0
            if gid:
                result[cp] = gid
    return result


def _cmap_format12(cmap: bytes, offset: int) -> dict[int, int]:
    (groups,) = struct.unpack_from(">I", cmap, offset + 12)
    result = {}
    for i in range(groups):
        start, end, gid = struct.unpack_from(">III", cmap, offset + 16 + 12 * i)
        for cp in range(start, min(end, 0x10FFFF) + 1):
            result[cp] = gid + cp - start
    return result


def _read_name(name: bytes) -> str:
    """The PostScript name (name id 6), or the full name (4), as ASCII letters, digits and hyphens."""
    count, strings_at = struct.unpack_from(">HH", name, 2)
    found = {}
    for i in range(count):
        platform, _, _, name_id, length, offset = struct.unpack_from(">HHHHHH", name, 6 + 12 * i)
        if name_id in (4, 6):
            raw = name[strings_at + offset : strings_at + offset + length]
            text = raw.decode("utf-16-be", errors="ignore") if platform in (0, 3) else raw.decode("latin-1")
            found.setdefault(name_id, text)
    text = found.get(6) or found.get(4) or "Font"
    return "".join(c for c in text if c.isascii() and (c.isalnum() or c == "-")) or "Font"


def _checksum(data: bytes | bytearray) -> int:
    padded = bytes(data) + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


def _assemble(tables: dict[str, bytes]) -> bytearray:
    """An sfnt file holding ``tables`` (sorted by tag, each 4-byte aligned, with checksums)."""
    tags = sorted(tables)
    power = 1
    while power * 2 <= len(tags):
        power *= 2
    out = bytearray(struct.pack(">IHHHH", 0x00010000, len(tags), power * 16, power.bit_length() - 1,
                                len(tags) * 16 - power * 16))  # fmt: skip
    offset = 12 + 16 * len(tags)
    body = bytearray()
    for tag in tags:
        data = tables[tag]
        out += struct.pack(">4sIII", tag.encode("latin-1"), _checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    return out + body
