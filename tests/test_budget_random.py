"""Acceptance 1: with random prices, random limits and random nesting (sequences, parallel
branches, spawned children with a slice of their parent's budget, and the manifest's teams and
pipelines), the spend settled under every hard budget never passes its limit, and a run whose
budget binds ends budget_exceeded.

Spend is recomputed independently from the `model.finished` events (the record), not read back
from the governor's ledgers.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml

from gogrid.engine.bus import Collector
from gogrid.engine.errors import WorkflowError
from gogrid.engine.runtime import Runtime
from gogrid.events import Event, RunStatus
from gogrid.governance import BudgetGovernor, with_budget

SEEDS = range(40)


@dataclass(eq=False)
class Seq:
    name: str
    children: list[Any]
    pattern: str = "seq"

    async def run(self, input: Any, ctx: Any) -> Any:
        out = input
        for c in self.children:
            out = await ctx.run_node(c, out)
        return out


@dataclass(eq=False)
class Par:
    name: str
    children: list[Any]
    pattern: str = "par"

    async def run(self, input: Any, ctx: Any) -> Any:
        errors: list[BaseException] = []
        results: list[Any] = []

        async def one(c: Any) -> None:
            try:
                results.append(await ctx.run_node(c, input))
            except WorkflowError as e:
                errors.append(e)

        async with anyio.create_task_group() as tg:
            for c in self.children:
                tg.start_soon(one, c)
        if errors:
            raise errors[0]
        return " | ".join(str(r) for r in results)


def _manifest(rng: random.Random, n_agents: int) -> dict[str, Any]:
    models = {
        f"m{i}": {
            "model": f"sim/m{i}",
            "settings": {
                "seed": rng.randint(0, 10_000), "latency_ms": [0, 2],
                "price_input": round(rng.uniform(0.1, 60), 3), "price_output": round(rng.uniform(0.5, 120), 3),
                "answer_words": rng.randint(5, 60),
            },
        }
        for i in range(3)
    }
    agents = {
        f"a{i}": {"model": f"m{rng.randrange(3)}", "max_tokens": rng.randint(200, 600), "max_turns": 3}
        for i in range(n_agents)
    }
    return {"version": 1, "name": "rand", "plugins": [], "models": models, "agents": agents}


def _limits(rng: random.Random, scale: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rng.random() < 0.8:
        out["usd"] = round(scale * rng.uniform(0.2, 3.0), 6) or 1e-6
    if rng.random() < 0.3:
        out["tokens"] = rng.randint(300, 6000)
    if rng.random() < 0.3:
        out["requests"] = rng.randint(1, 12)
    return out or {"usd": scale}


def _budgets(rng: random.Random, m: dict[str, Any], node_names: list[str]) -> dict[str, Any]:
    scale = 0.02  # about what a handful of calls at these prices cost
    b: dict[str, Any] = {"run": _limits(rng, scale * 4), "prompt_margin": 0.1}
    if rng.random() < 0.3:
        b["process"] = _limits(rng, scale * 6)
    if rng.random() < 0.5:
        b["agents"] = {a: _limits(rng, scale) for a in rng.sample(sorted(m["agents"]), 2)}
    if rng.random() < 0.5:
        b["models"] = {k: _limits(rng, scale * 2) for k in rng.sample(sorted(m["models"]), 1)}
    if node_names and rng.random() < 0.6:
        b["nodes"] = {n: _limits(rng, scale * 2) for n in rng.sample(node_names, min(2, len(node_names)))}
    return b


class _Tree:
    def __init__(self, rng: random.Random, rt: Runtime, agents: list[str]) -> None:
        self.rng, self.rt, self.agents, self.n = rng, rt, agents, 0
        self.names: list[str] = []

    def build(self, depth: int) -> Any:
        rng = self.rng
        if depth == 0 or rng.random() < 0.25:
            name = rng.choice(self.agents)
            return self.rt._builder.agent(name, ("agents", name))
        self.n += 1
        name = f"n{self.n}"
        self.names.append(name)
        children = [self.build(depth - 1) for _ in range(rng.randint(1, 3))]
        kind = rng.choice(["seq", "par", "spawn"])
        if kind == "seq":
            return Seq(name, children)
        if kind == "par":
            return Par(name, children)
        usd = round(rng.uniform(0.001, 0.03), 6) if rng.random() < 0.5 else None
        return with_budget(Seq(name, children), usd=usd, share=rng.choice([0.25, 0.5, 1.0]))


def _manifest_tree(rng: random.Random, agents: list[str], depth: int, counter: list[int] | None = None) -> dict[str, Any]:
    """A workflow spec from the manifest's own patterns (pipeline, dynamic, graph, team) nested at random."""
    counter = counter if counter is not None else [0]
    if depth == 0 or rng.random() < 0.3:
        return {"agent": rng.choice(agents)}
    if rng.random() < 0.3:  # an orchestrator spawning children, each on a slice of its budget
        lead, *others = rng.sample(agents, len(agents))
        return {"dynamic": {"orchestrator": lead, "agents": others, "allow": ["agent"], "max_children": 4}}
    if rng.random() < 0.5:
        stages = []
        for _ in range(rng.randint(1, 3)):
            counter[0] += 1
            stages.append({"name": f"s{counter[0]}", **_manifest_tree(rng, agents, depth - 1, counter)})
        return {"pipeline": {"stages": stages}}
    if rng.random() < 0.4:  # a graph: a chain that fans out to two branches
        counter[0] += 1
        n = counter[0]
        nodes = {f"g{n}a": _manifest_tree(rng, agents, depth - 1, counter), f"g{n}b": {"agent": rng.choice(agents)},
                 f"g{n}c": {"agent": rng.choice(agents)}}
        return {"graph": {"nodes": nodes, "edges": [{"from": f"g{n}a", "to": [f"g{n}b", f"g{n}c"]}]}}
    members = [{"agent": a} for a in rng.sample(agents, 2)]
    return {"team": {"members": members, "max_rounds": rng.randint(1, 2)}}


