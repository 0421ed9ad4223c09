"""`gogrid run FILE`: run a manifest headless, show progress, print the final output."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any

import anyio

from gogrid.cli.common import UsageError, db_path, fail, manifest_error, read_input
from gogrid.config.errors import ManifestError
from gogrid.events import Event, RunStatus

COMMAND = "run"
HELP = "run a manifest headless and print its output"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="manifest to run")
    p.add_argument("--input", "-i", metavar="TEXT", help="the run's input; '-' reads standard input")
    p.add_argument("--workflow", metavar="NAME", help="run a named workflow from `workflows:` instead of `workflow:`")
    p.add_argument("--model-override", metavar="PROVIDER/MODEL", help="use this model for every agent")
    p.add_argument("--log-file", metavar="FILE", help="append every event as JSON lines to FILE")
    p.add_argument("--json", action="store_true", help="print a machine-readable result")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    p.add_argument("--db", metavar="FILE", help="database to record the run in (default: $GOGRID_DB or ./.gogrid/gogrid.duckdb)")
    p.add_argument("--no-db", action="store_true", help="do not record the run in a database")
    p.add_argument("--budget", metavar="USD", help="hard limit in USD for this run, on top of the manifest's budgets (e.g. 0.50)")


class Progress:
    """Prints one plain line per notable event to stderr (works with or without a TTY)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.color = stream.isatty()

    def put(self, e: Event) -> None:
        line = self._line(e)
        if line:
            print(line, file=self.stream, flush=True)

    def _line(self, e: Event) -> str | None:
        k = e.kind
        if k == "agent.started":
            return f"> agent {e.path} ({e.model})"  # type: ignore[attr-defined]
        if k == "agent.finished":
            return f"< agent {e.path}: {e.status} after {e.turns} turn(s)" + (f" - {e.error}" if e.error else "")  # type: ignore[attr-defined]
        if k == "node.started":
            return f"> {e.pattern} {e.path}"  # type: ignore[attr-defined]
        if k == "node.finished":
            return f"< {e.pattern} {e.path}: {e.status}" + (f" - {e.error}" if e.error else "")  # type: ignore[attr-defined]
        if k == "tool.finished":
            return f"  tool {e.tool} [{e.status}] {e.duration_s * 1000:.0f} ms"  # type: ignore[attr-defined]
        if k == "model.finished":
            cost = "cost unknown" if e.cost_usd is None else f"${e.cost_usd:.6f}"  # type: ignore[attr-defined]
            return f"  model {e.provider}/{e.model} {e.agent} turn {e.turn}: {e.input_tokens}+{e.output_tokens} tokens, {cost}"  # type: ignore[attr-defined]
        if k == "budget" and e.action in ("threshold", "exceeded", "kill"):  # type: ignore[attr-defined]
            return f"  budget {e.scope}: {e.action} {e.reason or ''}"  # type: ignore[attr-defined]
        if k == "model.attempt" and e.outcome == "retry":  # type: ignore[attr-defined]
            return f"  retry {e.provider}/{e.model} in {e.wait_s:.1f}s after try {e.attempt}: {e.error}"  # type: ignore[attr-defined]
        if k == "model.attempt" and e.outcome == "fallback":  # type: ignore[attr-defined]
            return f"  fallback to {e.provider}/{e.model}: {e.error}"  # type: ignore[attr-defined]
        if k == "scope.killed":
            return f"! killed {e.target}: {e.reason}"  # type: ignore[attr-defined]
        if k == "team.vote":
            return f"  vote round {e.round}: {e.voter} -> {e.choice}"  # type: ignore[attr-defined]
        if k == "team.consensus":
            outcome = f"decided {e.decision!r}" if e.reached else "no consensus"  # type: ignore[attr-defined]
            return f"  team {e.strategy}: {outcome} after {e.round} round(s)"  # type: ignore[attr-defined]
        return None


def main(args: argparse.Namespace) -> int:
    from gogrid.host import Host

    text = read_input(args.input)
    if args.model_override and "/" not in args.model_override:
        raise UsageError(f"--model-override: expected provider/model, got {args.model_override!r}")
    budget = _budget_flag(args.budget)
    host = Host(db=None if args.no_db else db_path(args.db), log_file=args.log_file, budget_usd=budget)
    if not args.quiet:
        host.bus.subscribe(Progress(sys.stderr))

    async def go() -> Any:
        async with host:
            try:
                runtime = host.load(args.file, model_override=args.model_override)
            except ManifestError as e:
                return e
            if args.workflow and args.workflow not in runtime.loaded.manifest.workflows:
                known = ", ".join(runtime.loaded.manifest.workflows) or "none"
                return UsageError(f"--workflow: no workflow named {args.workflow!r} (defined: {known})")
            for problem in runtime.tools.problems:
                print(f"warning: plugin {problem}", file=sys.stderr)
            handle = runtime.start(text, workflow=args.workflow)
            async with anyio.create_task_group() as tg:
                tg.start_soon(_stop_on_signal, runtime, handle.run_id, tg.cancel_scope)
                result = await handle.wait()
                tg.cancel_scope.cancel()
            return result

    from gogrid.store import StoreError

    try:
        result = anyio.run(go)
    except StoreError as e:
        return fail(str(e), 1)
    if isinstance(result, ManifestError):
        return manifest_error(result)
    if isinstance(result, UsageError):
        raise result
    if args.json:
        print(json.dumps({"run_id": result.run_id, "status": result.status.value, "output": result.output, "error": result.error}, default=str))
    elif result.output is not None:
        print(result.output if isinstance(result.output, str) else json.dumps(result.output, indent=2, default=str))
    if result.status != RunStatus.SUCCEEDED and not args.json:
        print(f"run {result.run_id} {result.status.value}: {result.error or ''}", file=sys.stderr)
    if result.status == RunStatus.CANCELLED:
        return 130
    return 0 if result.status == RunStatus.SUCCEEDED else 1


def _budget_flag(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        usd = float(value.strip().removeprefix("$"))
    except ValueError:
        raise UsageError(f"--budget: expected an amount in USD such as 0.50, got {value!r}") from None
    if not usd > 0:
        raise UsageError(f"--budget: expected an amount above 0, got {value!r}")
    return usd


async def _stop_on_signal(runtime: Any, run_id: str, scope: anyio.CancelScope) -> None:
    """Ctrl-C (or SIGTERM) cancels the run cleanly: it is recorded as cancelled."""
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for sig in signals:
            runtime.cancel(run_id, f"interrupted by {signal.Signals(sig).name}")
            return
