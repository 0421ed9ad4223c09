"""Garbage-collector settings for a process that runs many workflows at once.

Thousands of concurrent agents keep a large, long-lived working set (tasks, scopes, messages,
buffered events), and CPython's default thresholds then run full collections over all of it
again and again: at 10,000 concurrent workflows that was over half of the engine's CPU time.
The process owner (the Host) calls `tune_gc()` once: objects that exist at start-up (imported
modules, the manifest) are frozen out of collection, and the young-generation threshold is raised
so short-lived objects die by reference counting before a collection sees them. Collection still
runs; it just runs less often. `GOGRID_GC_TUNING=0` keeps the interpreter's defaults.
"""

from __future__ import annotations

import atexit
import gc
import os

YOUNG_THRESHOLD = 10_000
OLDER_THRESHOLD = 20

_tuned = False


def tune_gc() -> bool:
    """Apply the settings once per process; returns whether they were applied now."""
    global _tuned
    if _tuned or os.environ.get("GOGRID_GC_TUNING", "1") == "0":
        return False
    _tuned = True
    gc.collect()
    gc.freeze()
    # Give frozen objects back at exit so they are torn down normally (native extensions such
    # as DuckDB's report objects still alive at interpreter shutdown as leaks).
    atexit.register(gc.unfreeze)
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_THRESHOLD), max(middle, OLDER_THRESHOLD), max(old, OLDER_THRESHOLD))
    return True
