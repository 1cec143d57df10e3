"""Helpers shared by the workspace/service tests (not a test module).

* :func:`read_pdf` — a strict little reader for the PDFs ``reports`` writes:
  checks the cross-reference table and stream lengths, inflates content
  streams, images and embedded fonts, and returns the text shown on each
  page (one line per text object), decoded through each font's ToUnicode map;
* :class:`FakeModel` — a deterministic stand-in with the model's API, for
  fast tests of the use cases' bookkeeping (the end-to-end tests use the
  real model on real signatures);
* signature and cheque image makers.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from chequeverify.model.scoring import ScoreFunction

# --- PDF ---------------------------------------------------------------------------


@dataclass
class PdfFont:
    """An embedded Type0 font: CID → text (ToUnicode), CID → glyph id (CIDToGIDMap), widths, the font program."""

    base_font: str
    to_unicode: dict[int, str]
    cid_to_gid: list[int]
    widths: list[int]
    program: bytes


@dataclass
class PdfContent:
    pages: list[str]
    images: list[tuple[int, int, str, bytes]] = field(default_factory=list)
    fonts: dict[str, PdfFont] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.pages)


def _unescape(s: bytes) -> str:
    out = re.sub(rb"\\([\\()])", rb"\1", s)
    return out.decode("cp1252")


def _ref(body: bytes, key: bytes) -> int:
    m = re.search(rb"/" + key + rb" (\d+) 0 R", body)
    assert m, f"/{key.decode()} missing"
    return int(m.group(1))


def _read_font(objects: dict[int, bytes], streams: dict[int, tuple[bytes, bytes]], number: int) -> PdfFont | None:
    """A Type0/CIDFontType2 font with its maps (None for a standard Type1 font)."""
    body = objects[number]
    if b"/Subtype /Type0" not in body:
        assert b"/Subtype /Type1" in body and b"/Encoding /WinAnsiEncoding" in body
        return None
    assert b"/Encoding /Identity-H" in body
    base = re.search(rb"/BaseFont /([A-Z]{6}\+[A-Za-z0-9-]+)", body).group(1).decode()
    cid_font = objects[int(re.search(rb"/DescendantFonts \[(\d+) 0 R\]", body).group(1))]
    assert b"/Subtype /CIDFontType2" in cid_font and b"/Ordering (Identity)" in cid_font
    cmap = streams[_ref(body, b"ToUnicode")][1].decode("ascii")
    to_unicode = {}
    for block in re.findall(r"\d+ beginbfchar\n(.*?)\nendbfchar", cmap, re.S):
        for cid, text in re.findall(r"<([0-9A-F]{4})> <([0-9A-F]+)>", block):
            to_unicode[int(cid, 16)] = bytes.fromhex(text).decode("utf-16-be")
    gid_map = streams[_ref(cid_font, b"CIDToGIDMap")][1]
    cid_to_gid = [int.from_bytes(gid_map[i : i + 2], "big") for i in range(0, len(gid_map), 2)]
    widths = [int(w) for w in re.search(rb"/W \[0 \[([\d ]*)\]\]", cid_font).group(1).split()]
    assert len(widths) == len(cid_to_gid) == len(to_unicode) + 1, "CIDs 1..N: one width, glyph and character each"
    descriptor = objects[_ref(cid_font, b"FontDescriptor")]
    assert f"/FontName /{base} ".encode() in descriptor
    dictionary, program = streams[_ref(descriptor, b"FontFile2")]
    assert int(re.search(rb"/Length1 (\d+)", dictionary).group(1)) == len(program)
    assert program[:4] == b"\x00\x01\x00\x00", "the font program is not a TrueType font"
    return PdfFont(base, to_unicode, cid_to_gid, widths, program)


_TEXT_TOKENS = re.compile(rb"/(F\d+) [\d.]+ Tf|\(((?:[^()\\]|\\.)*)\) Tj|<([0-9A-Fa-f]*)> Tj|\bBT\b|\bET\b")


def _page_text(ops: bytes, fonts: dict[str, PdfFont | None]) -> str:
    """The page's text, one line per BT … ET text object; hex strings decoded with the current font's ToUnicode."""
    lines, current, font = [], [], None
    for m in _TEXT_TOKENS.finditer(ops):
        token = m.group(0)
        if m.group(1):
            assert m.group(1).decode() in fonts, f"font {m.group(1)!r} not in the page's resources"
            font = fonts[m.group(1).decode()]
        elif token.endswith(b"Tj") and token.startswith(b"("):
            assert font is None, "a literal string with an embedded font"
            current.append(_unescape(m.group(2)))
        elif token.endswith(b"Tj"):
            assert font is not None and len(m.group(3)) % 4 == 0, "a hex string needs a Type0 font and 2-byte CIDs"
            codes = bytes.fromhex(m.group(3).decode())
            current.extend(font.to_unicode[int.from_bytes(codes[i : i + 2], "big")] for i in range(0, len(codes), 2))
        elif token == b"BT":
            current = []
        else:
            lines.append("".join(current))
    return "\n".join(lines)


def read_pdf(path: str | Path) -> PdfContent:
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF-1."), "not a PDF header"
    assert data.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))
    assert data[startxref:].startswith(b"xref")
    m = re.match(rb"xref\s+0 (\d+)\s+", data[startxref:])
    count = int(m.group(1))
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf]) ?\r?\n", data[startxref:])[:count]
    assert len(entries) == count
    objects: dict[int, bytes] = {}
    for number, (offset, _, kind) in enumerate(entries):
        if kind == b"f":
            continue
        off = int(offset)
        head = re.match(rb"(\d+) 0 obj\n", data[off:])
        assert head and int(head.group(1)) == number, f"xref offset of object {number} is wrong"
        end = data.index(b"\nendobj", off)
        objects[number] = data[off + head.end() : end]
    streams: dict[int, tuple[bytes, bytes]] = {}
    for number, body in objects.items():
        if b"stream\n" in body:
            dictionary, _, rest = body.partition(b"stream\n")
            length = int(re.search(rb"/Length (\d+)", dictionary).group(1))
            raw = rest[:length]
            assert rest[length:].startswith(b"\nendstream"), f"stream length of object {number} is wrong"
            streams[number] = (dictionary, zlib.decompress(raw))
    root = int(re.search(rb"/Root (\d+) 0 R", data[startxref:]).group(1))
    pages_ref = int(re.search(rb"/Pages (\d+) 0 R", objects[root]).group(1))
    kids = [int(k) for k in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids \[([^\]]*)\]", objects[pages_ref]).group(1))]
    assert int(re.search(rb"/Count (\d+)", objects[pages_ref]).group(1)) == len(kids)
    pages, fonts = [], {}
    for kid in kids:
        content = int(re.search(rb"/Contents (\d+) 0 R", objects[kid]).group(1))
        ops = streams[content][1]
        for name, ref in re.findall(rb"/(Im\d+) (\d+) 0 R", objects[kid]):
            assert int(ref) in streams
        page_fonts = {}
        for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", re.search(rb"/Font << ([^>]*)>>", objects[kid]).group(1)):
            page_fonts[name.decode()] = font = _read_font(objects, streams, int(ref))
            if font is not None:
                fonts[font.base_font] = font
        pages.append(_page_text(ops, page_fonts))
    images = []
    for number, (dictionary, payload) in streams.items():
        if b"/Subtype /Image" in dictionary:
            w = int(re.search(rb"/Width (\d+)", dictionary).group(1))
            h = int(re.search(rb"/Height (\d+)", dictionary).group(1))
            mode = "L" if b"/DeviceGray" in dictionary else "RGB"
            assert len(payload) == w * h * (1 if mode == "L" else 3), "image data does not match its size"
            images.append((w, h, mode, payload))
    return PdfContent(pages, images, fonts)


# --- images ------------------------------------------------------------------------


def scribble(seed: int, variant: int = 0, width: int = 360, height: int = 140, strokes: int = 5) -> np.ndarray:
    """A synthetic 'signature': ``H×W uint8`` dark smooth strokes on white.

    Different ``seed`` = a different writer; different ``variant`` = another
    signing by the same writer (the same strokes, jittered a little).
    """
    rng = np.random.default_rng(seed)
    jitter = np.random.default_rng(10_000 + variant)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    for _ in range(strokes):
        pts = np.cumsum(rng.normal(0, 18, size=(14, 2)), axis=0)
        pts -= pts.min(axis=0)
        span = np.maximum(pts.max(axis=0), 1)
        pts = pts / span * [width * 0.8, height * 0.6] + [width * 0.1, height * 0.2]
        if variant:
            pts = pts + jitter.normal(0, 2.5, size=pts.shape)
        draw.line([tuple(p) for p in pts], fill=int(rng.integers(0, 60)), width=3, joint="curve")
    return np.asarray(img, dtype=np.uint8)


# --- a deterministic model ------------------------------------------------------------


@dataclass(frozen=True)
class _Thresholds:
    accept: float
    reject: float
    decision: float = 0.0
    #: the card's rows per number of references, as ``{"references": K, "accept": …, "reject": …}``
    by_references: tuple = ()


_MEAN_COSINE = ScoreFunction("mean-cosine")


class FakeModel:
    """The model's API on a crude embedding: the normalised image pooled to 12×24 and L2-normalised.

    Score: mean cosine similarity to the references. Enough to tell two
    different scribbles apart and to find the same one again.
    """

    model_id = "fake-model-v1"
    embedding_dim = 288

    def __init__(self, accept: float = 0.9, reject: float = 0.7, model_id: str | None = None,
                 by_references: dict[int, tuple[float, float]] | None = None) -> None:  # fmt: skip
        self.by_references = dict(by_references or {})
        rows = tuple({"references": k, "accept": a, "reject": r} for k, (a, r) in sorted(self.by_references.items()))
        self.thresholds = _Thresholds(accept, reject, (accept + reject) / 2, rows)
        if model_id:
            self.model_id = model_id
        self.calls = 0

    def thresholds_for(self, references: int):
        """The row of the largest K not above ``references`` (as the real card), else the global ones."""
        rows = [k for k in sorted(self.by_references) if k <= references]
        if not rows:
            return self.thresholds
        accept, reject = self.by_references[rows[-1]]
        return _Thresholds(accept, reject, (accept + reject) / 2)

    def embed(self, images):
        from chequeverify.imaging.normalise import normalise_signature

        self.calls += 1
        out = []
        for image in images:
            x = normalise_signature(image, 96, 192)  # raises SignatureNotFound on blank
            pooled = x.reshape(12, 8, 24, 8).mean(axis=(1, 3)).ravel()
            out.append(pooled / (np.linalg.norm(pooled) + 1e-9))
        return np.asarray(out, np.float32).reshape(len(out), self.embedding_dim)

    def score(self, query, references) -> float:
        refs = np.asarray(references, np.float32).reshape(-1, self.embedding_dim)
        return float((refs @ np.asarray(query, np.float32)).mean())

    # identification: the real (numpy) score function's mean-cosine method
    def score_groups(self, query, references, groups):
        return _MEAN_COSINE.score_groups(query, references, groups)

    def group_stats(self, references, groups):
        return _MEAN_COSINE.group_stats(references, groups)

    def score_against(self, query, stats, rows=None):
        return _MEAN_COSINE.score_against(query, stats, rows)


# --- workspaces ------------------------------------------------------------------------

import pytest  # noqa: E402

PASSWORDS = {"root": "root-pass-1", "sue": "sue-pass-12", "sam": "sam-pass-12", "carl": "carl-pass-1"}


@dataclass
class Team:
    """A workspace with an admin (root), two supervisors (sue, sam) and a clerk (carl), all logged in."""

    ws: object
    root: object
    sue: object
    sam: object
    carl: object
    path: Path


def make_team(folder: Path, model=None) -> Team:
    from chequeverify.service import Workspace

    ws = Workspace.open(folder, model=model or FakeModel())
    ws.init("root", PASSWORDS["root"])
    root = ws.login("root", PASSWORDS["root"])
    root.add_user("sue", "supervisor", PASSWORDS["sue"])
    root.add_user("sam", "supervisor", PASSWORDS["sam"])
    root.add_user("carl", "clerk", PASSWORDS["carl"])
    return Team(ws, root, ws.login("sue", PASSWORDS["sue"]), ws.login("sam", PASSWORDS["sam"]),
                ws.login("carl", PASSWORDS["carl"]), Path(folder))  # fmt: skip


@pytest.fixture
def fast_kdf(monkeypatch):
    """scrypt at a test-friendly cost (the stored hash records it, so verification still works)."""
    import chequeverify.service.passwords as pw

    monkeypatch.setattr(pw, "SCRYPT_N", 2**10)


def set_thresholds(team: Team, **kw):
    """Thresholds as two supervisors set them: sue asks; a looser change waits, and sam approves it."""
    info = team.sue.set_thresholds(**{"reason": "the fake model's scale", **kw})
    if info.pending is not None:
        team.sam.approve_change(info.pending.id)
        info = team.sue.thresholds()
    return info


def reset_thresholds(team: Team):
    """Back to the model's thresholds, approved by sam where that loosens them."""
    info = team.sue.reset_thresholds(reason="back to the model's own")
    if info.pending is not None:
        team.sam.approve_change(info.pending.id)
        info = team.sue.thresholds()
    return info


