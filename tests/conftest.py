"""Test set-up shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# tiktoken cannot download encodings here; the shared folder holds a ready cache.
if (SHARED / "tiktoken").is_dir() and not os.environ.get("TIKTOKEN_CACHE_DIR"):
    os.environ["TIKTOKEN_CACHE_DIR"] = str(SHARED / "tiktoken")

# The console demo (sample_configs/demo.yaml) is paced for people to watch; tests run it at speed.
os.environ.setdefault("GOGRID_DEMO_PACE_MS", "1")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_database(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gogrid run` records into ./.gogrid by default; tests must never share (or lock) one file."""
    monkeypatch.setenv("GOGRID_DB", str(tmp_path_factory.mktemp("db") / "gogrid.duckdb"))
