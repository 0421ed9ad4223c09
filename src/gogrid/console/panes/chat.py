"""Chat room: the selected team's or agent's messages as they arrive, with model output
streaming in below, tool calls folded onto one line, and votes and consensus marked."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import RichLog, Static

from gogrid.console.format import one_line, speaker_colour
from gogrid.console.panes.base import Pane
from gogrid.console.state import ChatItem

BACKLOG = 150  # items rendered when the selection changes; older ones stay in the state
STREAMS_SHOWN = 4


def render_item(item: ChatItem) -> Text:
    t = Text()
    if item.round is not None:
        t.append(f"r{item.round} ", style="dim")
    if item.kind == "vote":
        t.append("vote ", style="bold yellow")
        t.append(item.sender, style=f"bold {speaker_colour(item.sender)}")
        t.append(f": {one_line(item.text, 200)}")
        return t
    if item.kind == "consensus":
        t.append("== ", style="bold")
        t.append(f"{item.sender}: {one_line(item.text, 200)}", style="bold yellow" if item.role != "system" else "bold magenta")
        t.append(" ==", style="bold")
        return t
    if item.kind == "tool":
        t.append("  ↳ ", style="dim")
        t.append(item.sender, style="italic")
        t.append(f" {one_line(item.text, 100)}", style="dim")
        return t
    colour = "white" if item.role == "user" else speaker_colour(item.sender)
    t.append(item.sender, style=f"bold {colour}")
    t.append(" ")
    if item.text:
        t.append(item.text)
    for call in item.tool_calls:
        t.append("\n  ⚙ ", style="dim")
        t.append(str(call.get("name", "?")), style="bold")
        t.append(f"({one_line(call.get('arguments', ''), 80)})", style="dim")
    return t


class ChatPane(Pane):
    TITLE = "Chat"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._shown_seq = 0
        self._shown_for: object = ()

    def compose_body(self) -> ComposeResult:
        yield RichLog(id="chat-log", wrap=True, markup=False, max_lines=2000, auto_scroll=True, min_width=20)
        yield Static("", id="chat-streams")

    def focus_main(self) -> None:
        self.query_one("#chat-log", RichLog).focus()

    def _wanted(self, item: ChatItem) -> bool:
        gg = self.gg
        if not gg.state.under(item.span_id, gg.selected):
            return False
        if item.in_room:
            # Prompts built from the room's transcript are noise; at team level the room carries
            # the replies, so only the agent's tool calls and results are added to it.
            if item.role == "user":
                return False
            if item.span_id != gg.selected and not (item.tool_calls or item.kind == "tool"):
                return False
        return self.matches(item.sender, item.text, item.room)

    def redraw(self, force: bool = False) -> None:
        gg = self.gg
        state = gg.state
        log = self.query_one("#chat-log", RichLog)
        key = (gg.selected, self.filter_text)
        if force or key != self._shown_for:
            self._shown_for = key
            log.clear()
            items = []
            for item in reversed(state.chat):
                if self._wanted(item):
                    items.append(item)
                    if len(items) >= BACKLOG:
                        break
            for item in reversed(items):
                log.write(render_item(item))
        else:
            fresh = []
            for item in reversed(state.chat):
                if item.seq <= self._shown_seq:
                    break
                if self._wanted(item):
                    fresh.append(item)
            for item in reversed(fresh):
                log.write(render_item(item))
        self._shown_seq = state.chat_seq
        node = state.nodes.get(gg.selected or "")
        title = f"{self.TITLE}: {node.path}" if node else self.TITLE
        if title != self.border_title:
            self.border_title = title
        streams = [s for s in state.streams.values() if s.parts and state.under(s.agent_span, gg.selected)]
        box = self.query_one("#chat-streams", Static)
        # A fixed-height box, shown or hidden only on change: updating it never re-lays the screen.
        if box.display != bool(streams):
            box.display = bool(streams)
        if not streams:
            return
        t = Text()
        for s in streams[-STREAMS_SHOWN:]:
            if t:
                t.append("\n")
            t.append(s.agent, style=f"bold {speaker_colour(s.agent)}")
            t.append(" ▍ ", style="dim")
            t.append(s.text[-160:].replace("\n", " "), style="italic")
        if len(streams) > STREAMS_SHOWN:
            t.append(f"\n… {len(streams) - STREAMS_SHOWN} more agents typing", style="dim")
        box.update(t, layout=False)
