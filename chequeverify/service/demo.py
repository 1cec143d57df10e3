"""The demo workspace: users, accounts, references and a folder of cheques, built through the use cases.

``chequeverify demo`` (and ``make run``) call :func:`build_demo`. Everything
is made by the project's own code and recorded by the service's own use
cases, so the audit log shows the demo being built like any real work:
the admin creates the users, one supervisor registers the accounts and
their specimens, a second approves them, the clerk verifies and decides.

Signatures: when the shared research data is present
(:func:`chequeverify.config.shared_data_dir`), real signatures of the CEDAR
*test* writers (46-55, never seen in training) are read at run time:
references from the first genuine images, cheques carrying later genuine
images or skilled forgeries. Without it, :func:`synthetic_signature`
draws pen-trajectory signatures (a writer's style from a seed, a new
signing from another) so the demo still works. Cheques are drawn with the
imaging layer's cheque generator.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from chequeverify import config
from chequeverify.errors import InvalidInput, StorageError

log = logging.getLogger(__name__)

#: (name, role, password) of the demo's users; printed by ``chequeverify demo`` and shown at sign-in
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("admin", "admin", "demo-admin-pass"),
    ("sofia", "supervisor", "demo-sofia-pass"),
    ("marcus", "supervisor", "demo-marcus-pass"),
    ("clara", "clerk", "demo-clara-pass"),
)
#: who signs in by default in ``chequeverify gui --demo``
DEMO_DEFAULT_USER = "clara"
CHEQUES_DIR = "cheques"
MARKER = "demo.json"
CEDAR_TEST_WRITERS = tuple(range(46, 56))
REFERENCES_PER_SIGNATORY = 5


@dataclass(frozen=True)
class DemoAccount:
    number: str
    holder: str
    mandate: str
    signatories: tuple[tuple[str, int], ...]  # (name, writer)
    watchlist: bool = False


#: the demo's accounts; writers are CEDAR test writers (or synthetic styles with the same numbers)
ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("ACC-1001", "Harbour Bakery Ltd", "any one", (("Helen Marsh", 46),)),
    DemoAccount("ACC-1002", "Okafor & Daughters", "any one", (("James Okafor", 47), ("Mira Okafor", 48))),
    DemoAccount("ACC-1003", "Northwind Traders", "up to 5000: any one; above 5000: any two",
                (("Anil Rao", 49), ("Beatrix Holm", 50))),  # fmt: skip
    DemoAccount("ACC-1004", "Dr Amara Lindqvist", "any one", (("Amara Lindqvist", 51),)),
    DemoAccount("ACC-1005", "Elm Street Pharmacy", "any one", (("Tomas Varga", 52), ("Ruth Ellery", 53))),
    DemoAccount("WL-0001", "Known forgers (watch-list)", "any one", (("Forger “the Copyist”", 55),), watchlist=True),
)
#: a signatory whose authority has ended (shown as "not valid today")
EXPIRED = ("ACC-1005", "Ruth Ellery")

#: the folder of cheques for the clerk: (file stem, account, writer, kind, image index, amount)
#: kind: "genuine" (an unseen signing by the writer) or "forged" (a skilled forgery of the writer)
CHEQUE_FOLDER: tuple[tuple[str, str, int, str, int, str], ...] = (
    ("ACC-1001_0001", "ACC-1001", 46, "genuine", 10, "1,240.00"),
    ("ACC-1001_0002", "ACC-1001", 46, "forged", 3, "4,980.00"),
    ("ACC-1002_0001", "ACC-1002", 48, "genuine", 12, "315.50"),
    ("ACC-1002_0002", "ACC-1002", 47, "forged", 5, "2,000.00"),
    ("ACC-1003_0001", "ACC-1003", 49, "genuine", 14, "1,250.00"),
    ("ACC-1003_0002", "ACC-1003", 50, "genuine", 15, "12,400.00"),
    ("ACC-1004_0001", "ACC-1004", 51, "genuine", 16, "89.90"),
    ("ACC-1004_0002", "ACC-1004", 51, "forged", 8, "760.00"),
    ("ACC-1005_0001", "ACC-1005", 52, "genuine", 17, "432.10"),
    ("ACC-1005_0002", "ACC-1005", 53, "genuine", 18, "150.00"),
    ("ACC-1001_0003", "ACC-1001", 55, "genuine", 11, "9,999.00"),
    ("ACC-1002_0003", "ACC-1002", 47, "genuine", 13, "58.00"),
)
#: cheques verified while building the demo (history for the audit view and the histogram)
HISTORY: tuple[tuple[str, int, str, int], ...] = (
    ("ACC-1001", 46, "genuine", 6), ("ACC-1001", 46, "forged", 0), ("ACC-1002", 47, "genuine", 7),
    ("ACC-1002", 48, "forged", 1), ("ACC-1004", 51, "genuine", 8), ("ACC-1004", 51, "forged", 2),
    ("ACC-1005", 52, "genuine", 9), ("ACC-1003", 49, "genuine", 7), ("ACC-1003", 50, "forged", 4),
    ("ACC-1002", 48, "genuine", 20),
)  # fmt: skip


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`build_demo` made."""

    folder: Path
    cheques_dir: Path
    users: tuple[tuple[str, str, str], ...]
    accounts: int
    references: int
    cheques: int
    history: int
    signatures: str  # "CEDAR test writers 46-55" or "synthetic"
    seconds: float


