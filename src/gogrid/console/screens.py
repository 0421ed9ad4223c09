"""Modal screens: confirmation for destructive actions, help, and the launcher."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option


class ConfirmScreen(ModalScreen[bool]):
    """Asks before anything destructive; `y` confirms, `n`/Escape cancels."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "Cancel", show=False),
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Label(Text(self.title_text, style="bold red"), id="confirm-title")
            yield Static(self.body, id="confirm-body")
            yield Label(Text.from_markup("[b]y[/b] confirm    [b]n[/b] / [b]Esc[/b] cancel"), id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class HelpScreen(ModalScreen[None]):
    """Every binding with its current key (after the user keymap), grouped."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss_help", "Close", id="help.close")]

    def __init__(self, rows: list[tuple[str, str, str, str]], keymap_note: str) -> None:
        super().__init__()
        self.rows = rows
        self.keymap_note = keymap_note

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("Key", style="bold cyan", no_wrap=True)
        table.add_column("Action")
        table.add_column("Where", style="dim")
        table.add_column("Id", style="dim")
        for key, desc, where, action_id in self.rows:
            table.add_row(key, desc, where, action_id)
        with Vertical(id="help-box"):
            yield Label(Text("GoGrid console - keys", style="bold"))
            with VerticalScroll():
                yield Static(table)
            yield Label(Text(self.keymap_note, style="dim"))

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


class LaunchScreen(ModalScreen[tuple[Path, str] | None]):
    """Pick a manifest and type the run's input."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="launch.cancel")]

    def __init__(self, manifests: list[Path]) -> None:
        super().__init__()
        self.manifests = manifests

    def compose(self) -> ComposeResult:
        with Vertical(id="launch-box"):
            yield Label(Text("Launch a run", style="bold"))
            yield Input(placeholder="input for the run (Enter on a manifest launches)", id="launch-input")
            yield OptionList(*[Option(str(p), id=str(i)) for i, p in enumerate(self.manifests)], id="launch-list")
            if not self.manifests:
                yield Label("No manifests in ./sample_configs or the current folder; use :launch PATH")

    def on_mount(self) -> None:
        self.query_one("#launch-list", OptionList).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#launch-list", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        text = self.query_one("#launch-input", Input).value
        self.dismiss((self.manifests[int(event.option.id or 0)], text))

    def action_cancel(self) -> None:
        self.dismiss(None)
