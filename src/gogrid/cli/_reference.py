"""The command reference of docs/cli.md, generated from the argument parsers themselves.

    python -m gogrid.cli._reference docs/cli.md           # rewrite the generated part
    python -m gogrid.cli._reference --check docs/cli.md

Every subcommand module (see gogrid.cli) contributes a section; the prose around the markers is
written by hand. A test checks that the file matches the parsers.
"""

from __future__ import annotations

import argparse
import sys

from gogrid.config.reference import regenerate

BEGIN = "<!-- BEGIN GENERATED COMMANDS (python -m gogrid.cli._reference docs/cli.md) -->"
END = "<!-- END GENERATED COMMANDS -->"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, tuple[argparse.ArgumentParser, str]]:
    """Subcommand name -> (its parser, its one-line help)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            return {name: (sub, helps.get(name, "")) for name, sub in action.choices.items()}
    return {}


def _usage(name: str, p: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(prog=f"gogrid {name}", width=10_000)
    formatter.add_usage(p.usage, p._actions, p._mutually_exclusive_groups, prefix="")
    return formatter.format_help().strip()


def _row(action: argparse.Action) -> str | None:
    if isinstance(action, argparse._HelpAction | argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
        return None
    if action.option_strings:
        names = ", ".join(f"`{o}`" + (f" `{action.metavar or action.dest.upper()}`" if action.nargs != 0 else "") for o in action.option_strings)
    else:
        names = f"`{action.metavar or action.dest}`" + (" ..." if action.nargs in ("+", "*") else "")
    text = (action.help or "").replace("|", "\\|")
    if action.choices and not isinstance(action, argparse._SubParsersAction):
        text += f" (one of: {', '.join(str(c) for c in action.choices)})"
    default = action.default
    shown = action.option_strings and default not in (None, False, argparse.SUPPRESS, [], ()) and action.nargs != 0
    if shown and "default" not in text:
        text += f" (default: `{default}`)"
    return f"| {names} | {text} |"


def _section(name: str, p: argparse.ArgumentParser, summary: str) -> list[str]:
    parts = [f"### gogrid {name}", "", (p.description or summary).strip(), "", "```", _usage(name, p), "```", ""]
    rows = [r for r in (_row(a) for a in p._actions) if r]
    if rows:
        parts += ["| argument | meaning |", "|---|---|", *rows, ""]
    for sub_name, (sub, summary) in sorted(_subparsers(p).items()):
        parts += _section(f"{name} {sub_name}", sub, summary)
    return parts


def render() -> str:
    from gogrid.cli import build_parser

    parts = [BEGIN, ""]
    for name, (p, summary) in sorted(_subparsers(build_parser()).items()):
        parts += _section(name, p, summary)
    parts.append(END)
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    return regenerate(
        argv, description="Regenerate the command reference of docs/cli.md.", module="gogrid.cli._reference",
        generated=render, begin=BEGIN, end=END,
    )


if __name__ == "__main__":
    sys.exit(main())