def _spend_by_ledger(events: list[Event]) -> dict[tuple[str, str], dict[str, float]]:
    """Spend under every kind of budget, from the record alone."""
    paths: dict[str, str] = {}
    for e in events:
        if e.kind in ("agent.started", "node.started"):
            paths[e.span_id] = e.path  # type: ignore[attr-defined]
        elif e.kind == "run.started":
            paths[e.span_id] = "rand"
    spend: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for e in events:
        if e.kind != "model.finished":
            continue
        usage = {"usd": e.cost_usd or 0.0, "tokens": e.input_tokens + e.output_tokens, "requests": 1.0}  # type: ignore[attr-defined]
        path = paths[e.parent_span_id or ""]
        keys = [("", "process"), (e.run_id, f"agent:{e.run_id}:{e.agent}"), (e.run_id, f"model:{e.run_id}:{e.provider}/{e.model}")]  # type: ignore[attr-defined]
        parts = path.split("/")
        keys += [(e.run_id, "/".join(parts[: i + 1])) for i in range(len(parts))]
        for k in keys:
            for metric, v in usage.items():
                spend[k][metric] += v
    return spend


def _check_run(seed: int, tmp_path: Path, use_manifest_patterns: bool) -> tuple[RunStatus, int]:
    rng = random.Random(seed)
    m = _manifest(rng, n_agents=4)
    agents = sorted(m["agents"])
    m["workflow"] = _manifest_tree(rng, agents, 2) if use_manifest_patterns else {"agent": agents[0]}
    governor = BudgetGovernor()
    path = tmp_path / f"rand{seed}.yaml"

    # Build once without budgets to learn the tree's node names, then again with budgets.
    path.write_text(yaml.safe_dump(m))
    names: list[str] = []
    tree_rng = random.Random(seed * 7 + 1)
    if not use_manifest_patterns:
        probe = _Tree(random.Random(seed * 7 + 1), Runtime.from_file(path), agents)
        probe.build(3)
        names = probe.names
    m["budgets"] = _budgets(rng, m, names)
    path.write_text(yaml.safe_dump(m))
    seen = Collector()

    async def go() -> Any:
        rt = Runtime.from_file(path, governor=governor)
        if not use_manifest_patterns:
            rt.workflow = _Tree(tree_rng, rt, agents).build(3)
        rt.bus.subscribe(seen)
        async with rt:
            return await rt.run("Estimate the cost of the launch plan")

    result = anyio.run(go)
    events = seen.events
    spend = _spend_by_ledger(events)

    # Every hard limit holds, measured from the record.
    for status in governor.snapshot():
        if status.limit is None:
            continue
        key = ("" if status.run_id is None else status.run_id, status.scope)
        measured = spend.get(key, {}).get(status.metric, 0.0)
        assert measured <= status.limit * (1 + 1e-9) + 1e-12, (seed, status, measured)
        assert abs(measured - status.spent) <= 1e-9 * max(1.0, measured), (seed, status.scope, measured, status.spent)

    exceeded = [e for e in events if e.kind == "budget" and e.action == "exceeded"]  # type: ignore[attr-defined]
    run_path = "rand"
    binding_run = [e for e in exceeded if e.scope in (run_path, "process") or e.scope.startswith("model:")]  # type: ignore[attr-defined]
    if binding_run:
        assert result.status == RunStatus.BUDGET_EXCEEDED, (seed, result)
    if result.status == RunStatus.BUDGET_EXCEEDED:
        assert exceeded, seed
    if not exceeded:
        assert result.status == RunStatus.SUCCEEDED, (seed, result)
    # A node or agent whose own budget bound ended budget_exceeded.
    finals = {e.path: e.status for e in events if e.kind in ("node.finished", "agent.finished")}  # type: ignore[attr-defined]
    for e in exceeded:
        scope = e.scope  # type: ignore[attr-defined]
        if scope in finals and scope != run_path:
            assert finals[scope] == RunStatus.BUDGET_EXCEEDED, (seed, scope, finals[scope])
    return result.status, len(exceeded)


@pytest.mark.parametrize("seed", SEEDS)
def test_spend_never_passes_a_hard_limit_in_nested_runs(seed: int, tmp_path: Path) -> None:
    _check_run(seed, tmp_path, use_manifest_patterns=False)


@pytest.mark.parametrize("seed", range(30))
def test_spend_never_passes_a_hard_limit_in_manifest_patterns(seed: int, tmp_path: Path) -> None:
    _check_run(1000 + seed, tmp_path, use_manifest_patterns=True)


def test_the_random_runs_do_bind(tmp_path: Path) -> None:
    """The limits are sized so that both outcomes happen: not a test that never binds."""
    outcomes = [_check_run(seed, tmp_path, use_manifest_patterns=False)[0] for seed in range(12)]
    assert RunStatus.BUDGET_EXCEEDED in outcomes
    assert RunStatus.SUCCEEDED in outcomes or any(o != RunStatus.BUDGET_EXCEEDED for o in outcomes)
