"""Helpers shared by the workspace/service tests (not a test module).

* :func:`read_pdf` — a strict little reader for the PDFs ``reports`` writes:
  checks the cross-reference table and stream lengths, inflates content
  streams and images, and returns the text shown on each page;
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
class PdfContent:
    pages: list[str]
    images: list[tuple[int, int, str, bytes]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.pages)


def _unescape(s: bytes) -> str:
    out = re.sub(rb"\\([\\()])", rb"\1", s)
    return out.decode("cp1252")


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
    pages = []
    for kid in kids:
        content = int(re.search(rb"/Contents (\d+) 0 R", objects[kid]).group(1))
        ops = streams[content][1]
        for name, ref in re.findall(rb"/(Im\d+) (\d+) 0 R", objects[kid]):
            assert int(ref) in streams
        pages.append("\n".join(_unescape(t) for t in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", ops)))
    images = []
    for number, (dictionary, payload) in streams.items():
        if b"/Subtype /Image" in dictionary:
            w = int(re.search(rb"/Width (\d+)", dictionary).group(1))
            h = int(re.search(rb"/Height (\d+)", dictionary).group(1))
            mode = "L" if b"/DeviceGray" in dictionary else "RGB"
            assert len(payload) == w * h * (1 if mode == "L" else 3), "image data does not match its size"
            images.append((w, h, mode, payload))
    return PdfContent(pages, images)


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
        self.thresholds = _Thresholds(accept, reject, (accept + reject) / 2)
        self.by_references = dict(by_references or {})
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