def default_demo_folder() -> Path:
    """Where the demo workspace lives unless ``--workspace`` says otherwise."""
    return config.data_home() / "demo"


def demo_exists(folder: str | Path | None = None) -> bool:
    """Whether a complete demo workspace is in ``folder`` (built to the end: its marker is written last)."""
    f = Path(folder) if folder else default_demo_folder()
    return (f / MARKER).is_file() and (f / CHEQUES_DIR).is_dir()


def cheques_folder(folder: str | Path | None = None) -> Path:
    return (Path(folder) if folder else default_demo_folder()) / CHEQUES_DIR


def login_hint() -> str:
    """For the sign-in window: the demo's users and passwords (HTML)."""
    rows = "".join(f"<tr><td><b>{n}</b>&nbsp;&nbsp;</td><td>{r}&nbsp;&nbsp;</td><td><code>{p}</code></td></tr>"
                   for n, r, p in DEMO_USERS)  # fmt: skip
    return f"Demo workspace — sign in as any of these users:<table cellspacing=2>{rows}</table>"


# =============================================================================
# signatures
# =============================================================================


class SignatureSource:
    """Genuine signings and skilled forgeries per writer, from CEDAR or drawn."""

    description = ""

    def genuine(self, writer: int, index: int) -> np.ndarray:  # H×W uint8, ink dark
        raise NotImplementedError

    def forged(self, writer: int, index: int) -> np.ndarray:
        raise NotImplementedError


