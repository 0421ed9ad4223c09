"""Files inside a workspace: read, list and search, never outside the workspace root.

The root is `GOGRID_WORKSPACE` when set, else the run's workspace (the manifest's folder), else
the current directory. Every path is resolved (following symlinks) before use and refused when it
lands outside the root, so `../`, absolute paths and symlinks pointing out all fail the same way.
Reads, listings and searches are bounded in size.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

from gogrid.tools.base import ToolContext, tool

MAX_READ_BYTES = 64 * 1024
MAX_LIST_ENTRIES = 500
MAX_SEARCH_FILES = 2_000
MAX_SEARCH_FILE_BYTES = 1024 * 1024
MAX_SEARCH_MATCHES = 100
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".gogrid"}


class WorkspaceError(ValueError):
    """A path outside the workspace, or one that does not exist."""


def workspace_root(ctx: ToolContext | None) -> Path:
    configured = os.environ.get("GOGRID_WORKSPACE") or (ctx.workspace if ctx else None) or os.getcwd()
    root = Path(configured).expanduser().resolve()
    if not root.is_dir():
        raise WorkspaceError(f"workspace root {configured!r} is not a directory")
    return root


def resolve_inside(root: Path, path: str) -> Path:
    """`path` (relative to the root, or absolute) resolved; refused when outside the root."""
    target = (root / path).resolve()
    if target != root and not target.is_relative_to(root):
        raise WorkspaceError(f"{path!r} is outside the workspace; paths must stay inside the workspace root")
    return target


def _relative(root: Path, p: Path) -> str:
    return str(p.relative_to(root)) if p != root else "."


def _inside(root: Path, p: Path) -> bool:
    try:
        resolved = p.resolve()
    except OSError:
        return False
    return resolved == root or resolved.is_relative_to(root)


@tool
def read_file(path: str, ctx: ToolContext, offset: int = 0, max_bytes: int = MAX_READ_BYTES) -> dict[str, Any]:
    """Read a text file in the workspace (at most 64 KiB per call; use offset to page on).

    Args:
        path: file path relative to the workspace root.
        offset: byte offset to start reading at.
        max_bytes: how many bytes to read, up to 65536.
    """
    root = workspace_root(ctx)
    target = resolve_inside(root, path)
    if not target.exists():
        raise WorkspaceError(f"{path!r} does not exist")
    if target.is_dir():
        raise WorkspaceError(f"{path!r} is a directory; use list_files")
    if offset < 0 or max_bytes < 1:
        raise WorkspaceError("offset must be >= 0 and max_bytes >= 1")
    size = target.stat().st_size
    limit = min(max_bytes, MAX_READ_BYTES)
    with target.open("rb") as f:
        f.seek(offset)
        data = f.read(limit)
    if b"\x00" in data[:1024]:
        raise WorkspaceError(f"{path!r} looks like a binary file ({size} bytes)")
    end = offset + len(data)
    return {
        "path": _relative(root, target),
        "size": size,
        "offset": offset,
        "text": data.decode("utf-8", errors="replace"),
        "truncated": end < size,
        "next_offset": end if end < size else None,
    }


@tool
def list_files(ctx: ToolContext, path: str = ".", pattern: str = "*", recursive: bool = False) -> dict[str, Any]:
    """List files and folders in a workspace folder (at most 500 entries).

    Args:
        path: folder relative to the workspace root.
        pattern: shell-style filter on names, e.g. "*.md".
        recursive: include sub-folders' contents.
    """
    root = workspace_root(ctx)
    folder = resolve_inside(root, path)
    if not folder.is_dir():
        raise WorkspaceError(f"{path!r} is not a folder")
    entries: list[dict[str, Any]] = []
    truncated = False
    for p in _walk(root, folder, recursive):
        if not fnmatch.fnmatch(p.name, pattern):
            continue
        if len(entries) >= MAX_LIST_ENTRIES:
            truncated = True
            break
        try:
            is_dir = p.is_dir()
            size = None if is_dir else p.stat().st_size
        except OSError:  # a dangling symlink
            entries.append({"path": _relative(root, p), "type": "broken link", "size": None})
            continue
        entries.append({"path": _relative(root, p), "type": "dir" if is_dir else "file", "size": size})
    return {"folder": _relative(root, folder), "entries": entries, "truncated": truncated}


@tool
def search_files(query: str, ctx: ToolContext, path: str = ".", pattern: str = "*", ignore_case: bool = True) -> dict[str, Any]:
    """Find lines containing a text in the workspace's files (at most 100 matches).

    Args:
        query: the text to look for.
        path: folder to search, relative to the workspace root.
        pattern: shell-style filter on file names, e.g. "*.py".
        ignore_case: match regardless of case.
    """
    if not query:
        raise WorkspaceError("query must not be empty")
    root = workspace_root(ctx)
    folder = resolve_inside(root, path)
    files = [folder] if folder.is_file() else [p for p in _walk(root, folder, True) if p.is_file() and fnmatch.fnmatch(p.name, pattern)]
    needle = query.lower() if ignore_case else query
    matches: list[dict[str, Any]] = []
    scanned = 0
    for f in files:
        if len(matches) >= MAX_SEARCH_MATCHES or scanned >= MAX_SEARCH_FILES:
            break
        scanned += 1
        try:
            if f.stat().st_size > MAX_SEARCH_FILE_BYTES:
                continue
            data = f.read_bytes()
        except OSError:
            continue
        if b"\x00" in data[:1024]:
            continue
        for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if needle in (line.lower() if ignore_case else line):
                matches.append({"path": _relative(root, f), "line": n, "text": line.strip()[:200]})
                if len(matches) >= MAX_SEARCH_MATCHES:
                    break
    return {"query": query, "matches": matches, "files_scanned": scanned, "truncated": len(matches) >= MAX_SEARCH_MATCHES or scanned >= MAX_SEARCH_FILES}


def _walk(root: Path, folder: Path, recursive: bool) -> list[Path]:
    """Entries under `folder`, sorted, skipping hidden build folders and anything whose real
    location is outside the root (a symlink pointing out)."""
    out: list[Path] = []
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            children = sorted(current.iterdir())
        except OSError:
            continue
        for child in children:
            if not _inside(root, child):
                continue
            out.append(child)
            if recursive and child.is_dir() and not child.is_symlink() and child.name not in SKIP_DIRS:
                stack.append(child)
        if len(out) > MAX_SEARCH_FILES * 5:
            break
    return out
