"""Regenerate docs/console.svg: the live console running the demo team, mid-debate.

    python docs/console_screenshot.py
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


async def main() -> None:
    os.chdir(ROOT)
    os.environ.pop("GOGRID_DEMO_PACE_MS", None)  # the demo at the pace people watch it
    from gogrid.console.app import GoGridApp

    app = GoGridApp([Path("sample_configs/demo.yaml")], db=None)
    async with app.run_test(size=(150, 42)) as pilot:
        while not any(n.pattern == "team" for n in app.state.nodes.values()):
            await pilot.pause(0.1)
        team = next(n for n in app.state.nodes.values() if n.pattern == "team")
        await pilot.pause(0.3)
        table = app.query_one("#agents-table")
        table.move_cursor(row=table.get_row_index(team.span_id))  # type: ignore[attr-defined]
        while sum(1 for item in app.state.chat if item.kind == "vote") < 6:  # two rounds voted
            await pilot.pause(0.1)
        await pilot.pause(1.2)  # a round under way: streams in the chat, budget filling
        app.save_screenshot(str(ROOT / "docs" / "console.svg"))
        await app.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