def set_mandate(team: Team, number: str, rule: str):
    """A mandate as two supervisors change it once the account is in use: sue asks, sam approves."""
    acc = team.sue.set_mandate(number, rule, reason="the customer's letter")
    for change in acc.pending_changes:
        team.sam.approve_change(change.id)
    return team.sue.get_account(number).account


def make_gui_team(root: Path, model=None) -> Team:
    """The GUI tests' start: a team (made with a fast KDF), ACC-1 with Ada (writer 1) enrolled, and the
    global thresholds in force (the fake model's scores are crude: no per-signatory adaptation)."""
    import chequeverify.service.passwords as pw

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pw, "SCRYPT_N", 2**10)
        team = make_team(root / "ws", model or FakeModel())
        enrol(team, "ACC-1", "Ada", writer=1)
        set_thresholds(team, adapt_per_signatory=False)
    return team


@pytest.fixture
def team(tmp_path, fast_kdf) -> Team:
    t = make_team(tmp_path / "ws")
    yield t
    t.ws.close()


def enrol(team: Team, number: str = "100-1", name: str = "Ada", writer: int = 1, *, mandate: str = "any one",
          variants=(1, 2, 3), **signatory) -> list:  # fmt: skip
    """Register an account with one signatory and approved references (maker sue, checker sam)."""
    from chequeverify.errors import InvalidInput

    try:
        team.sue.add_account(number, f"{name} Holder", mandate)
    except InvalidInput:
        pass  # a second signatory on an existing account
    team.sue.add_signatory(number, name, **signatory)
    refs = team.sue.add_references(number, name, [scribble(writer, v) for v in variants])
    return [team.sam.approve_reference(r.id) for r in refs]


def snapshot(ws) -> dict[str, int]:
    """Row counts of every table but the audit log (what a refused input must not change)."""
    conn = ws._store.conn
    tables = ["users", "accounts", "signatories", "reference_signatures", "cheques", "decisions", "settings"]
    out = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    out["audit_non_refusal"] = conn.execute(
        "SELECT count(*) FROM audit WHERE kind NOT IN ('permission_denied', 'login_failed')").fetchone()[0]  # fmt: skip
    return out


def cheque_with(signature: np.ndarray, seed: int = 0):
    """A synthetic cheque carrying ``signature`` (the cheque reader's generator) and the signature's true box."""
    from chequeverify import imaging

    return imaging.draw_cheque(signature, holder="Ada Holder", bank="Test Bank", seed=seed)
