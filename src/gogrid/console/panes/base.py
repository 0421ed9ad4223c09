"""What every pane shares: a border title, a `/` filter box, maximise, redraw on demand.

Panes never do engine work: they read the App's state when the App asks them to redraw (a few
times per second at most) and post messages for anything the App should act on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input

if TYPE_CHECKING:
    from gogrid.console.app import GoGridApp


class FilterInput(Input):
    """The `/` box at the bottom of a pane; Enter applies, Escape clears and closes."""

    BINDINGS = [("escape", "close", "Close filter")]

    def action_close(self) -> None:
        self.value = ""
        pane = next(a for a in self.ancestors if isinstance(a, Pane))
        pane.apply_filter("")


class Pane(Vertical):
    """A titled, maximisable pane with a filter."""

    ALLOW_MAXIMIZE = True
    TITLE = ""
    DEFAULT_CLASSES = "pane"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filter_text = ""
        self.border_title = self.TITLE

    @property
    def gg(self) -> GoGridApp:
        return cast("GoGridApp", self.app)

    def compose(self) -> ComposeResult:
        yield from self.compose_body()
        yield FilterInput(placeholder="filter (Enter to apply, Esc to clear)", classes="filter")

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def open_filter(self) -> None:
        box = self.query_one(FilterInput)
        box.display = True
        box.value = self.filter_text
        box.focus()
        self.call_after_refresh(box.focus)  # in case it was not displayed yet when asked

    def apply_filter(self, text: str) -> None:
        self.filter_text = text.strip().lower()
        box = self.query_one(FilterInput)
        box.display = bool(self.filter_text)
        self.border_subtitle = f"/{self.filter_text}" if self.filter_text else ""
        self.redraw(force=True)
        self.focus_main()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if isinstance(event.input, FilterInput):
            event.stop()
            self.apply_filter(event.value)

    def matches(self, *texts: Any) -> bool:
        if not self.filter_text:
            return True
        return any(self.filter_text in str(t).lower() for t in texts if t is not None)

    def focus_main(self) -> None:
        """Give focus to the pane's main widget."""

    def redraw(self, force: bool = False) -> None:
        """Bring the widgets up to date with the App's state."""
