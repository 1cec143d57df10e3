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
images or skilled forgeries. Without it, the imaging layer's
signature generator draws them (a writer's design from a seed, a new
signing from another; :func:`forge` copies a design by another hand), so
the demo still works. Cheques are drawn with the imaging layer's cheque
generator.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from chequeverify import config
from chequeverify.errors import ChequeVerifyError, InvalidInput, StorageError

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
#: signings offered to the quality check to find the references (cheques use later signings: 10 and up)
SPECIMEN_CANDIDATES = 8


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

#: the folder of cheques for the clerk: (file stem, account, writer, kind, signing index)
#: kind: "genuine" (an unseen signing by the writer), "forged" (a skilled forgery of the writer) or
#: "unsigned" (the reader finds no signature: the row shows an error and the clerk draws the box).
#: The file names carry the account (as a capture desk names scans) except "counter-scan_0014":
#: its row waits for the clerk to pick the account.
CHEQUE_FOLDER: tuple[tuple[str, str, int, str, int], ...] = (
    ("ACC-1001_0001", "ACC-1001", 46, "genuine", 10),
    ("ACC-1001_0002", "ACC-1001", 46, "forged", 2),
    ("ACC-1001_0003", "ACC-1001", 55, "genuine", 11),  # the watch-listed forger signs Helen Marsh's cheque
    ("ACC-1002_0004", "ACC-1002", 48, "genuine", 12),
    ("ACC-1002_0005", "ACC-1002", 47, "forged", 5),
    ("ACC-1002_0006", "ACC-1002", 47, "genuine", 13),
    ("ACC-1003_0007", "ACC-1003", 49, "genuine", 14),
    ("ACC-1003_0008", "ACC-1003", 50, "genuine", 15),
    ("ACC-1004_0009", "ACC-1004", 51, "genuine", 16),
    ("ACC-1004_0010", "ACC-1004", 51, "forged", 8),
    ("ACC-1005_0011", "ACC-1005", 52, "genuine", 17),
    ("ACC-1005_0012", "ACC-1005", 53, "genuine", 18),  # Ruth Ellery's authority has ended
    ("ACC-1004_0013", "ACC-1004", 51, "unsigned", 0),
    ("counter-scan_0014", "ACC-1002", 48, "genuine", 19),
    ("ACC-1003_0015", "ACC-1003", 50, "genuine", 20),
    ("ACC-1001_0016", "ACC-1001", 46, "genuine", 21),
)
#: cheques of the folder saved as image clearing sends them (``imaging.clearing_image``), not as
#: a colour scan: CTS-2010's 100 dpi grey front (JPEG) and its black-and-white front (Group 4 TIFF)
CHEQUE_FORMS: dict[str, str] = {"ACC-1003_0015": "grey-100dpi", "ACC-1001_0016": "bitonal"}
#: cheques verified while building the demo (history for the audit view and the histogram)
HISTORY: tuple[tuple[str, int, str, int], ...] = (
    ("ACC-1001", 46, "genuine", 6), ("ACC-1001", 46, "forged", 0), ("ACC-1002", 47, "genuine", 7),
    ("ACC-1002", 48, "forged", 1), ("ACC-1004", 51, "genuine", 8), ("ACC-1004", 51, "forged", 2),
    ("ACC-1005", 52, "genuine", 9), ("ACC-1003", 49, "genuine", 7), ("ACC-1003", 50, "forged", 4),
    ("ACC-1002", 48, "genuine", 20), ("ACC-1001", 55, "genuine", 12),
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
    model_id: str = ""  # the model that embedded its references


def default_demo_folder() -> Path:
    """Where the demo workspace lives unless ``--workspace`` says otherwise."""
    return config.data_home() / "demo"


def demo_exists(folder: str | Path | None = None) -> bool:
    """Whether a complete demo workspace is in ``folder`` (built to the end: its marker is written last)."""
    f = Path(folder) if folder else default_demo_folder()
    return (f / MARKER).is_file() and (f / CHEQUES_DIR).is_dir()


def demo_model(folder: str | Path | None = None) -> str | None:
    """The id of the model that embedded a demo's references (``None``: not recorded, a demo
    built before the marker said)."""
    f = Path(folder) if folder else default_demo_folder()
    try:
        return json.loads((f / MARKER).read_text(encoding="utf-8")).get("model")
    except (OSError, ValueError, AttributeError):
        return None


def cheque_filename(stem: str) -> str:
    """The file name of the folder's cheque ``stem``: PNG scans, JPEG or TIFF clearing images."""
    from chequeverify.imaging import CLEARING_SUFFIX

    return stem + CLEARING_SUFFIX[CHEQUE_FORMS.get(stem, "scan")]


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
    """Signatures drawn by the imaging layer's generator (one design per writer, a new signing per index).

    Its generator draws genuine signings only; a skilled forgery is made
    here from another signing of the same design, copied by a different
    hand: proportions and slant off, the line shakier and heavier.
    """

    description = "synthetic signatures (the shared CEDAR data was not found)"

    def genuine(self, writer: int, index: int) -> np.ndarray:
        from chequeverify import imaging

        return imaging.synthetic_signature(writer, variant=index)

    def forged(self, writer: int, index: int) -> np.ndarray:
        from chequeverify import imaging

        model = imaging.synthetic_signature(writer, variant=500 + index, pen_width=3.2)
        return forge(model, np.random.default_rng([writer, index, 7]))


def forge(signature: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A skilled forgery of ``signature`` (``H×W uint8``, ink dark): the same design, another hand.

    The copy is re-proportioned (width, height, slant), bent by a slow
    wave (a forger's drift) and shaken by a fine tremor; its strokes come
    out heavier (a slow, careful pen).
    """
    a = np.asarray(signature, np.uint8)
    h, w = a.shape
    sx, sy = rng.uniform(0.85, 1.15), rng.uniform(0.8, 1.2)
    shear = rng.uniform(-0.25, 0.25)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wave = rng.uniform(2.0, 5.0) * np.sin(xx / w * rng.uniform(2, 5) * np.pi + rng.uniform(0, 6.28))
    tremor = 0.8 * np.sin(xx * 0.9 + yy * 0.3)
    cy, cx = h / 2, w / 2
    src_y = (yy - cy - wave - tremor) / sy + cy
    src_x = (xx - cx - shear * (yy - cy)) / sx + cx
    xi, yi = np.rint(src_x).astype(int), np.rint(src_y).astype(int)
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    out = np.full_like(a, 255)
    out[inside] = a[yi[inside], xi[inside]]
    # a heavier line: ink spreads by one pixel
    heavy = out.copy()
    heavy[:-1, :] = np.minimum(heavy[:-1, :], out[1:, :])
    heavy[:, :-1] = np.minimum(heavy[:, :-1], heavy[:, 1:])
    return heavy


def signature_source(shared: Path | None = None) -> SignatureSource:
    """CEDAR's test writers when the shared data is there, else synthetic signatures."""
    shared = config.shared_data_dir() if shared is None else shared
    cedar = CedarSignatures.available(shared) if shared.is_dir() else None
    return cedar or SyntheticSignatures()


# =============================================================================
# cheques
# =============================================================================


def draw_demo_cheque(signature: np.ndarray | None, account: DemoAccount, seed: int) -> Image.Image:
    """A CTS-2010 cheque of ``account`` carrying ``signature`` (None: unsigned), by the imaging layer's generator."""
    from chequeverify import imaging

    cheque, _box = imaging.draw_cheque(signature, holder=account.holder.upper(), bank="Demo Savings Bank", seed=seed,
                                       signature_height_mm=13.0)  # fmt: skip
    return cheque


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
            if (folder / MARKER).is_file() and not force:
                raise InvalidInput(f"A demo workspace already exists in {folder}.",
                                   hint="Use --force to rebuild it, or --if-missing to keep it.")  # fmt: skip
            shutil.rmtree(folder)  # a demo to rebuild, or one whose build was interrupted
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "demo.building").write_text("the demo is being built\n", encoding="utf-8")
    source = signature_source(shared)
    say(f"signatures: {source.description}")
    try:
        summary = _build(folder, model, source, say, t0)
    except BaseException:
        # a demo that cannot be finished (no model, ^C) leaves nothing behind
        shutil.rmtree(folder, ignore_errors=True)
        raise
    (folder / "demo.building").unlink(missing_ok=True)
    marker = {"demo": True, "signatures": source.description, "built_in_s": round(summary.seconds, 2),
              "model": summary.model_id}
    (folder / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
    return summary


def _build(folder: Path, model: Any, source: SignatureSource, say, t0: float) -> DemoSummary:
    from chequeverify import imaging
    from chequeverify.service.workspace import Workspace

    by_number = {a.number: a for a in ACCOUNTS}
    ws = Workspace.open(folder, model=model)
    try:
        model_id = str(ws.load_model().model_id)
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
                images = _good_specimens(maker, acc.number, name, source, writer, REFERENCES_PER_SIGNATORY)
                refs = maker.add_references(acc.number, name, images)
                for r in refs:
                    checker.approve_reference(r.id, "specimen card checked against ID")
                references += len(refs)
                if (acc.number, name) == EXPIRED:
                    sig = next(s for s in maker.list_signatories(acc.number) if s.name == name)
                    maker.update_signatory(sig.id, valid_from="2015-01-01", valid_until=expired_until)
        # one more specimen waits for the second supervisor (the approvals view is not empty)
        extra = _good_specimens(maker, "ACC-1001", "Helen Marsh", source, 46, 1, start=SPECIMEN_CANDIDATES)
        pending = maker.add_references("ACC-1001", "Helen Marsh", extra)
        references += len(pending)
        say(f"accounts: {len(ACCOUNTS)}, references: {references}")

        # the folder of cheques for the clerk
        out = folder / CHEQUES_DIR
        out.mkdir(exist_ok=True)
        for k, (stem, number, writer, kind, index) in enumerate(CHEQUE_FOLDER):
            sig = None if kind == "unsigned" else getattr(source, kind)(writer, index)
            cheque = draw_demo_cheque(sig, by_number[number], seed=1000 + k)
            form = CHEQUE_FORMS.get(stem, "scan")
            imaging.save_clearing_image(imaging.clearing_image(cheque, form), out / cheque_filename(stem), form)
        say(f"cheques: {len(CHEQUE_FOLDER)} in {out}")

        # a little history: verified and decided cheques, an override waiting for approval
        decided = 0
        override_sent = False
        for k, (number, writer, kind, index) in enumerate(HISTORY):
            sig = source.genuine(writer, index) if kind == "genuine" else source.forged(writer, index)
            cheque = draw_demo_cheque(sig, by_number[number], seed=2000 + k)
            who = clerk if k % 3 else checker
            try:
                v = who.verify(cheque, number, amount="100.00")
            except ChequeVerifyError as exc:  # a history cheque the reader cannot use is skipped, not fatal
                log.warning("demo history cheque %d skipped: %s", k, exc)
                continue
            model_says = str(v.decision)
            if model_says == "REJECT" and not override_sent:
                # the clerk overrides a REJECT: it waits in the supervisors' approvals
                clerk.decide(v.cheque_id, "ACCEPT", "the customer phoned to confirm this cheque")
                override_sent = True
            elif model_says == "REFER":
                final = "ACCEPT" if kind == "genuine" and writer != 55 else "REJECT"
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
    return DemoSummary(folder, folder / CHEQUES_DIR, DEMO_USERS, len(ACCOUNTS), references, len(CHEQUE_FOLDER),
                       decided, source.description, seconds, model_id)  # fmt: skip


def _good_specimens(session, account: str, signatory: str, source: SignatureSource, writer: int, count: int,
                    *, start: int = 0) -> list[np.ndarray]:  # fmt: skip
    """The first ``count`` of a writer's signings (from ``start``) that pass the quality check.

    Real specimen sets hold near-repeats; the service's check (which writes
    nothing) tells which to skip, as a supervisor would at the counter.
    """
    good: list[np.ndarray] = []
    index, end = start, start + SPECIMEN_CANDIDATES
    while len(good) < count and index < end:
        batch = [source.genuine(writer, i) for i in range(index, min(end, index + count - len(good) + 1))]
        index += len(batch)
        # the batch is checked against the stored references, not the ones chosen so far: check those too
        verdicts = session.check_references(account, signatory, good + batch)
        good = [(good + batch)[v.index] for v in verdicts if v.ok][:count]
    if len(good) < count:
        raise InvalidInput(f"Writer {writer} has only {len(good)} usable specimens among {SPECIMEN_CANDIDATES}.")
    return good


def _looks_like_demo(folder: Path) -> bool:
    """A half-built demo (interrupted before its marker): only the demo's own files are there."""
    from chequeverify.storage import DB_NAME

    names = {p.name for p in folder.iterdir()}
    ours = {n for n in names if n in ("demo.building", CHEQUES_DIR) or n.startswith(DB_NAME)}
    return "demo.building" in names and names == ours
