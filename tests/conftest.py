"""Test set-up shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# tiktoken cannot download encodings here; the shared folder holds a ready cache.
if (SHARED / "tiktoken").is_dir() and not os.environ.get("TIKTOKEN_CACHE_DIR"):
    os.environ["TIKTOKEN_CACHE_DIR"] = str(SHARED / "tiktoken")
