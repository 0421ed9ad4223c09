"""`gogrid-tui [MANIFEST...] [--db FILE]`: the terminal console."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="gogrid-tui", description="GoGrid terminal console: watch, steer and stop agents live; dig into past runs.")
    p.add_argument("manifests", nargs="*", metavar="MANIFEST", help="manifests to launch at once (none: open on the runs history)")
    p.add_argument("--db", metavar="FILE", help="DuckDB file (default: $GOGRID_DB or ./.gogrid/gogrid.duckdb)")
    p.add_argument("--no-db", action="store_true", help="run without a database (nothing is recorded)")
    p.add_argument("--input", "-i", metavar="TEXT", default="", help="input for the launched runs")
    p.add_argument("--replay", metavar="FILE", action="append", default=[], help="replay a JSONL event log (gogrid run --log-file) read-only")
    p.add_argument("--theme", choices=["dark", "light"], help="colour theme")
    p.add_argument("--keymap", metavar="FILE", help="keymap TOML (default: $GOGRID_KEYMAP or ~/.config/gogrid/keymap.toml)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from gogrid.console.actions import KeymapError, load_keymap

    for m in args.manifests:
        if not Path(m).is_file():
            print(f"gogrid-tui: {m}: no such manifest file", file=sys.stderr)
            return 2
    for r in args.replay:
        if not Path(r).is_file():
            print(f"gogrid-tui: --replay {r}: no such file", file=sys.stderr)
            return 2
    try:
        keymap = load_keymap(Path(args.keymap) if args.keymap else None)
    except KeymapError as e:
        print(f"gogrid-tui: keymap: {e}", file=sys.stderr)
        return 2
    db: str | None = None
    if not args.no_db:
        db = args.db or os.environ.get("GOGRID_DB") or str(Path(".gogrid") / "gogrid.duckdb")
        Path(db).parent.mkdir(parents=True, exist_ok=True)
    from gogrid.console.app import GoGridApp

    app = GoGridApp(
        args.manifests, db=db, run_input=args.input, replay=args.replay, keymap=keymap,
        theme={"dark": "textual-dark", "light": "textual-light"}.get(args.theme or ""),
    )
    code = app.run()
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
