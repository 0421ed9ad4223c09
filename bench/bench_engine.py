"""Engine overhead against bare asyncio (the performance budget in the design notes).

N agent workflows run at once, each 5 steps: 5 model calls and 4 tool calls (the simulated model
sleeps 10-50 ms per call, the tool returns at once). The baseline is bare asyncio doing exactly
the same sleeps and calls with nothing around them. Everything the engine adds - scopes, the agent
loop, the tool gate with argument validation, typed events on the bus (drained by a buffered
subscriber, as the store's writer does) - is the difference.

    python bench/bench_engine.py                 # 1,000 and 10,000 workflows
    python bench/bench_engine.py --huge          # also 100,000
    python bench/bench_engine.py --sizes 500 --repeats 5 --profile

Figures: wall time (median of the repeats), CPU time, the ratio to bare asyncio, and the
framework's CPU per step in microseconds: (CPU of the engine run - CPU of the baseline) / (N x 5),
also expressed in "bare steps" (the CPU bare asyncio spends per sleep on the same machine), which
makes figures from different machines comparable. Wall times on a shared machine include waiting
for the CPU; CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gogrid.config.loader import parse_manifest
from gogrid.engine.bus import BufferedSubscriber
from gogrid.engine.gc_tuning import tune_gc
from gogrid.engine.runtime import Runtime
from gogrid.tools.base import tool
from gogrid.tools.plugins import ToolRegistry

STEPS = 5  # model calls per workflow; a tool call follows each but the last


@tool
async def lookup(key: str) -> str:
    """Return a value at once (the baseline calls the same function).

    Args:
        key: what to look up.
    """
    return "value-" + key


def schedule(seed: int = 42) -> list[float]:
    """The model latencies (seconds) of the 5 calls, 10-50 ms, shared by both sides."""
    rng = random.Random(seed)
    return [rng.uniform(0.010, 0.050) for _ in range(STEPS)]


def manifest_text(latencies: list[float]) -> str:
    steps = [f"      - {{tool: lookup, args: {{key: k{i}}}, latency_ms: {lat * 1000:.3f}}}" for i, lat in enumerate(latencies[:-1])]
    steps.append(f"      - {{say: done, latency_ms: {latencies[-1] * 1000:.3f}}}")
    return "\n".join([
        "version: 1",
        "plugins: []",
        "models:",
        "  sim:",
        "    model: sim/bench",
        "agents:",
        "  worker:",
        "    model: sim",
        "    stream: false",
        "    tools: [lookup]",
        f"    max_turns: {STEPS}",
        "    script:",
        *steps,
        "workflow: {agent: worker}",
        "",
    ])


@dataclass
class Sample:
    wall: float
    cpu: float


async def _bare(n: int, latencies: list[float]) -> None:
    async def workflow() -> None:
        for i, lat in enumerate(latencies):
            await asyncio.sleep(lat)
            if i < STEPS - 1:
                await lookup.fn(key=f"k{i}")

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(workflow)


async def _engine(rt: Runtime, n: int, sink: BufferedSubscriber) -> int:
    async with rt:
        drained = 0

        async def drain() -> None:  # what a store writer does with the events, minus the I/O
            nonlocal drained
            while True:
                await anyio.sleep(0.05)
                drained += len(sink.drain())

        async with anyio.create_task_group() as tg:
            tg.start_soon(drain)
            handles = [rt.start("go") for _ in range(n)]
            for h in handles:
                result = await h.wait()
                if not result.ok:
                    raise SystemExit(f"run failed: {result.error}")
            tg.cancel_scope.cancel()
        return drained + len(sink.drain())


def measure(fn: object, *args: object) -> Sample:
    gc.collect()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    anyio.run(fn, *args)  # type: ignore[arg-type]
    return Sample(time.perf_counter() - wall0, time.process_time() - cpu0)


def new_runtime(latencies: list[float]) -> tuple[Runtime, BufferedSubscriber]:
    tools = ToolRegistry()
    tools.add(lookup, "bench")
    rt = Runtime(parse_manifest(manifest_text(latencies), "bench.yaml"), tools=tools)
    sink = rt.bus.subscribe(BufferedSubscriber())
    assert isinstance(sink, BufferedSubscriber)
    return rt, sink


def bench_size(n: int, repeats: int, latencies: list[float]) -> None:
    bare: list[Sample] = []
    engine: list[Sample] = []
    events = 0
    for _ in range(repeats):
        bare.append(measure(_bare, n, latencies))
        rt, sink = new_runtime(latencies)
        engine.append(measure(_engine, rt, n, sink))
        events = sink.received
        del rt, sink
    b_wall = statistics.median(s.wall for s in bare)
    b_cpu = statistics.median(s.cpu for s in bare)
    e_wall = statistics.median(s.wall for s in engine)
    e_cpu = statistics.median(s.cpu for s in engine)
    steps = n * STEPS
    per_step = (e_cpu - b_cpu) / steps * 1e6
    per_event = (e_cpu - b_cpu) / max(1, events) * 1e6
    bare_step = b_cpu / steps * 1e6  # what one sleep-and-wake costs bare asyncio on this machine
    print(
        f"{n:>8,} workflows | bare asyncio {b_wall:7.3f}s wall {b_cpu:7.3f}s cpu | "
        f"gogrid {e_wall:7.3f}s wall {e_cpu:7.3f}s cpu | ratio {e_wall / b_wall:5.1f}x wall {e_cpu / b_cpu:5.1f}x cpu | "
        f"overhead {per_step:6.1f} us/step = {per_step / bare_step:4.1f} bare steps "
        f"({events / n:.0f} events/workflow, {per_event:.1f} us/event)",
        flush=True,
    )


def profile(n: int, latencies: list[float], top: int = 25) -> None:
    rt, sink = new_runtime(latencies)
    prof = cProfile.Profile()
    prof.enable()
    anyio.run(_engine, rt, n, sink)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())


def breakdown(latencies: list[float], calls: int = 2000, repeats: int = 5) -> None:
    """CPU per call of each piece of a step, measured one at a time (best of the repeats)."""
    from gogrid.engine.context import RunContext
    from gogrid.engine.scope import Scope
    from gogrid.messages import Message, ModelRequest, ToolCall

    rt, sink = new_runtime([0.0] * len(latencies))
    agent: Any = rt.workflow
    message = Message("user", "go")
    req = ModelRequest(system="", messages=[message], tools=agent.tool_specs(), agent="worker", turn=1, stream=False)
    call = ToolCall("c1", "lookup", {"key": "k"}, '{"key": "k"}')

    async def go() -> None:
        ctx = RunContext(rt, Scope(run_id="r", span_id="s", kind="agent", name="worker", path="bench/worker"))

        async def sim() -> None:
            await agent.model.model.request(req, on_delta=None, on_attempt=lambda info: None)

        async def model_call() -> None:
            await ctx.call_model(agent.model, req)

        async def tool_call() -> None:
            await rt.gate.call(ctx, call, agent.tools)

        async def message_event() -> None:
            agent._post(ctx, message)

        pieces = (
            ("sim model request (the fake model itself)", sim),
            ("model call through the engine (incl. the sim)", model_call),
            ("tool call through the gate", tool_call),
            ("message event", message_event),
        )
        for name, fn in pieces:
            best = float("inf")
            for _ in range(repeats):
                t = time.process_time()
                for _ in range(calls):
                    await fn()
                best = min(best, (time.process_time() - t) / calls * 1e6)
                sink.drain()
            print(f"  {name:48s} {best:7.1f} us")

    print("per-call CPU of the pieces of one step (a step = 1 model call, 1 tool call, 2 messages):")
    anyio.run(go)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000], help="workflow counts (default 1000 10000)")
    p.add_argument("--huge", action="store_true", help="also run 100,000 workflows")
    p.add_argument("--repeats", type=int, default=3, help="runs per size; the median is reported")
    p.add_argument("--profile", action="store_true", help="print a cProfile of one engine run at the first size")
    p.add_argument("--breakdown", action="store_true", help="also time each piece of a step on its own")
    p.add_argument("--gc-defaults", action="store_true", help="keep CPython's GC thresholds (a Host tunes them)")
    args = p.parse_args(argv)
    if not args.gc_defaults:
        tune_gc()  # as the Host does for the process; both sides run under the same settings
    sizes = [*args.sizes, *([100_000] if args.huge else [])]
    latencies = schedule()
    print(f"5-step agent workflows: model latencies {', '.join(f'{x * 1000:.0f}' for x in latencies)} ms, "
          f"{args.repeats} repeats, median shown; gc {'defaults' if args.gc_defaults else 'tuned as the Host does'}; "
          f"python {sys.version.split()[0]}")
    for n in sizes:
        bench_size(n, args.repeats, latencies)
    if args.breakdown:
        breakdown(latencies)
    if args.profile:
        profile(sizes[0], latencies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