class CedarSignatures(SignatureSource):
    """CEDAR writers read at run time from ``<shared>/cedar/<writer>/{genuine,forged}`` (sorted file names)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = "CEDAR test writers 46-55 (real signatures, never used in training)"
        self._lists: dict[tuple[int, str], list[Path]] = {}

    @classmethod
    def available(cls, shared: Path) -> CedarSignatures | None:
        root = shared / "cedar"
        ok = all((root / f"{w:03d}" / "genuine").is_dir() for w in CEDAR_TEST_WRITERS)
        return cls(root) if ok else None

    def _files(self, writer: int, kind: str) -> list[Path]:
        key = (writer, kind)
        if key not in self._lists:
            folder = self.root / f"{writer:03d}" / kind
            self._lists[key] = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        return self._lists[key]

    def _read(self, writer: int, kind: str, index: int) -> np.ndarray:
        files = self._files(writer, kind)
        if not files:
            raise InvalidInput(f"CEDAR writer {writer} has no {kind} signatures in {self.root}.")
        with Image.open(files[index % len(files)]) as im:
            return np.asarray(im.convert("L"), dtype=np.uint8)

    def genuine(self, writer: int, index: int) -> np.ndarray:
        return self._read(writer, "genuine", index)

    def forged(self, writer: int, index: int) -> np.ndarray:
        return self._read(writer, "forged", index)


class SyntheticSignatures(SignatureSource):
    description = "synthetic pen-trajectory signatures (the shared CEDAR data was not found)"

    def genuine(self, writer: int, index: int) -> np.ndarray:
        return synthetic_signature(writer, index)

    def forged(self, writer: int, index: int) -> np.ndarray:
        return synthetic_signature(writer, index, forged=True)


def _writer_style(writer: int) -> dict[str, Any]:
    rng = np.random.default_rng(7919 * writer + 17)
    letters = int(rng.integers(5, 10))
    return {
        "letters": letters,
        "heights": rng.uniform(0.5, 1.6, size=letters),  # loop height per letter (tall = ascender)
        "widths": rng.uniform(0.7, 1.4, size=letters),
        "loops": rng.random(letters) < 0.45,  # a loop (l, e) rather than an arch (n, m)
        "slant": float(rng.uniform(-0.15, 0.45)),
        "capital": float(rng.uniform(1.6, 2.6)),
        "capital_kind": int(rng.integers(0, 3)),
        "flourish": float(rng.uniform(-0.6, 0.6)),
        "underline": bool(rng.random() < 0.5),
        "gap": int(rng.integers(2, letters - 1)),  # a pen lift between the two "names"
        "pen": float(rng.uniform(2.0, 3.6)),
        "rise": float(rng.uniform(-0.12, 0.12)),
    }


def _trajectory(style: dict[str, Any], rng: np.random.Generator, wobble: float) -> list[np.ndarray]:
    """Pen strokes as arrays of (x, y) points in letter units (y up), before rendering."""
    strokes: list[np.ndarray] = []
    # the capital: the writer's own shape (an oval with a tail, a stem with a bowl, a double arch)
    cap_h = style["capital"] * (1 + rng.normal(0, 0.04 * wobble))
    t = np.linspace(0, 1, 70)
    kind = style["capital_kind"]
    if kind == 0:
        a = t * 2.3 * math.pi
        capital = np.stack([0.5 * np.sin(a) * (1 + 0.3 * np.cos(a)) + 0.15 * t, cap_h * (0.5 - 0.5 * np.cos(a))], axis=1)
    elif kind == 1:
        stem = np.stack([0.1 * t, cap_h * t], axis=1)
        a = t * 1.6 * math.pi
        bowl = np.stack([0.1 + 0.55 * np.sin(a), cap_h * (1 - 0.28 * (1 - np.cos(a)))], axis=1)
        capital = np.concatenate([stem, bowl])
    else:
        a = t * 2 * math.pi
        capital = np.stack([0.9 * t, cap_h * np.abs(np.sin(a)) * (1 - 0.2 * t)], axis=1)
    strokes.append(capital)
    pts: list[np.ndarray] = []
    x = float(capital[:, 0].max()) + 0.3
    for i in range(style["letters"]):
        if i == style["gap"]:
            strokes.append(np.concatenate(pts) if pts else np.zeros((0, 2)))
            pts = []
            x += 0.7 + rng.normal(0, 0.05 * wobble)
        w = style["widths"][i] * (1 + rng.normal(0, 0.05 * wobble))
        h = style["heights"][i] * (1 + rng.normal(0, 0.06 * wobble))
        s = np.linspace(0, 1, 24)
        if style["loops"][i]:
            # up-stroke to the top of a loop, back down crossing itself
            ang = s * 2 * math.pi
            xs = x + w * (s + 0.25 * np.sin(ang))
            ys = h * 0.5 * (1 - np.cos(ang)) * (1 - 0.15 * s)
        else:
            xs = x + w * s
            ys = h * np.abs(np.sin(s * math.pi * 2)) * 0.6
        pts.append(np.stack([xs, ys], axis=1))
        x += w
    # the flourish at the end
    s = np.linspace(0, 1, 30)
    end = np.stack([x + 1.2 * s, style["flourish"] * np.sin(s * math.pi) - 0.2 * s], axis=1)
    pts.append(end)
    strokes.append(np.concatenate(pts))
    if style["underline"]:
        s = np.linspace(0, 1, 30)
        strokes.append(np.stack([-0.3 + (x + 1.2) * s, -0.55 + 0.12 * np.sin(s * math.pi * 1.5) + 0.1 * s], axis=1))
    # slant, rise and the signing's own little deformations
    out = []
    shear = style["slant"] + rng.normal(0, 0.03 * wobble)
    for st in strokes:
        if len(st) < 2:
            continue
        st = st.copy()
        st[:, 0] += shear * st[:, 1]
        st[:, 1] += style["rise"] * st[:, 0]
        st += rng.normal(0, 0.015 * wobble, size=st.shape).cumsum(axis=0) * 0.3
        out.append(st)
    return out


def synthetic_signature(writer: int, signing: int, *, forged: bool = False, height: int = 150) -> np.ndarray:
    """A handwritten-looking signature: ``H×W uint8``, dark ink on white.

    ``writer`` fixes the style (letter shapes, slant, capital, flourish);
    ``signing`` draws another signing by the same hand (small variations).
    ``forged``: a skilled forgery — the same design copied slowly by
    another hand (proportions off, shakier, thicker and more even strokes).
    """
    style = _writer_style(writer)
    rng = np.random.default_rng([writer, signing, 1 if forged else 0, 99])
    if forged:
        style = dict(style)
        style["heights"] = style["heights"] * rng.uniform(0.8, 1.25, size=len(style["heights"]))
        style["widths"] = style["widths"] * rng.uniform(0.85, 1.2, size=len(style["widths"]))
        style["slant"] = style["slant"] + rng.uniform(-0.2, 0.2)
        style["capital"] = style["capital"] * rng.uniform(0.8, 1.2)
        style["flourish"] = -style["flourish"] * rng.uniform(0.3, 1.0)
    strokes = _trajectory(style, rng, wobble=2.5 if forged else 1.0)
    allpts = np.concatenate(strokes)
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    scale = (height - 30) / max(hi[1] - lo[1], 1e-6)
    width = int((hi[0] - lo[0]) * scale + 30)
    img = Image.new("L", (max(width, 60), height), 255)
    draw = ImageDraw.Draw(img)
    pen = style["pen"] * (1.35 if forged else 1.0)
    for st in strokes:
        xy = (st - lo) * scale + 15
        xy[:, 1] = height - xy[:, 1]
        if forged:  # tremor of a slow, careful copy
            xy += rng.normal(0, 0.7, size=xy.shape)
        speed = np.r_[0, np.linalg.norm(np.diff(xy, axis=0), axis=1)]
        speed = speed / (speed.max() + 1e-9)
        for k in range(1, len(xy)):
            # a fast pen leaves a thinner line
            w = pen * (1.25 - 0.6 * speed[k]) if not forged else pen * (1.05 - 0.15 * speed[k])
            shade = int(25 + 35 * speed[k]) if not forged else 30
            draw.line([tuple(xy[k - 1]), tuple(xy[k])], fill=shade, width=max(1, int(round(w))))
    return np.asarray(img, dtype=np.uint8)


def signature_source(shared: Path | None = None) -> SignatureSource:
    """CEDAR's test writers when the shared data is there, else synthetic signatures."""
    shared = config.shared_data_dir() if shared is None else shared
    cedar = CedarSignatures.available(shared) if shared.is_dir() else None
    return cedar or SyntheticSignatures()


