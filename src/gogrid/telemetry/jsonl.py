"""JSONL event log: one JSON event per line, written in batches off the event loop."""

from __future__ import annotations

from pathlib import Path

import anyio

from gogrid.engine.bus import BufferedSubscriber


class JsonlExporter(BufferedSubscriber):
    """Subscribe it to the bus and run it as a runtime service."""

    def __init__(self, path: str | Path, *, interval: float = 0.2) -> None:
        super().__init__()
        self.path = Path(path)
        self.interval = interval
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def _write(self) -> None:
        batch = self.drain()
        if batch:
            self._file.write("".join(e.model_dump_json() + "\n" for e in batch))
            self._file.flush()

    async def run(self) -> None:
        while True:
            await anyio.sleep(self.interval)
            await anyio.to_thread.run_sync(self._write)

    async def close(self) -> None:
        await anyio.to_thread.run_sync(self._write)
        self._file.close()
