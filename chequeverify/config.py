"""Paths, limits and defaults shared by every layer.

Imports nothing of ours (DESIGN.md). Values that a user may change come
from environment variables so that tests can redirect every user
directory to a temporary path.
"""

from __future__ import annotations

import os
from pathlib import Path

#: the repository / installation root (holds ``assets/``)
PACKAGE_DIR = Path(__file__).resolve().parent
ROOT_DIR = PACKAGE_DIR.parent

#: shipped model weights and their model cards
ASSETS_DIR = Path(os.environ.get("CHEQUEVERIFY_ASSETS", ROOT_DIR / "assets"))
MODELS_DIR = ASSETS_DIR / "models"
#: the default model: ``<name>.json`` (card) beside ``<name>.pt`` (weights)
DEFAULT_MODEL_NAME = "signet-lite-v3"

# --- scans --------------------------------------------------------------
#: refuse images with more pixels than this (decompression bombs); an A4 page
#: at 600 dpi is about 35 Mpx, so 60 Mpx leaves room for any real scan.
MAX_IMAGE_PIXELS = 60_000_000
#: refuse files larger than this before decoding anything
MAX_FILE_BYTES = 100 * 1024 * 1024
#: smallest side of a scan that can still hold a readable signature
MIN_IMAGE_SIDE = 16
#: pages read from a multi-page TIFF at most (front, back, a few more)
MAX_PAGES = 16

# --- signature normalisation ---------------------------------------------
#: network input, height × width in pixels (ink = 1.0 after normalisation)
INPUT_HEIGHT = 80
INPUT_WIDTH = 240


def data_home() -> Path:
    """The user's data directory (XDG), where the default workspace lives."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "chequeverify"


def default_workspace() -> Path:
    """Workspace folder: ``$CHEQUEVERIFY_WORKSPACE`` or the user's data directory."""
    env = os.environ.get("CHEQUEVERIFY_WORKSPACE")
    return Path(env).expanduser() if env else data_home() / "workspace"


def shared_data_dir() -> Path:
    """The shared research data (``../shared/data`` beside the checkout)."""
    env = os.environ.get("CHEQUEVERIFY_SHARED_DATA")
    return Path(env) if env else ROOT_DIR.parent / "shared" / "data"