# =============================================================================
# cheques
# =============================================================================


def draw_demo_cheque(signature: np.ndarray, account: DemoAccount, seed: int, amount: str) -> Image.Image:
    """A cheque of ``account`` carrying ``signature``, drawn by the imaging layer's generator."""
    import inspect

    from chequeverify import imaging

    draw = getattr(imaging, "draw_cheque", None)
    if draw is None:
        raise InvalidInput("This build's imaging layer has no cheque generator (imaging.draw_cheque).")
    wanted: dict[str, Any] = {"holder": account.holder, "bank": "Demo Savings Bank", "seed": seed,
                              "amount": amount, "account": account.number}  # fmt: skip
    params = inspect.signature(draw).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in wanted.items() if accepts_any or k in params}
    result = draw(signature, **kwargs)
    image = result[0] if isinstance(result, tuple) else result
    return image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))


# =============================================================================
# the build
# =============================================================================


def build_demo(folder: str | Path | None = None, *, force: bool = False, model: Any = None,
               shared: Path | None = None, progress=None) -> DemoSummary:  # fmt: skip
    """Create the demo workspace in ``folder`` (default :func:`default_demo_folder`).

    ``force`` replaces an existing demo; a folder that holds something else
    is never touched (:class:`InvalidInput`). ``model``: an already loaded
    model (tests); ``shared``: the shared data folder. ``progress(text)``
    is called with each step. Returns what was made.
    """
    from chequeverify.service.workspace import Workspace

    t0 = time.perf_counter()
    say = progress or (lambda text: log.info("demo: %s", text))
    folder = Path(folder).expanduser() if folder else default_demo_folder()
    if folder.exists():
        if not folder.is_dir():
            raise StorageError(f"{folder} is a file, not a folder for the demo workspace.")
        if any(folder.iterdir()):
            if not (folder / MARKER).is_file() and not _looks_like_demo(folder):
                raise InvalidInput(f"{folder} is not empty and is not a demo workspace; it is left alone.",
                                   hint="Give another --workspace folder for the demo.")  # fmt: skip
            if not force:
                raise InvalidInput(f"A demo workspace already exists in {folder}.",
                                   hint="Use --force to rebuild it, or --if-missing to keep it.")  # fmt: skip
            shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "demo.building").write_text("the demo is being built\n", encoding="utf-8")
    source = signature_source(shared)
    say(f"signatures: {source.description}")
    by_number = {a.number: a for a in ACCOUNTS}

    ws = Workspace.open(folder, model=model)
    try:
        ws.load_model()
        (admin_name, _, admin_pw), *others = DEMO_USERS
        ws.init(admin_name, admin_pw)
        admin = ws.login(admin_name, admin_pw)
        for name, role, pw in others:
            admin.add_user(name, role, pw)
        admin.logout()
        sessions = {name: ws.login(name, pw) for name, _, pw in others}
        maker, checker, clerk = sessions["sofia"], sessions["marcus"], sessions["clara"]
        say("users: " + ", ".join(n for n, _, _ in DEMO_USERS))

        # accounts, signatories and references (maker), approvals (checker)
        references = 0
        expired_until = (dt.date.today() - dt.timedelta(days=30)).isoformat()
        for acc in ACCOUNTS:
            maker.add_account(acc.number, acc.holder, acc.mandate, watchlist=acc.watchlist)
            for name, writer in acc.signatories:
                maker.add_signatory(acc.number, name, panel=None)
                images = [source.genuine(writer, i) for i in range(REFERENCES_PER_SIGNATORY)]
                refs = maker.add_references(acc.number, name, images)
                for r in refs:
                    checker.approve_reference(r.id, "specimen card checked against ID")
                references += len(refs)
                if (acc.number, name) == EXPIRED:
                    sig = next(s for s in maker.list_signatories(acc.number) if s.name == name)
                    maker.update_signatory(sig.id, valid_from="2015-01-01", valid_until=expired_until)
        # one more specimen waits for the second supervisor (the approvals view is not empty)
        pending = maker.add_references("ACC-1001", "Helen Marsh", [source.genuine(46, REFERENCES_PER_SIGNATORY)])
        references += len(pending)
        say(f"accounts: {len(ACCOUNTS)}, references: {references}")

        # the folder of cheques for the clerk
        out = folder / CHEQUES_DIR
        out.mkdir(exist_ok=True)
        for k, (stem, number, writer, kind, index, amount) in enumerate(CHEQUE_FOLDER):
            sig = source.genuine(writer, index) if kind == "genuine" else source.forged(writer, index)
            cheque = draw_demo_cheque(sig, by_number[number], seed=1000 + k, amount=amount)
            cheque.save(out / f"{stem}.png", optimize=False, compress_level=6)
        say(f"cheques: {len(CHEQUE_FOLDER)} in {out}")

        # a little history: verified and decided cheques, an override waiting for approval
        decided = 0
        for k, (number, writer, kind, index) in enumerate(HISTORY):
            sig = source.genuine(writer, index) if kind == "genuine" else source.forged(writer, index)
            cheque = draw_demo_cheque(sig, by_number[number], seed=2000 + k, amount="100.00")
            who = clerk if k % 3 else checker
            try:
                v = who.verify(cheque, number, amount="100.00")
            except Exception as exc:  # noqa: BLE001 - a history cheque the reader cannot use is skipped, not fatal
                log.warning("demo history cheque %d skipped: %s", k, exc)
                continue
            model_says = str(v.decision)
            if k == 3 and model_says != "ACCEPT":
                who.decide(v.cheque_id, "ACCEPT", "customer confirmed the cheque by phone")  # waits for approval
            elif model_says == "REFER":
                final = "ACCEPT" if kind == "genuine" else "REJECT"
                who.decide(v.cheque_id, final, "compared with the specimen card at the counter")
            else:
                who.decide(v.cheque_id, model_says, "")
            decided += 1
        say(f"history: {decided} cheques verified and decided")
        for s in sessions.values():
            s.logout()
    finally:
        ws.close()
    seconds = time.perf_counter() - t0
    (folder / "demo.building").unlink(missing_ok=True)
    (folder / MARKER).write_text(
        '{"demo": true, "signatures": "%s", "built_in_s": %.2f}\n' % (source.description, seconds), encoding="utf-8"
    )
    return DemoSummary(folder, folder / CHEQUES_DIR, DEMO_USERS, len(ACCOUNTS), references, len(CHEQUE_FOLDER),
                       decided, source.description, seconds)  # fmt: skip


def _looks_like_demo(folder: Path) -> bool:
    """A half-built demo (interrupted before its marker): only the demo's own files are there."""
    from chequeverify.storage import DB_NAME

    names = {p.name for p in folder.iterdir()}
    ours = {n for n in names if n in ("demo.building", CHEQUES_DIR) or n.startswith(DB_NAME)}
    return "demo.building" in names and names == ours
