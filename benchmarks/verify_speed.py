"""How fast is a clerk's verification, and identification over 100k references?

    python benchmarks/verify_speed.py [--runs 20] [--references 100000]

* ``verify_ms``: one cheque *file* (PNG on disk, a synthetic CTS-2010 cheque
  carrying a real CEDAR signature) → decision, through
  :meth:`Session.verify`: read, locate, clean, normalise, embed, score
  every signatory, mandate, and the transaction that stores it. Median of
  ``--runs`` after two warm-up runs.
* also printed: the same verification once the workspace holds the 100,000
  references and a watch-list (verification then searches every enrolled
  signatory for a known forger's hand).
* ``identify_100k_ms``: one signature image → the top 5 signatories
  through :meth:`Session.identify` over a workspace holding 100,000
  references (20,000 signatories × 5; synthetic unit embeddings inserted
  directly, since embedding 100k images is not what is measured): clean,
  embed the query, search, audit. Median after a warm-up that builds the
  cached index (its build time is printed too).

The last line is ``verify_ms=<float> identify_100k_ms=<float>``. Targets on
the development CPU: 250 ms and 50 ms. ``--fake-model`` uses the tests'
stand-in model (a smoke test of this script, not a figure to report).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chequeverify import config, imaging  # noqa: E402
from chequeverify.service import Workspace  # noqa: E402
from chequeverify.storage import utc_now  # noqa: E402


def load_signatures() -> tuple[list, object]:
    """(5 reference images, 1 query image): CEDAR test writer 046 when the shared data is there."""
    from PIL import Image

    folder = config.shared_data_dir() / "cedar" / "046" / "genuine"
    files = sorted(folder.glob("*"))[:6] if folder.is_dir() else []
    if len(files) == 6:
        images = [Image.open(f).convert("L") for f in files]
        return images[:5], images[5]
    sys.path.insert(0, str(ROOT / "tests"))
    from service_fixtures import scribble

    print("note: shared CEDAR data not found; using synthetic signatures", file=sys.stderr)
    return [scribble(1, v) for v in range(1, 6)], scribble(1, 9)


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def fill_references(ws: Workspace, n_refs: int, per_signatory: int = 5) -> None:
    """Insert ``n_refs`` references (random unit embeddings) for ``n_refs / per_signatory`` signatories."""
    model = ws.load_model()
    dim, model_id = int(model.embedding_dim), str(model.model_id)
    rng = np.random.default_rng(0)
    store = ws._store
    now = utc_now()
    png = bytes.fromhex("89504e470d0a1a0a")  # never decoded by the search
    n_sig = n_refs // per_signatory
    with store.transaction():
        conn = store.conn
        start = conn.execute("SELECT coalesce(max(id), 0) FROM accounts").fetchone()[0] + 1
        conn.executemany(
            "INSERT INTO accounts (id, number, holder, status, mandate, watchlist, created_at, created_by)"
            " VALUES (?, ?, ?, 'active', 'any one', 0, ?, 'bench')",
            [(start + i, f"B{i:06d}", f"Holder {i}", now) for i in range(n_sig)],
        )
        sig_start = conn.execute("SELECT coalesce(max(id), 0) FROM signatories").fetchone()[0] + 1
        conn.executemany(
            "INSERT INTO signatories (id, account_id, name, created_at, created_by) VALUES (?, ?, ?, ?, 'bench')",
            [(sig_start + i, start + i, f"Signer {i}", now) for i in range(n_sig)],
        )
        for chunk in range(0, n_sig, 2000):
            rows = []
            for i in range(chunk, min(n_sig, chunk + 2000)):
                e = rng.normal(size=(per_signatory, dim)).astype(np.float32)
                e /= np.linalg.norm(e, axis=1, keepdims=True)
                for k in range(per_signatory):
                    rows.append((sig_start + i, "active", "image", f"{i}-{k}", png, 1, 1, 1,
                                 e[k].astype("<f4").tobytes(), dim, model_id, "bench", now))  # fmt: skip
            conn.executemany(
                "INSERT INTO reference_signatures (signatory_id, status, source, image_sha256, image_png, width,"
                " height, ink_pixels, embedding, embedding_dim, model_id, added_by, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        store.bump_references_version()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--references", type=int, default=100_000)
    parser.add_argument("--model", metavar="PATH", help="model card (.json) to measure (default: the shipped model)")
    parser.add_argument("--fake-model", action="store_true", help="smoke-test the script with the tests' model")
    args = parser.parse_args()

    model = None
    if args.model:
        from chequeverify.model import load_model

        model = load_model(args.model)
    elif args.fake_model:
        sys.path.insert(0, str(ROOT / "tests"))
        from service_fixtures import FakeModel

        model = FakeModel()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Path(tmp) / "ws", model=model)
        t = time.perf_counter()
        ws.load_model()
        print(f"model {ws.model_id} loaded in {(time.perf_counter() - t) * 1000:.0f} ms")
        ws.init("root", "bench-password")
        root = ws.login("root", "bench-password")
        for name, role in (("sue", "supervisor"), ("sam", "supervisor"), ("carl", "clerk")):
            root.add_user(name, role, "bench-password")
        sue, sam, carl = (ws.login(n, "bench-password") for n in ("sue", "sam", "carl"))
        refs, query = load_signatures()
        sue.add_account("100-1", "Bench Holder", "up to 10000: any one; above 10000: any two")
        sue.add_signatory("100-1", "Writer 46")
        for r in sue.add_references("100-1", "Writer 46", refs):
            sam.approve_reference(r.id)
        cheque, _ = imaging.draw_cheque(query, holder="Bench Holder", bank="Bench Bank", seed=1)
        path = Path(tmp) / "cheque.png"
        cheque.save(path)
        print(f"cheque {cheque.size[0]}×{cheque.size[1]} px, {path.stat().st_size / 1024:.0f} KiB")

        first = carl.verify(path, "100-1", amount="250.00")
        carl.verify(path, "100-1", amount="250.00")
        verify_ms = median_ms(lambda: carl.verify(path, "100-1", amount="250.00"), args.runs)
        print(f"verify: {first.decision.value} score {first.score:.4f}; median {verify_ms:.1f} ms over {args.runs} runs")

        t = time.perf_counter()
        fill_references(ws, args.references)
        print(f"inserted {args.references} references in {time.perf_counter() - t:.1f} s")
        signature = np.asarray(query)
        t = time.perf_counter()
        result = carl.identify(signature, top=5, images=False)
        print(f"identify: first call (builds the index) {(time.perf_counter() - t) * 1000:.0f} ms; "
              f"searched {result.references_searched} references of {result.signatories_searched} signatories; "
              f"best {result.candidates[0].account} {result.candidates[0].score:.4f}")  # fmt: skip
        identify_ms = median_ms(lambda: carl.identify(signature, top=5, images=False), args.runs)
        index = ws._identification_index(ws.load_model())
        q = ws.load_model().embed([signature])[0]
        search_ms = median_ms(lambda: index.search(ws.load_model(), q, 5), args.runs)
        embed_ms = median_ms(lambda: ws.load_model().embed([signature]), args.runs)
        print(f"identify: median {identify_ms:.1f} ms (of which embedding the query {embed_ms:.1f} ms, "
              f"search over the index {search_ms:.1f} ms)")  # fmt: skip
        # with a watch-list in the workspace, verification also searches every enrolled signatory
        sue.add_account("WL-1", "Known forgers", watchlist=True)
        sue.add_signatory("WL-1", "Forger")
        for r in sue.add_references("WL-1", "Forger", refs[:3]):
            sam.approve_reference(r.id)
        carl.verify(path, "100-1", amount="250.00")  # rebuilds the index with the watch-list
        watch_ms = median_ms(lambda: carl.verify(path, "100-1", amount="250.00"), args.runs)
        print(f"verify with a watch-list among {args.references} references: median {watch_ms:.1f} ms")
        ws.close()
    print(f"verify_ms={verify_ms:.1f} identify_100k_ms={identify_ms:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
