"""What the subcommands share: error output, manifest loading, the database location."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gogrid.config.errors import ManifestError

DEFAULT_DB = Path(".gogrid") / "gogrid.duckdb"


class UsageError(Exception):
    """A user mistake (bad flag, bad file): printed without a traceback, exit status 2."""


def fail(message: str, status: int) -> int:
    print(f"gogrid: {message}", file=sys.stderr)
    return status


def manifest_error(e: ManifestError) -> int:
    for issue in e.issues:
        print(f"error: {issue}", file=sys.stderr)
    return 2


def db_path(flag: str | None) -> Path:
    """`--db`, else GOGRID_DB, else ./.gogrid/gogrid.duckdb."""
    return Path(flag or os.environ.get("GOGRID_DB") or DEFAULT_DB)


def read_input(value: str | None) -> str:
    """`--input TEXT`, or `--input -` for standard input."""
    if value is None:
        return ""
    if value == "-":
        return sys.stdin.read()
    return value
