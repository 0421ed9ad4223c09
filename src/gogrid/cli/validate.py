"""`gogrid validate FILE...`: check manifests without running them."""

from __future__ import annotations

import argparse
import sys

from gogrid.config.errors import ManifestError

COMMAND = "validate"
HELP = "check manifests (schema, references, tools, models) without running them"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="manifest files")


def main(args: argparse.Namespace) -> int:
    from gogrid.engine.runtime import Runtime
    from gogrid.models.http import keys_optional

    status = 0
    for f in args.files:
        try:
            # A missing API key is a warning here (CI checks manifests without keys); `run` refuses.
            with keys_optional() as missing:
                rt = Runtime.from_file(f)
        except ManifestError as e:
            for issue in e.issues:
                print(f"error: {issue}", file=sys.stderr)
            status = 2
            continue
        for problem in rt.tools.problems:
            print(f"warning: plugin {problem}", file=sys.stderr)
        for message in dict.fromkeys(missing):
            print(f"warning: {f}: {message}; `gogrid run` needs it", file=sys.stderr)
        print(f"ok: {f} ({rt.workflow.pattern} workflow {rt.workflow.name!r})")
    return status
