from __future__ import annotations

import anyio

from conftest import ROOT
from gogrid.engine.bus import Collector
from gogrid.engine.runtime import Runtime
from gogrid.events import RunStatus


def test_demo_runs_on_the_simulated_model() -> None:
    async def go() -> None:
        rt = Runtime.from_file(ROOT / "sample_configs" / "demo.yaml")
        seen = rt.bus.subscribe(Collector())
        async with rt:
            result = await rt.run("Summarise the plan")
        assert result.status == RunStatus.SUCCEEDED
        assert isinstance(result.output, str) and result.output
        kinds = seen.kinds()  # type: ignore[attr-defined]
        assert kinds[0] == "run.started" and kinds[-1] == "run.finished"

    anyio.run(go)
