"""The Host: everything one GoGrid process owns.

One event bus, the database writer, the local channel other processes talk to, exporters, and
every Runtime loaded in this process (the console runs several manifests at once; `gogrid run`
runs one). Control commands (kill, budget changes) arrive here and are routed to the runtime
that holds the target.

    async with Host(db=path) as host:
        rt = host.load("team.yaml")
        result = await rt.run("Plan a launch")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskGroup

from gogrid.engine.bus import EventBus
from gogrid.engine.runtime import Runtime, Service
from gogrid.engine.scope import Scope


class Host:
    def __init__(
        self,
        *,
        db: str | Path | None = None,
        log_file: str | Path | None = None,
        bus: EventBus | None = None,
        budget_usd: float | None = None,
        governor: Any = None,
    ) -> None:
        from gogrid.governance import BudgetGovernor, control

        self.bus = bus or EventBus()
        # One governor for every runtime here: process-wide and rolling budgets see them all;
        # `budget_usd` is a hard limit on each run (`gogrid run --budget`).
        self.governor: BudgetGovernor = governor or BudgetGovernor(run_usd=budget_usd)
        self.governor.bus = self.bus
        self.db_path = Path(db) if db is not None else None
        self.log_file = log_file
        self.runtimes: list[Runtime] = []
        self.services: list[Service] = []
        self.store: Any = None  # gogrid.store.Store when `db` is set
        self.writer: Any = None
        self.channel: Any = None
        # Ops other processes can call over the local channel: `async (params, host) -> dict`.
        self.commands: dict[str, Any] = {}
        self._tg: TaskGroup | None = None
        control.install(self)  # kill, budget.set, budget.show over the local channel

    # --- lifecycle -----------------------------------------------------------------------------

    def _open_services(self) -> None:
        if self.log_file:
            from gogrid.telemetry.jsonl import JsonlExporter

            exporter = JsonlExporter(self.log_file)
            self.bus.subscribe(exporter)
            self.services.append(exporter)

    async def _open_store(self) -> None:
        """Own the database: open (migrate, mark runs of dead processes interrupted), persist
        every event, and answer other processes on the socket beside it."""
        from gogrid.store import ChannelServer, Store, StoreWriter

        assert self.db_path is not None
        self.store = await anyio.to_thread.run_sync(Store, self.db_path)
        try:
            self.writer = self.bus.subscribe(StoreWriter(self.store))
            self.channel = ChannelServer(self.store, host=self)
            await self.channel.open()
        except BaseException:
            self.store.close()
            raise
        self.services.extend([self.writer, self.channel])

    def register_command(self, op: str, handler: Any) -> None:
        """Answer `op` on this host's local channel (`gogrid kill`, budget changes, ...)."""
        self.commands[op] = handler

    async def __aenter__(self) -> Host:
        from gogrid.engine.gc_tuning import tune_gc

        tune_gc()  # this process owns the runs: collect garbage in fewer, larger batches
        if self.db_path is not None:
            await self._open_store()
            if self.governor.history is None:
                from gogrid.governance.history import from_store

                self.governor.history = from_store(self.store)  # rolling budgets read spend here
        self._open_services()
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        for s in self.services:
            self._tg.start_soon(s.run)
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        assert self._tg is not None
        tg, self._tg = self._tg, None
        for rt in self.runtimes:
            for handle in rt.live_runs():
                if exc[0] is not None:
                    rt.cancel(handle.run_id, "shutting down")
                with anyio.CancelScope(shield=True):
                    await handle.done.wait()
        with anyio.CancelScope(shield=True):
            for rt in self.runtimes:
                await rt.models.aclose()
            for s in reversed(self.services):
                await s.close()
            if self.store is not None:
                await anyio.to_thread.run_sync(self.store.close)
        tg.cancel_scope.cancel()
        return await tg.__aexit__(*exc)

    @property
    def task_group(self) -> TaskGroup:
        if self._tg is None:
            raise RuntimeError("the Host is not running; use `async with host:`")
        return self._tg

    # --- runtimes ------------------------------------------------------------------------------

    def load(self, path: str | Path, **options: Any) -> Runtime:
        """Load a manifest into a Runtime that shares this host's bus and services."""
        options.setdefault("governor", self.governor)
        rt = Runtime.from_file(path, bus=self.bus, **options)
        rt.attach(self.task_group)
        self.runtimes.append(rt)
        self._start_webhook(rt)
        return rt

    def _start_webhook(self, rt: Runtime) -> None:
        budgets = rt.loaded.manifest.budgets
        if budgets is None or budgets.webhook is None:
            return
        from gogrid.governance.webhook import WebhookNotifier

        notifier = WebhookNotifier(budgets.webhook, accept=lambda e: e.run_id in rt.runs)
        self.bus.subscribe(notifier)
        self.services.append(notifier)
        self.task_group.start_soon(notifier.run)

    def find_scope(self, target: str, node: str | None = None) -> tuple[Runtime, Scope] | None:
        for rt in self.runtimes:
            scope = rt.find_scope(target, node)
            if scope is not None:
                return rt, scope
        return None

    def kill(self, target: str, *, node: str | None = None, reason: str = "killed by operator", actor: str = "user") -> Scope | None:
        found = self.find_scope(target, node)
        if found is None:
            return None
        rt, scope = found
        return rt.kill(scope.span_id, reason=reason, actor=actor)
