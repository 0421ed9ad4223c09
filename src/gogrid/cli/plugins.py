"""`gogrid plugins`: every tool that loads, with its source and schema."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COMMAND = "plugins"
HELP = "list the tools that plugins provide, with source and schema"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("manifest", nargs="?", help="use this manifest's plugin folders (default ./plugins)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def main(args: argparse.Namespace) -> int:
    from gogrid.config.errors import ManifestError
    from gogrid.config.loader import load_manifest
    from gogrid.engine.runtime import plugin_folders
    from gogrid.tools.plugins import load_plugins

    if args.manifest:
        try:
            folders = plugin_folders(load_manifest(args.manifest))
        except ManifestError as e:
            for issue in e.issues:
                print(f"error: {issue}", file=sys.stderr)
            return 2
    else:
        folders = [Path("plugins")]
    registry = load_plugins(folders)
    tools = sorted(registry.tools.values(), key=lambda t: t.name)
    if args.json:
        print(json.dumps([{"name": t.name, "description": t.description, "source": t.source, "schema": t.parameters} for t in tools], indent=2))
    else:
        for t in tools:
            print(f"{t.name}  ({t.source})\n  {t.description}\n  schema: {json.dumps(t.parameters)}")
    for problem in registry.problems:
        print(f"error: plugin {problem}", file=sys.stderr)
    return 1 if registry.problems and not tools else 0
