"""FastTable: a keyed, virtualised table that renders lines straight to strips.

Textual's DataTable renders every visible cell through Rich and drops its whole render cache on
any cell update; with thousands of live rows changing several times a second that costs more
than the engine it watches (and long paints delay every task sharing the loop). This table
keeps one cached strip per row, re-renders only rows that changed, and draws only the rows in
view. Cells are plain strings or (text, style) parts, so no markup is ever parsed.

It offers the small part of DataTable's API the console uses: add_row, update_row, clear,
row_count, cursor_row, move_cursor, get_row_index, get_row_at, and a Highlighted message.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Part = tuple[str, str]  # (text, style)
Cell = str | Text | Sequence[Part]


@lru_cache(maxsize=256)
def _style(spec: str) -> Style:
    return Style.parse(spec) if spec else Style()


def _parts(cell: Cell) -> list[Part]:
    if isinstance(cell, str):
        return [(cell, "")]
    if isinstance(cell, Text):
        if not cell.spans:
            return [(cell.plain, str(cell.style or ""))]
        return [(piece.plain, str(piece.style or "")) for piece in _split_by_spans(cell)]
    return list(cell)


def _split_by_spans(text: Text) -> list[Text]:
    offsets = sorted({0, len(text.plain), *[s.start for s in text.spans], *[s.end for s in text.spans]})
    out: list[Text] = []
    for a, b in pairwise(offsets):
        piece = text[a:b]
        styles = [str(s.style) for s in text.spans if s.start <= a and s.end >= b]
        piece.style = " ".join(x for x in [str(text.style or ""), *styles] if x)
        piece.spans = []
        out.append(piece)
    return out


def _plain(parts: list[Part]) -> str:
    return "".join(t for t, _ in parts)


class FastTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    FastTable {
        background: $surface;
        height: 1fr;
    }
    FastTable > .fasttable--header {
        text-style: bold;
        color: $text-accent;
    }
    FastTable > .fasttable--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    FastTable > .fasttable--cursor-blurred {
        background: $block-cursor-blurred-background;
    }
    """
    COMPONENT_CLASSES = {"fasttable--header", "fasttable--cursor", "fasttable--cursor-blurred"}
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=False, init=False)

    class Highlighted(Message):
        def __init__(self, table: FastTable, key: str | None, row: int) -> None:
            super().__init__()
            self.table = table
            self.key = key
            self.row = row

        @property
        def control(self) -> FastTable:
            return self.table

    class Selected(Highlighted):
        """Enter on a row."""

    def __init__(self, columns: Sequence[tuple[str, int | None]], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.labels = [c[0] for c in columns]
        self.fixed = [c[1] for c in columns]
        self.widths = [w if w is not None else len(label) for label, w in columns]
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: dict[str, list[list[Part]]] = {}
        self._strips: dict[str, Strip] = {}
        self._base = Style()
        self._header_style = Style()
        self._cursor_style = Style()

    # --- data ------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    def clear(self) -> None:
        self._keys, self._index, self._cells, self._strips = [], {}, {}, {}
        self.cursor_row = 0
        self._resize()

    def add_row(self, *cells: Cell, key: str) -> None:
        self.add_rows([(key, cells)])

    def add_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Append rows; the table is resized and repainted once for the whole batch."""
        if not rows:
            return
        first = not self._keys
        grew = False
        for key, cells in rows:
            parts = [_parts(c) for c in cells]
            self._index[key] = len(self._keys)
            self._keys.append(key)
            self._cells[key] = parts
            grew = self._grow(parts) or grew
        if grew:
            self._strips.clear()
        self._resize()
        self.refresh()
        if first:
            self._post_highlight()

    def update_row(self, key: str, cells: Sequence[Cell], start: int = 0) -> None:
        """Replace the cells from column `start` on; only that row is repainted."""
        row = self._cells.get(key)
        if row is None:
            return
        for i, c in enumerate(cells, start):
            row[i] = _parts(c)
        if self._grow(row):
            self._strips.clear()
            self._resize()
            self.refresh()
            return
        self._strips.pop(key, None)
        self._refresh_row(self._index[key])

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def get_row_at(self, index: int) -> list[str]:
        return [_plain(p) for p in self._cells[self._keys[index]]]

    def key_at(self, index: int) -> str | None:
        return self._keys[index] if 0 <= index < len(self._keys) else None

    @property
    def cursor_key(self) -> str | None:
        return self.key_at(self.cursor_row)

    def _grow(self, row: list[list[Part]]) -> bool:
        grew = False
        for i, parts in enumerate(row):
            if self.fixed[i] is None:
                n = len(_plain(parts))
                if n > self.widths[i]:
                    self.widths[i] = n
                    grew = True
        return grew

    def _resize(self) -> None:
        size = Size(sum(self.widths) + 2 * len(self.widths) + 1, len(self._keys) + 1)
        if size != self.virtual_size:
            self.virtual_size = size

    def _refresh_row(self, index: int) -> None:
        y = index - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh_line(y)

    # --- cursor --------------------------------------------------------------------------------

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        self.cursor_row = max(0, min(row, len(self._keys) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._strips.pop(self.key_at(old) or "", None)
        self._strips.pop(self.key_at(new) or "", None)
        self._refresh_row(old)
        self._refresh_row(new)
        self._scroll_to_cursor()
        self._post_highlight()

    def _post_highlight(self) -> None:
        self.post_message(self.Highlighted(self, self.cursor_key, self.cursor_row))

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(row=self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor_row + direction * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        self.move_cursor(row=where if where >= 0 else len(self._keys) - 1)

    def action_select(self) -> None:
        self.post_message(self.Selected(self, self.cursor_key, self.cursor_row))

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_cursor(row=int(self.scroll_y) + event.y - 1)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def on_focus(self) -> None:
        self._strips.pop(self.cursor_key or "", None)
        self._refresh_row(self.cursor_row)

    def on_blur(self) -> None:
        self.on_focus()

    # --- rendering -------------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles are resolved once per paint, not once per line.
        self._base = self.rich_style
        self._header_style = self.get_component_rich_style("fasttable--header")
        self._cursor_style = self.get_component_rich_style("fasttable--cursor" if self.has_focus else "fasttable--cursor-blurred")
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x = int(self.scroll_x)
        if y == 0:
            style = self._header_style
            strip = self._line([[(label, "")] for label in self.labels], style)
            return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, style)
        index = int(self.scroll_y) + y - 1
        key = self.key_at(index)
        base = self._base
        if key is None:
            return Strip.blank(width, base)
        cached = self._strips.get(key)
        if cached is not None:
            strip = cached
        else:
            cursor = self._cursor_style if index == self.cursor_row else None
            strip = self._line(self._cells[key], base, cursor)
            self._strips[key] = strip
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, base)

    def _line(self, row: list[list[Part]], base: Style, over: Style | None = None) -> Strip:
        segments: list[Segment] = [Segment(" ", base + over if over else base)]
        for parts, width in zip(row, self.widths, strict=False):
            used = 0
            for text, spec in parts:
                if used >= width:
                    break
                piece = text[: width - used]
                used += len(piece)
                style = base + _style(spec)
                segments.append(Segment(piece, style + over if over else style))
            segments.append(Segment(" " * (width - used + 2), base + over if over else base))
        return Strip(segments)
