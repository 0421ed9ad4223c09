"""What hard budgets cost per model call.

N single-call agent runs at once on the simulated model (no latency), three ways: no governor
(the baseline), the process governor with no limits (what every `gogrid run` has), and budgets at
four levels (run, agent, model, a node) - every call counted with tiktoken, reserved and settled
against each, with a budget event per budget per step. Figures: median CPU time of the repeats,
the ratio to the baseline, and the extra CPU per call in microseconds.

    python bench/bench_budgets.py --calls 2000 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gogrid.config.loader import parse_manifest  # noqa: E402
from gogrid.engine.bus import BufferedSubscriber  # noqa: E402
from gogrid.engine.governor import NullGovernor  # noqa: E402
from gogrid.engine.runtime import Runtime  # noqa: E402
from gogrid.governance import BudgetGovernor  # noqa: E402
from gogrid.models.tokens import count_text  # noqa: E402

BASE = """\
version: 1
name: bench
plugins: []
models:
  m: {model: sim/m, settings: {latency_ms: 0, answer_words: 20}}
agents:
  a: {model: m, max_tokens: 200}
workflow: {name: step, agent: a}
"""
BUDGETS = """\
budgets:
  run: {usd: 100, tokens: 1000000, requests: 100}
  agents: {a: {usd: 50}}
  models: {m: {usd: 50}}
  nodes: {step: {usd: 50}}
"""


def one(text: str, governor: Any, calls: int) -> float:
    loaded = parse_manifest(text, "bench.yaml")

    async def go() -> float:
        rt = Runtime(loaded, governor=governor, tools=None)
        drain = rt.bus.subscribe(BufferedSubscriber())
        async with rt:
            started = time.process_time()
            async with anyio.create_task_group() as tg:
                for _ in range(calls):
                    tg.start_soon(rt.run, "Summarise the launch plan in two lines")
            used = time.process_time() - started
        drain.drain()  # type: ignore[attr-defined]
        return used

    return anyio.run(go)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    count_text("warm up the encoding", "m")  # the one-time tiktoken load is not per-call cost
    cases = {
        "no governor": (BASE, NullGovernor),
        "governor, no limits": (BASE, BudgetGovernor),
        "budgets at 4 levels": (BASE + BUDGETS, BudgetGovernor),
    }
    results = {name: statistics.median(one(text, make(), args.calls) for _ in range(args.repeats)) for name, (text, make) in cases.items()}
    base = results["no governor"]
    print(f"{args.calls} single-call runs at once, median CPU of {args.repeats} repeats")
    for name, cpu in results.items():
        extra = (cpu - base) / args.calls * 1e6
        print(f"  {name:22s} {cpu:7.3f} s  x{cpu / base:5.2f}  {extra:+8.1f} us per call")


if __name__ == "__main__":
    main()
