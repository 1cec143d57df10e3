"""Test fixtures shared by the whole suite.

Every user directory is redirected to a temporary path (qutebrowser's
habit) so that no test reads or writes the developer's real workspace.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("CHEQUEVERIFY_WORKSPACE", raising=False)
    monkeypatch.delenv("CHEQUEVERIFY_USER", raising=False)
    monkeypatch.delenv("CHEQUEVERIFY_PASSWORD", raising=False)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (present in CI and on developer machines)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data folder missing: {SHARED_DATA}")
    return SHARED_DATA
