"""`gogrid`: the headless command line.

Each module in this package that defines `COMMAND` (its name), `add_arguments(parser)` and
`main(args) -> int` is a subcommand; adding a command is adding a module. Exit status: 0 success,
1 a run or query that failed, 2 a usage error (bad flag, bad manifest), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from gogrid.cli.common import UsageError, fail

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _commands() -> list[ModuleType]:
    mods = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "common":
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "COMMAND"):
            mods.append(mod)
    return sorted(mods, key=lambda m: m.COMMAND)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gogrid",
        description="Run LLM agent workflows from YAML manifests and query every run with SQL.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in _commands():
        p = sub.add_parser(mod.COMMAND, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP))
        mod.add_arguments(p)
        p.set_defaults(_main=mod.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._main(args))
    except UsageError as e:
        return fail(str(e), EXIT_USAGE)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # a bug, not a user mistake: one line, the traceback only on request
        if os.environ.get("GOGRID_DEBUG"):
            raise
        while isinstance(e, ExceptionGroup) and len(e.exceptions) == 1:
            e = e.exceptions[0]
        return fail(f"internal error: {type(e).__name__}: {e} (GOGRID_DEBUG=1 shows the traceback)", EXIT_FAILED)


if __name__ == "__main__":
    sys.exit(main())
