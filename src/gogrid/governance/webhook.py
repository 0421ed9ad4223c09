"""Budget notifications to a webhook: threshold, exceeded and kill events POSTed as JSON.

`put` only appends to a bounded queue (the bus calls it on the engine's hot path); a background
task sends, one request at a time, so a slow or dead endpoint never holds up a run. Failures are
counted, not raised.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import anyio
import httpx

from gogrid.events import Event

NOTIFY = ("threshold", "exceeded", "kill")


class WebhookNotifier:
    def __init__(self, url: str, *, accept: Callable[[Event], bool] | None = None, capacity: int = 10_000, timeout: float = 5.0) -> None:
        self.url = url
        self.accept = accept
        self.capacity = capacity
        self.timeout = timeout
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self._queue: deque[Event] = deque()
        self._wake = anyio.Event()
        self._lock = anyio.Lock()  # one sender at a time keeps the events in order

    def put(self, event: Event) -> None:
        if event.kind != "budget" or getattr(event, "action", None) not in NOTIFY:
            return
        if self.accept is not None and not self.accept(event):
            return
        if len(self._queue) >= self.capacity:
            self.dropped += 1
            return
        self._queue.append(event)
        self._wake.set()

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            while True:
                await self._wake.wait()
                self._wake = anyio.Event()
                async with self._lock:
                    await self._send_all(client)

    async def close(self) -> None:
        """Deliver what is queued (and let a POST in flight finish), within the timeout."""
        with anyio.move_on_after(self.timeout):
            async with self._lock:  # waits for `run` to finish what it is sending
                if self._queue:
                    async with httpx.AsyncClient(timeout=self.timeout) as client:
                        await self._send_all(client)

    async def _send_all(self, client: httpx.AsyncClient) -> None:
        while self._queue:
            event = self._queue.popleft()
            try:
                r = await client.post(self.url, content=event.model_dump_json(), headers={"content-type": "application/json"})
                if r.status_code >= 400:
                    self.failed += 1
                else:
                    self.sent += 1
            except httpx.HTTPError:
                self.failed += 1

    def stats(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "dropped": self.dropped, "queued": len(self._queue)}
