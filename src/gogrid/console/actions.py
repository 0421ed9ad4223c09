"""The one registry of console actions: keys, footer hints, help screen and keymap come from here.

Every action has a stable id. A user keymap (TOML, `GOGRID_KEYMAP` or
`~/.config/gogrid/keymap.toml`) maps ids to keys, e.g.

    kill = "ctrl+k"
    view.sql = "f5"

and Textual applies it through `App.set_keymap`, so the footer and the help screen show the
remapped keys too.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class ConsoleAction:
    id: str
    key: str
    action: str
    description: str
    footer: bool = True
    group: str = "general"
    destructive: bool = False


ACTIONS: tuple[ConsoleAction, ...] = (
    ConsoleAction("view.agents", "a", "show_view('agents')", "Agents", group="views"),
    ConsoleAction("view.budgets", "b", "show_view('budgets')", "Budget", group="views"),
    ConsoleAction("view.traces", "t", "show_view('traces')", "Trace", group="views"),
    ConsoleAction("view.memory", "m", "show_view('memory')", "Memory", footer=False, group="views"),
    ConsoleAction("view.sql", "s", "show_view('sql')", "SQL", group="views"),
    ConsoleAction("view.runs", "r", "show_view('runs')", "Runs", group="views"),
    ConsoleAction("launch", "l", "launch", "Launch", footer=False, group="runs"),
    ConsoleAction("kill", "k", "kill", "Kill", group="runs", destructive=True),
    ConsoleAction("limit.raise", "plus", "change_limit(1.5)", "Raise limit", footer=False, group="budgets"),
    ConsoleAction("limit.lower", "minus", "change_limit(0.5)", "Lower limit", footer=False, group="budgets"),
    ConsoleAction("filter", "slash", "filter", "Filter", group="panes"),
    ConsoleAction("maximize", "z", "toggle_maximize", "Zoom", footer=False, group="panes"),
    ConsoleAction("command_line", "colon", "command_line", "Go to", footer=False, group="general"),
    ConsoleAction("palette", "ctrl+p", "command_palette", "Palette", footer=False, group="general"),
    ConsoleAction("theme", "ctrl+t", "toggle_theme", "Theme", footer=False, group="general"),
    ConsoleAction("help", "question_mark", "help", "Help", group="general"),
    ConsoleAction("quit", "q", "quit", "Quit", group="general"),
)

BY_ID = {a.id: a for a in ACTIONS}


def bindings() -> list[Binding]:
    return [Binding(a.key, a.action, a.description, show=a.footer, id=a.id) for a in ACTIONS]


def keymap_path() -> Path:
    env = os.environ.get("GOGRID_KEYMAP")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "gogrid" / "keymap.toml"


class KeymapError(ValueError):
    pass


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """Read a keymap file: `action-id = "key[,key]"`, optionally under a `[keys]` table."""
    path = path or keymap_path()
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise KeymapError(f"{path}: {e}") from e
    table = data.get("keys", data)
    flat = _flatten(table)
    unknown = [k for k in flat if k not in BY_ID]
    if unknown:
        raise KeymapError(f"{path}: unknown action id(s) {', '.join(sorted(unknown))}; known: {', '.join(BY_ID)}")
    bad = [k for k, v in flat.items() if not isinstance(v, str) or not v]
    if bad:
        raise KeymapError(f"{path}: {', '.join(bad)}: expected a key string such as \"ctrl+k\"")
    return flat


def _flatten(table: dict[str, object], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in table.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v  # type: ignore[assignment]
    return out
