"""The GoGrid console: a Textual App that embeds the engine (a Host) in its own asyncio loop.

Data flow: the engine publishes events on the Host's bus; the console's subscriber only appends
them to a buffer (the engine never waits). A timer drains the buffer a few times per second into
`ConsoleState` and asks the visible panes that changed to redraw (coalesced updates). Panes never
do engine work: they post messages, and the App alone sends commands (launch, kill, set a limit)
and runs blocking reads (SQL, history, replays) in worker threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
from textual import work
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import ContentSwitcher, Footer, Header, Input

from gogrid.console import actions
from gogrid.console.commands import GoGridCommands
from gogrid.console.data import DataSource, SqlError, read_jsonl
from gogrid.console.panes.agents import AgentsPane
from gogrid.console.panes.base import Pane
from gogrid.console.panes.budgets import BudgetRow, BudgetsPane
from gogrid.console.panes.chat import ChatPane
from gogrid.console.panes.memory import MemoryPane
from gogrid.console.panes.runs import RunsPane, find_manifests
from gogrid.console.panes.sql import SQL_KEYS, SqlPane
from gogrid.console.panes.traces import TracesPane
from gogrid.console.screens import ConfirmScreen, HelpScreen, LaunchScreen
from gogrid.console.state import ConsoleState
from gogrid.engine.bus import BufferedSubscriber
from gogrid.events import Event

# view name -> (container id, panes shown in it)
VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "agents": ("view-agents", ("agents", "chat")),
    "chat": ("view-agents", ("agents", "chat")),
    "budgets": ("view-budgets", ("budgets",)),
    "traces": ("view-traces", ("traces",)),
    "memory": ("view-memory", ("memory",)),
    "sql": ("view-sql", ("sql",)),
    "runs": ("view-runs", ("runs",)),
}
DRAIN_BUDGET_S = 0.04  # at most this long applying events per tick; the rest waits for the next
BUSY_EVENTS_PER_TICK = 200  # above this many events per tick, redraw at most every BUSY_REDRAW_S
BUSY_REDRAW_S = 1.0
SELECT_SETTLE_S = 0.15
DEFAULT_INPUT = "Should we launch the beta next Tuesday?"  # when a run is launched without one


class HistoryLoaded(Message):
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows


class ReplayLoaded(Message):
    def __init__(self, run_id: str | None, events: list[Event]) -> None:
        super().__init__()
        self.run_id = run_id
        self.events = events


class SqlDone(Message):
    def __init__(self, columns: list[str], rows: list[tuple[Any, ...]], seconds: float) -> None:
        super().__init__()
        self.columns, self.rows, self.seconds = columns, rows, seconds


class SqlFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class HostReady(Message):
    pass


class CommandLine(Input):
    """The `:` prompt (`:runs`, `:sql`, `:launch FILE`, `:kill`, `:theme light`, `:q`)."""

    BINDINGS = [("escape", "close", "Close")]

    def action_close(self) -> None:
        self.value = ""
        self.display = False
        self.app.set_focus(None)


class GoGridApp(App[int]):
    CSS_PATH = "gogrid.tcss"
    TITLE = "GoGrid"
    BINDINGS = actions.bindings()  # type: ignore[assignment]
    COMMANDS = App.COMMANDS | {GoGridCommands}
    AUTO_FOCUS = "#agents-table"  # never the hidden `:` prompt; the runs view sets its own
    # Below 110 columns the agents tree and the chat stack vertically (80x24 over SSH).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    def __init__(
        self,
        manifests: Sequence[str | Path] = (),
        *,
        db: str | Path | None = None,
        run_input: str = "",
        replay: Sequence[str | Path] = (),
        keymap: dict[str, str] | None = None,
        live_clock: bool = True,
        tick: float = 0.25,
        search_dirs: Sequence[Path] | None = None,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        from gogrid.host import Host

        self.host = Host(db=db) if db is not None else Host()
        self.feed = BufferedSubscriber()
        self.host.bus.subscribe(self.feed)
        self.state = ConsoleState()
        self.data = DataSource(self.host)
        self.manifests = [Path(m) for m in manifests]
        self.run_input = run_input
        self.replay_files = [Path(p) for p in replay]
        self.user_keymap = keymap or {}
        self.live_clock = live_clock
        self.tick = tick
        self.search_dirs = list(search_dirs) if search_dirs is not None else [Path("sample_configs"), Path(".")]
        self.selected: str | None = None
        self.view = "agents" if (manifests or replay) else "runs"
        if self.view == "runs":
            self.AUTO_FOCUS = "#runs-table"  # type: ignore[misc]  # per instance: where the app opens
        self.handles: dict[str, Any] = {}
        self.host_ready = False
        self._pending: set[str] = set()
        self._stop = anyio.Event()
        self._host_worker: Any = None
        self._history_at = 0.0
        self._budgets_at = 0.0
        self._redrawn_at = 0.0
        self._select_timer: Any = None
        self.redraws = 0  # counted for the benchmark
        if theme:
            self.theme = theme

    # --- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with ContentSwitcher(initial=VIEWS[self.view][0], id="views"):
            with Horizontal(id="view-agents"):
                yield AgentsPane(id="agents")
                yield ChatPane(id="chat")
            yield BudgetsPane(id="view-budgets")
            yield TracesPane(id="view-traces")
            yield MemoryPane(id="view-memory")
            yield SqlPane(id="view-sql")
            yield RunsPane(id="view-runs")
        yield CommandLine(placeholder=":runs  :sql  :budgets  :traces  :memory  :agents  :launch FILE  :kill  :theme light|dark  :q", id="command-line")
        yield Footer(compact=True, show_command_palette=False)

    def pane(self, name: str) -> Pane:
        ids = {"agents": "#agents", "chat": "#chat", "budgets": "#view-budgets", "traces": "#view-traces", "memory": "#view-memory", "sql": "#view-sql", "runs": "#view-runs"}
        return self.query_one(ids[name], Pane)

    # --- lifecycle -------------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.query_one("#command-line").display = False
        for p in self.query(Pane):
            p.query_one(".filter").display = False
        self.query_one(RunsPane).set_manifests(find_manifests(self.search_dirs))
        self._host_worker = self.run_worker(self._host_main(), name="host", group="host", exit_on_error=True)
        self.set_interval(self.tick, self.drain)
        for path in self.replay_files:
            self.load_replay_file(path)
        self._update_subtitle()
        self.call_after_refresh(self.pane(VIEWS[self.view][1][0]).focus_main)

    async def _host_main(self) -> None:
        from gogrid.host import Host
        from gogrid.store import StoreError

        host = self.host
        try:
            await host.__aenter__()
        except StoreError as e:
            # Another process owns the database: run unrecorded here and read through its channel.
            self.notify(f"{e}\nRuns launched here are not recorded; SQL and history ask the owner.", title="database busy", severity="warning", timeout=15)
            self.data.remote_db = host.db_path
            self.host = host = Host(bus=host.bus)
            self.data.host = host
            await host.__aenter__()
        exc: tuple[Any, Any, Any] = (None, None, None)
        try:
            self.post_message(HostReady())
            await self._stop.wait()
        except BaseException as e:
            exc = (type(e), e, e.__traceback__)
            raise
        finally:
            await host.__aexit__(*exc)

    def on_host_ready(self, _: HostReady) -> None:
        self.host_ready = True
        for m in self.manifests:
            self.launch(m, self.run_input)
        if self.view == "runs":
            self.refresh_history()

    async def shutdown(self) -> None:
        """Cancel live runs (they are recorded as cancelled), close the Host, then leave."""
        for rt in self.host.runtimes:
            for h in rt.live_runs():
                rt.cancel(h.run_id, "console closed")
        self._stop.set()
        if self._host_worker is not None:
            with anyio.move_on_after(15):
                await self._host_worker.wait()

    async def action_quit(self) -> None:
        await self.shutdown()
        self.exit(0)

    # --- the event feed --------------------------------------------------------------------------

    def drain(self) -> None:
        """Fold buffered events into the state, then redraw the visible panes that changed.

        Under heavy load (thousands of events per tick) redraws slow down to once a second:
        repainting costs the same whatever changed, and the engine shares this loop."""
        deadline = time.perf_counter() + DRAIN_BUDGET_S
        folded = 0
        while len(self.feed):
            batch = self.feed.drain(4000)
            folded += len(batch)
            self.state.apply_all(batch)
            if time.perf_counter() > deadline:
                break
        now = time.monotonic()
        busy = folded + len(self.feed) > BUSY_EVENTS_PER_TICK
        if busy and now - self._redrawn_at < BUSY_REDRAW_S:
            return
        self._redrawn_at = now
        self.redraw_dirty()

    def redraw_dirty(self) -> None:
        state = self.state
        if state.dirty:
            self._pending |= state.dirty
            state.dirty = set()
            self._update_subtitle()
        if "runs" in self._pending and self.view == "runs" and time.monotonic() - self._history_at > 2:
            self.refresh_history()
        visible = VIEWS[self.view][1]
        for name in visible:
            if name in self._pending:
                self._pending.discard(name)
                self.pane(name).redraw()
                self.redraws += 1
        if any(r.status == "running" for r in self.state.runs.values()):
            if "agents" in visible:
                self.pane("agents").redraw()  # elapsed times of live rows
            if "budgets" in visible and time.monotonic() - self._budgets_at >= 1.0:
                self._budgets_at = time.monotonic()
                self.pane("budgets").redraw()  # burn rates move with time

    def _update_subtitle(self) -> None:
        runs = self.state.runs.values()
        live = sum(1 for r in runs if r.status == "running")
        parts = [f"{live} live", f"{len(self.state.runs)} run(s)"]
        if self.host.db_path is not None:
            parts.append(str(self.host.db_path))
        text = " · ".join(parts)
        if text != self.sub_title:
            self.sub_title = text

    # --- selection and views ---------------------------------------------------------------------

    def on_agents_pane_selected(self, message: AgentsPane.Selected) -> None:
        self.select(message.span_id)

    def select(self, span_id: str | None) -> None:
        """The cursor moves at once; the panes it drives follow when it rests for a moment, so
        holding an arrow key through a big tree never redraws the chat for every row."""
        if span_id == self.selected:
            return
        self.selected = span_id
        self._pending |= {"chat", "traces", "budgets", "memory"}
        if self._select_timer is not None:
            self._select_timer.stop()
        self._select_timer = self.set_timer(SELECT_SETTLE_S, self.redraw_dirty)

    def action_show_view(self, name: str) -> None:
        if name not in VIEWS:
            self.notify(f"no view {name!r}; views: {', '.join(VIEWS)}", severity="warning")
            return
        self.view = name
        self.query_one("#views", ContentSwitcher).current = VIEWS[name][0]
        for pane_name in VIEWS[name][1]:
            self._pending.add(pane_name)
        if name == "runs":
            self.refresh_history()
        if name == "sql":
            self._pending.add("sql")
        self.redraw_dirty()
        # Focus once the switched-in view is displayed (a hidden widget cannot take focus).
        self.call_after_refresh(self.pane("chat" if name == "chat" else VIEWS[name][1][0]).focus_main)

    def focused_pane(self) -> Pane:
        node = self.focused
        while node is not None:
            if isinstance(node, Pane):
                return node
            node = node.parent  # type: ignore[assignment]
        return self.pane(VIEWS[self.view][1][0])

    def action_filter(self) -> None:
        self.focused_pane().open_filter()

    def action_toggle_maximize(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
        else:
            screen.maximize(self.focused_pane(), container=False)

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def action_command_line(self) -> None:
        line = self.query_one("#command-line", CommandLine)
        line.display = True
        line.value = ""
        line.focus()
        self.call_after_refresh(line.focus)  # in case it was not displayed yet when asked

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not isinstance(event.input, CommandLine):
            return
        event.stop()
        event.input.display = False
        self.run_command_line(event.value)

    def run_command_line(self, text: str) -> None:
        words = text.strip().lstrip(":").split(maxsplit=2)
        if not words:
            return
        cmd, args = words[0].lower(), words[1:]
        if cmd in VIEWS:
            self.action_show_view(cmd)
        elif cmd in ("q", "quit"):
            self.run_worker(self.action_quit())
        elif cmd in ("help", "?"):
            self.action_help()
        elif cmd == "launch" and args:
            self.launch(Path(args[0]), args[1] if len(args) > 1 else self.run_input)
        elif cmd == "launch":
            self.action_launch()
        elif cmd == "kill":
            self.action_kill()
        elif cmd == "theme":
            self.theme = "textual-light" if args and args[0] == "light" else "textual-dark"
        elif cmd in ("open", "replay") and args:
            self.open_run(args[0])
        else:
            self.notify(f"unknown command :{cmd} (try :runs :sql :budgets :traces :memory :agents :launch :kill :theme :q)", severity="warning")

    # --- runs ------------------------------------------------------------------------------------

    def launch(self, path: str | Path, text: str = "") -> Any:
        if not self.host_ready:
            self.notify("the engine is still starting", severity="warning")
            return None
        from gogrid.config.errors import ManifestError

        try:
            rt = self.host.load(path)
        except ManifestError as e:
            self.notify(str(e), title="manifest error", severity="error", timeout=15)
            return None
        except (OSError, ValueError) as e:
            self.notify(f"{path}: {e}", title="cannot launch", severity="error", timeout=15)
            return None
        handle = rt.start(text or DEFAULT_INPUT, labels={"name": rt.name})
        self.handles[handle.run_id] = (rt, handle)
        self.notify(f"launched {rt.name} ({handle.run_id})", timeout=3)
        return handle

    def action_launch(self) -> None:
        manifests = find_manifests(self.search_dirs)

        def chosen(result: tuple[Path, str] | None) -> None:
            if result is not None:
                self.launch(result[0], result[1] or self.run_input)
                self.action_show_view("agents")

        self.push_screen(LaunchScreen(manifests), chosen)

    def on_runs_pane_launch(self, message: RunsPane.Launch) -> None:
        if self.launch(message.path, self.run_input) is not None:
            self.action_show_view("agents")

    def kill_target(self) -> str | None:
        """What `k` would stop: the highlighted budget's scope in the budgets view, else the
        node selected in the agents tree."""
        if self.view == "budgets":
            row = self.query_one(BudgetsPane).highlighted()
            if row is not None and row.span_id:
                return row.span_id
        return self.selected

    def action_kill(self) -> None:
        span_id = self.kill_target()
        node = self.state.nodes.get(span_id or "")
        run = self.state.runs.get(node.run_id) if node else None
        if node is None or run is None or run.replayed or not node.live or self.host.find_scope(node.span_id) is None:
            self.notify("nothing live is selected to kill", severity="warning")
            return
        agents = [n for n in self.state.subtree(node.span_id) if n.kind == "agent" and n.live]
        names = ", ".join(a.name for a in agents[:8]) + (f" and {len(agents) - 8} more" if len(agents) > 8 else "")
        body = f"{node.kind} {node.path}\nrun {node.run_id}\n\nThis stops {len(agents)} live agent(s)" + (f": {names}" if names else "") + ".\nIn-flight model and tool calls are cancelled; the record keeps what happened."

        def answered(yes: bool | None) -> None:
            if yes:
                killed = self.host.kill(node.span_id, reason="killed from the console", actor="console")
                if killed is None:
                    self.notify(f"{node.path} had already finished", severity="warning")
                else:
                    self.notify(f"killed {node.path}", severity="warning")

        self.push_screen(ConfirmScreen(f"Kill {node.kind} {node.name}?", body), answered)

    # --- budgets ---------------------------------------------------------------------------------

    @property
    def governor(self) -> Any:
        return getattr(self.host, "governor", None)

    def budget_rows(self) -> list[BudgetRow]:
        """Live budgets from the governor; replayed ones from their events; and for a run with
        no budget at all, what it has spent so far (limit: none)."""
        state = self.state
        run_filter = state.run_of(self.selected)
        rows: list[BudgetRow] = []
        covered: set[tuple[str, str, str]] = set()
        runs_covered: set[str] = set()
        gov = self.governor
        for b in (gov.snapshot() if gov is not None and hasattr(gov, "snapshot") else []):
            run_id = b.run_id or ""
            if run_filter and run_id and run_id != run_filter:
                continue
            run = state.runs.get(run_id)
            spent = b.spent + getattr(b, "history", 0.0)
            ttl = (b.limit - spent) / b.burn_rate if b.limit is not None and b.burn_rate > 0 else None
            status = "exceeded" if b.limit is not None and spent >= b.limit else (run.status if run else "live")
            rows.append(BudgetRow(f"gov:{run_id}:{b.scope}:{b.metric}", run_id, b.scope, self._scope_span(run_id, b.scope),
                                  b.metric, spent, b.limit, b.burn_rate, max(0.0, ttl) if ttl is not None else None,
                                  list(b.thresholds_crossed), status))
            covered.add((run_id, b.scope, b.metric))
            runs_covered.add(run_id)
        for b in state.budgets.values():
            if (run_filter and b.run_id != run_filter) or (b.run_id, b.scope, b.metric) in covered:
                continue
            run = state.runs.get(b.run_id)
            status = "exceeded" if b.exceeded else (run.status if run else "")
            rows.append(BudgetRow(b.key, b.run_id, b.scope, self._scope_span(b.run_id, b.scope), b.metric, b.spent, b.limit,
                                  b.burn_rate(), b.time_to_limit(), list(b.thresholds), status))
            runs_covered.add(b.run_id)
        for run in state.runs.values():
            if run.run_id in runs_covered or (run_filter and run.run_id != run_filter):
                continue
            root = state.nodes.get(run.span_id)
            if root is None:
                continue
            rows.append(BudgetRow(f"cost:{run.run_id}", run.run_id, root.path, root.span_id, "usd", root.cost, None, None, None, [], run.status))
        return rows

    def _scope_span(self, run_id: str, scope: str) -> str | None:
        if scope in self.state.nodes:
            return scope
        for n in self.state.nodes.values():
            if n.run_id == run_id and (n.path == scope or n.name == scope):
                return n.span_id
        run = self.state.runs.get(run_id)
        return run.span_id if run is not None and run.span_id in self.state.nodes else None

    def action_change_limit(self, factor: float) -> None:
        if self.view != "budgets":
            return
        row = self.query_one(BudgetsPane).highlighted()
        gov = self.governor
        if row is None or row.limit is None or not row.key.startswith("gov:"):
            self.notify("highlight a live budget with a limit to change it", severity="warning")
            return
        new = row.limit * factor
        if row.metric != "usd":
            new = float(max(1, round(new)))
        try:
            gov.set_limit(row.scope, row.metric, new, run_id=row.run_id or None, actor="console")
        except (KeyError, ValueError) as e:
            self.notify(f"cannot change the limit: {e}", severity="error")
            return
        self.notify(f"{row.scope}: {row.metric} limit set to {new:g}")
        self._pending.add("budgets")
        self.redraw_dirty()

    # --- database reads (worker threads) -----------------------------------------------------------

    def refresh_history(self) -> None:
        self._history_at = time.monotonic()
        if self.data.available:
            self._load_history()

    @work(thread=True, exclusive=True, group="history")
    def _load_history(self) -> None:
        try:
            res = self.data.runs()
        except SqlError as e:
            self.post_message(SqlFailed(f"runs history: {e}"))
            return
        self.post_message(HistoryLoaded([dict(zip(res.columns, row, strict=True)) for row in res.rows]))

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        self.query_one(RunsPane).set_history(message.rows)

    def on_runs_pane_open_run(self, message: RunsPane.OpenRun) -> None:
        self.open_run(message.run_id)

    def open_run(self, run_id: str) -> None:
        if run_id in self.state.runs:
            self._select_run(run_id)
            return
        self._read_run(run_id)

    @work(thread=True, group="replay")
    def _read_run(self, run_id: str) -> None:
        try:
            events = self.data.read_events(run_id)
        except SqlError as e:
            self.post_message(SqlFailed(f"replay {run_id}: {e}"))
            return
        self.post_message(ReplayLoaded(run_id, events))

    @work(thread=True, group="replay")
    def load_replay_file(self, path: Path) -> None:
        try:
            events = read_jsonl(path)
        except (OSError, ValueError) as e:
            self.post_message(SqlFailed(f"replay {path}: {e}"))
            return
        self.post_message(ReplayLoaded(None, events))

    def on_replay_loaded(self, message: ReplayLoaded) -> None:
        if not message.events:
            self.notify(f"run {message.run_id} has no recorded events", severity="warning")
            return
        known = set(self.state.runs)
        self.state.apply_all([e for e in message.events if e.run_id not in known], replayed=True)
        run_id = message.run_id or message.events[0].run_id
        if self.view not in ("agents", "chat", "traces"):
            self.action_show_view("agents")
        self.drain()
        self._select_run(run_id)

    def _select_run(self, run_id: str) -> None:
        run = self.state.runs.get(run_id)
        if run is None or run.span_id not in self.state.nodes:
            return
        self.select(run.span_id)
        self.redraw_dirty()
        self.pane("agents").redraw(force=True)

    def on_sql_pane_run_query(self, message: SqlPane.RunQuery) -> None:
        self._run_sql(message.sql)

    @work(thread=True, exclusive=True, group="sql")
    def _run_sql(self, sql: str) -> None:
        started = time.perf_counter()
        try:
            res = self.data.query(sql)
        except SqlError as e:
            self.post_message(SqlFailed(str(e)))
            return
        self.post_message(SqlDone(res.columns, res.rows, time.perf_counter() - started))

    def on_sql_done(self, message: SqlDone) -> None:
        self.query_one(SqlPane).show_result(message.columns, message.rows, message.seconds)

    def on_sql_failed(self, message: SqlFailed) -> None:
        if self.view == "sql":
            self.query_one(SqlPane).show_error(message.error)
        else:
            self.notify(message.error, severity="error", timeout=10)

    # --- help and palette --------------------------------------------------------------------------

    def key_for(self, action_id: str) -> str:
        keys = self._keymap.get(action_id) or actions.BY_ID[action_id].key
        return pretty_key(keys)

    def action_help(self) -> None:
        rows = [(self.key_for(a.id), a.description, a.group, a.id) for a in actions.ACTIONS]
        rows += [(pretty_key(key), desc, "sql pane", "") for key, _, desc in SQL_KEYS]
        rows += [("enter", "open the highlighted run (replay) / launch a manifest", "runs pane", ""),
                 ("escape", "close a filter, prompt or dialog; restore a zoomed pane", "anywhere", ""),
                 ("y / n", "confirm / cancel a destructive action", "dialogs", "")]
        note = 'Remap keys by id in ~/.config/gogrid/keymap.toml (or $GOGRID_KEYMAP), e.g. kill = "ctrl+k"'
        self.push_screen(HelpScreen(rows, note))

    def context_commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        cmds: list[tuple[str, str, Callable[[], Any]]] = []
        node = self.state.nodes.get(self.selected or "")
        if node is not None and node.live and not self.state.runs[node.run_id].replayed:
            cmds.append((f"Kill {node.kind} {node.path}", "stop it and everything under it (asks first)", self.action_kill))
        if node is not None:
            cmds.append((f"Traces of {node.path}", "waterfall of the selected run or node", lambda: self.action_show_view("traces")))
        for name in ("agents", "budgets", "traces", "memory", "sql", "runs"):
            cmds.append((f"Go to {name}", f":{name}", lambda n=name: self.action_show_view(n)))  # type: ignore[misc]
        for path in find_manifests(self.search_dirs):
            cmds.append((f"Launch {path}", "start a run of this manifest", lambda p=path: self.launch(p, self.run_input)))  # type: ignore[misc]
        cmds.append(("Toggle light/dark theme", "ctrl+t", self.action_toggle_theme))
        cmds.append(("Help: every key", "?", self.action_help))
        return cmds


PRETTY = {"question_mark": "?", "slash": "/", "colon": ":", "plus": "+", "minus": "-", "escape": "esc"}


def pretty_key(keys: str) -> str:
    return ",".join(PRETTY.get(k.strip(), k.strip()) for k in keys.split(","))
