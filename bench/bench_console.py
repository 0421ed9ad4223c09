"""Console under load: 1,000 concurrent simulated agents streaming, with and without the console.

Prints, median of several rounds:
- headless: wall time for N concurrent runs on a Host recording into DuckDB (what `gogrid run` does);
- console: the same runs launched inside gogrid-tui (headless Textual, 160x48), while a key is
  pressed every 100 ms and the time from the key press to the repainted screen is measured;
- the ratio console / headless (the target is within 10%), and key-to-screen latency median/p99.

    python bench/bench_console.py [--agents 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
if (SHARED / "tiktoken").is_dir():
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(SHARED / "tiktoken"))

MANIFEST = """
version: 1
name: bench-console
plugins: [{plugins}]
models:
  sim-load:
    model: sim/load
    settings: {{seed: 1, latency_ms: [1500, 3000], answer_words: 40, stream_chunk_words: 4, tool_rounds: 2}}
agents:
  worker:
    model: sim-load
    instructions: Calculate, then answer.
    tools: [calculate]
    max_turns: 4
workflow:
  agent: worker
"""


PRESS_EVERY_S = 0.25  # an operator holding an arrow key presses far less often than this


def write_manifest(folder: Path) -> Path:
    path = folder / "bench_console.yaml"
    path.write_text(MANIFEST.format(plugins=ROOT / "plugins"), encoding="utf-8")
    return path


async def launch_all(rt: Any, n: int) -> float:
    started = time.perf_counter()
    handles = [rt.start(f"task {i}: what is {i} * 7?") for i in range(n)]
    results = [await h.wait() for h in handles]
    elapsed = time.perf_counter() - started
    bad = [r for r in results if not r.ok]
    if bad:
        raise SystemExit(f"{len(bad)} run(s) failed, e.g. {bad[0].status}: {bad[0].error}")
    return elapsed


async def headless_round(manifest: Path, n: int, db: Path) -> float:
    from gogrid.host import Host

    async with Host(db=db) as host:
        rt = host.load(manifest)
        return await launch_all(rt, n)


async def console_round(manifest: Path, n: int, db: Path) -> tuple[float, list[float], int]:
    from textual import events

    from gogrid.console.app import GoGridApp
    from gogrid.console.widgets.fasttable import FastTable

    app = GoGridApp([], db=db)
    latencies: list[float] = []
    async with app.run_test(size=(160, 48)) as pilot:
        while not app.host_ready:
            await pilot.pause(0.01)
        app.action_show_view("agents")
        rt = app.host.load(manifest)
        task = asyncio.ensure_future(launch_all(rt, n))
        table = app.query_one("#agents-table", FastTable)
        table.focus()
        while table.row_count < 2 and not task.done():  # something to move through first
            await asyncio.sleep(0.01)
        i = 0
        while not task.done():
            await asyncio.sleep(PRESS_EVERY_S)
            key = "up" if table.cursor_row > 0 and i % 2 else "down"
            before = table.cursor_row
            painted = asyncio.Event()
            started = time.perf_counter()
            # What the terminal driver does with a key press; then wait for the cursor to move
            # and for the next repaint of the screen.
            app.post_message(events.Key(key, None))
            moved_by = time.perf_counter() + 2.0
            while table.cursor_row == before and time.perf_counter() < moved_by:
                await asyncio.sleep(0.001)
            if table.cursor_row == before:  # at an edge of the table: nothing to measure
                i += 1
                continue
            app.call_after_refresh(painted.set)
            await painted.wait()
            latencies.append(time.perf_counter() - started)
            i += 1
        elapsed = task.result()
        await pilot.pause(0.3)
        rows = table.row_count
        dropped = app.feed.dropped
        await app.shutdown()
    if rows != 2 * n:
        raise SystemExit(f"the agents pane shows {rows} rows, expected {2 * n}")
    return elapsed, latencies, dropped


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    headless: list[float] = []
    console: list[float] = []
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        manifest = write_manifest(folder)
        for r in range(args.rounds):
            # Alternate which goes first so that warm-up and machine noise fall on both sides.
            order = ("headless", "console") if r % 2 == 0 else ("console", "headless")
            for which in order:
                gc.collect()
                db = folder / f"{which}-{r}.duckdb"
                if which == "headless":
                    t = asyncio.run(headless_round(manifest, args.agents, db))
                    headless.append(t)
                    print(f"round {r + 1}: headless {t:.2f}s", file=sys.stderr)
                else:
                    t, lat, dropped = asyncio.run(console_round(manifest, args.agents, db))
                    console.append(t)
                    latencies.extend(lat)
                    print(f"round {r + 1}: console  {t:.2f}s ({len(lat)} key presses, {dropped} events dropped)", file=sys.stderr)
    h, c = statistics.median(headless), statistics.median(console)
    print(f"agents: {args.agents} concurrent sim agents (3 streamed model calls + 2 tool calls each), rounds: {args.rounds}")
    print(f"headless run time (median): {h:.2f} s")
    print(f"console run time  (median): {c:.2f} s")
    print(f"ratio console/headless:     {c / h:.3f}  (target: within 0.90-1.10)")
    print(f"key press -> screen update: median {statistics.median(latencies) * 1000:.1f} ms, "
          f"p99 {percentile(latencies, 99) * 1000:.1f} ms over {len(latencies)} presses")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
