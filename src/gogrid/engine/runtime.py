"""The Runtime: loads a manifest into runnable workflows, runs them under structured concurrency,
and answers control commands (kill, cancel) for the console and the CLI.

    async with Runtime.from_file("team.yaml", services=[store_writer]) as rt:
        result = await rt.run("Plan a launch")

Inside `async with`, background services (the store writer, exporters) run in the runtime's
task group and get a final flush on exit. Runs started with `start()` run there too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio
from anyio.abc import TaskGroup

from gogrid.config.loader import LoadedManifest, load_manifest
from gogrid.config.workflows import WorkflowSpec
from gogrid.engine.bus import EventBus
from gogrid.engine.context import RunContext, Workflow
from gogrid.engine.errors import BudgetExceeded, ChildBudgetExceeded, ScopeKilledError, WorkflowError
from gogrid.engine.gate import ToolGate
from gogrid.engine.governor import Governor, NullGovernor
from gogrid.engine.scope import Scope
from gogrid.events import RunFinished, RunStarted, RunStatus, ScopeKilled, new_id
from gogrid.models.base import ModelError
from gogrid.models.registry import ModelFactory
from gogrid.tools.plugins import ToolRegistry, load_plugins


class Service(Protocol):
    """A background task that lives as long as the runtime (store writer, exporter)."""

    async def run(self) -> None:
        """Loop until cancelled."""

    async def close(self) -> None:
        """Final flush; called once after every run has ended."""


@dataclass
class RunResult:
    run_id: str
    status: RunStatus
    output: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == RunStatus.SUCCEEDED


@dataclass(eq=False)
class RunHandle:
    run_id: str
    scope: Scope
    done: anyio.Event
    result: RunResult | None = None

    async def wait(self) -> RunResult:
        await self.done.wait()
        assert self.result is not None
        return self.result


class Runtime:
    def __init__(
        self,
        loaded: LoadedManifest,
        *,
        tools: ToolRegistry | None = None,
        model_override: str | None = None,
        bus: EventBus | None = None,
        governor: Governor | None = None,
        gate: ToolGate | None = None,
        services: Sequence[Service] = (),
        workspace: str | None = None,
    ) -> None:
        from gogrid.patterns import Builder  # registers every pattern's builder

        self.loaded = loaded
        self.bus = bus or EventBus()
        if governor is None and loaded.manifest.budgets is not None:
            # Budgets in the manifest are never silently ignored: they get a real governor.
            from gogrid.governance import BudgetGovernor

            governor = BudgetGovernor()
        self.governor: Governor = governor or NullGovernor()
        self.gate = gate or ToolGate()
        self.services = list(services)
        self.workspace = workspace or str(loaded.base_dir)
        self.tools = tools if tools is not None else load_plugins(plugin_folders(loaded))
        self.models = ModelFactory(loaded.manifest, override=model_override)
        builder = Builder(loaded, self.tools, self.models)
        self.workflow: Workflow = builder.root()
        builder.raise_problems()
        self._builder = builder
        attach = getattr(self.governor, "attach", None)
        if attach is not None:
            attach(self)  # takes the manifest's budgets; raises ManifestError on bad references
        self.runs: dict[str, RunHandle] = {}
        self.scopes: dict[str, Scope] = {}
        self._tg: TaskGroup | None = None

    @classmethod
    def from_file(cls, path: str | Path, *, env: Mapping[str, str] | None = None, **options: Any) -> Runtime:
        return cls(load_manifest(path, env=env), **options)

    @property
    def name(self) -> str:
        return self.loaded.manifest.name or self.loaded.path.stem

    def named_workflow(self, key: str) -> Workflow:
        return self._builder.named(key, ("workflows", key))

    # --- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> Runtime:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        for s in self.services:
            self._tg.start_soon(s.run)
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        assert self._tg is not None
        tg, self._tg = self._tg, None
        if exc[0] is not None:
            for handle in list(self.runs.values()):
                if handle.result is None:
                    self.cancel(handle.run_id, "runtime shutting down")
        for handle in list(self.runs.values()):
            if handle.result is None:
                with anyio.CancelScope(shield=True):
                    await handle.done.wait()
        with anyio.CancelScope(shield=True):
            for s in self.services:
                await s.close()
            await self.models.aclose()
        tg.cancel_scope.cancel()
        return await tg.__aexit__(*exc)

    def attach(self, task_group: TaskGroup) -> None:
        """Run background runs in a host's task group instead of our own `async with`."""
        self._tg = task_group

    # --- runs ----------------------------------------------------------------------------------

    def start(self, input: Any = "", *, run_id: str | None = None, workflow: str | None = None, labels: dict[str, str] | None = None) -> RunHandle:
        """Launch a run in the background (inside `async with`) and return its handle at once."""
        if self._tg is None:
            raise RuntimeError("Runtime.start() needs `async with runtime:` or a Host")
        handle = self._open(run_id, workflow)
        self._tg.start_soon(self._execute, handle, input, workflow, labels or {})
        return handle

    async def run(self, input: Any = "", *, run_id: str | None = None, workflow: str | None = None, labels: dict[str, str] | None = None) -> RunResult:
        """Run to completion and return the result. Never raises for a failed run."""
        handle = self._open(run_id, workflow)
        await self._execute(handle, input, workflow, labels or {})
        return await handle.wait()

    def _open(self, run_id: str | None, workflow: str | None) -> RunHandle:
        run_id = run_id or new_id("r")
        scope = Scope(run_id=run_id, span_id=new_id("s"), kind="run", name=self.name, path=self.name)
        handle = RunHandle(run_id, scope, anyio.Event())
        self.runs[run_id] = handle
        self.register_scope(scope)
        return handle

    async def _execute(self, handle: RunHandle, input: Any, workflow: str | None, labels: dict[str, str]) -> None:
        scope = handle.scope
        wf = self.workflow if workflow is None else self.named_workflow(workflow)
        spec: WorkflowSpec = self.loaded.manifest.workflow if workflow is None else self.loaded.manifest.workflows[workflow]
        common: dict[str, Any] = {"run_id": handle.run_id, "span_id": scope.span_id}
        text = input if isinstance(input, str) else str(input)
        self.bus.publish(RunStarted(workflow=wf.name, manifest=str(self.loaded.path), input=text, labels=labels, **common))
        scope.status = RunStatus.RUNNING
        ctx = RunContext(self, scope)
        output: Any = None
        error: str | None = None
        status = RunStatus.SUCCEEDED
        try:
            with scope.cancel_scope:
                output = await ctx.run_node(wf, input, timeout=spec.timeout)
        except ScopeKilledError as e:
            status, error = RunStatus.KILLED, str(e)
        except (ChildBudgetExceeded, BudgetExceeded) as e:
            status, error = RunStatus.BUDGET_EXCEEDED, str(e)
        except (WorkflowError, ModelError) as e:
            status, error = RunStatus.FAILED, str(e)
        except Exception as e:  # a bug, not a user error: record it, keep the process alive
            status, error = RunStatus.FAILED, f"internal error: {type(e).__name__}: {e}"
        finally:
            if scope.kill_reason is not None:
                status, error = (
                    (RunStatus.CANCELLED if scope.kill_actor == "cancel" else RunStatus.KILLED),
                    scope.kill_reason,
                )
            elif scope.budget_exceeded is not None:
                status, error = RunStatus.BUDGET_EXCEEDED, scope.budget_exceeded
            scope.status = status
            self.unregister_scope(scope)
            self.bus.publish(RunFinished(status=status, output=output, error=error, reason=scope.kill_reason, **common))
            handle.result = RunResult(handle.run_id, status, output, error)
            # Nothing controls a finished run's nodes any more; dropping the tree keeps a
            # long-lived process (the console) from holding every scope it ever ran.
            scope.children.clear()
            handle.done.set()

    # --- control API ---------------------------------------------------------------------------

    def register_scope(self, scope: Scope) -> None:
        self.scopes[scope.span_id] = scope

    def unregister_scope(self, scope: Scope) -> None:
        self.scopes.pop(scope.span_id, None)

    def find_scope(self, target: str, node: str | None = None) -> Scope | None:
        """A live scope by span id, run id (or unique prefix), optionally a node path below it."""
        if target in self.scopes:
            scope: Scope | None = self.scopes[target]
        else:
            matches = [h for rid, h in self.runs.items() if rid.startswith(target) and h.result is None]
            scope = matches[0].scope if len(matches) == 1 else None
        if scope is None or node is None:
            return scope
        wanted = node.strip("/")
        for s in scope.walk():
            rel = s.path[len(scope.path) :].strip("/")
            if rel == wanted or s.path == wanted or s.name == wanted:
                return s if not s.status.is_final else None
        return None

    def kill(self, target: str, *, node: str | None = None, reason: str = "killed by operator", actor: str = "user") -> Scope | None:
        """Kill a run or any scope in it: every task inside stops, in-flight calls are aborted.
        Returns the scope killed, or None when nothing live matches."""
        scope = self.find_scope(target, node)
        if scope is None:
            return None
        self.bus.publish(ScopeKilled(run_id=scope.run_id, span_id=scope.span_id, parent_span_id=scope.parent_span_id, target=scope.path, reason=reason, actor=actor))
        on_kill = getattr(self.governor, "on_kill", None)
        if on_kill is not None:
            on_kill(scope, reason, actor, self.bus)  # spend at kill time, for the record
        scope.kill(reason, actor)
        return scope

    def cancel(self, run_id: str, reason: str = "cancelled") -> bool:
        """Stop a run because its operator asked (Ctrl-C, shutdown): it ends `cancelled`."""
        handle = self.runs.get(run_id)
        if handle is None or handle.result is not None:
            return False
        handle.scope.kill(reason, actor="cancel")
        return True

    def live_runs(self) -> list[RunHandle]:
        return [h for h in self.runs.values() if h.result is None]


def plugin_folders(loaded: LoadedManifest) -> list[Path]:
    folders = [(loaded.base_dir / p) for p in loaded.manifest.plugins]
    extra = os.environ.get("GOGRID_PLUGINS")
    if extra:
        folders.extend(Path(p) for p in extra.split(os.pathsep) if p)
    return folders
