"""`gogrid schema`: the JSON Schema of the manifest, for editors."""

from __future__ import annotations

import argparse
import json

COMMAND = "schema"
HELP = "print the JSON Schema of the manifest format"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")


def main(args: argparse.Namespace) -> int:
    from gogrid.config.schema import Manifest

    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "GoGrid manifest"
    text = json.dumps(schema, indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0
