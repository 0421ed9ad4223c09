"""The in-process event bus: one stream of typed events, fanned out to subscribers.

`publish` is synchronous and never waits: each subscriber buffers what it receives (bounded) and
drains at its own pace, so a slow store, exporter or console can never stall the engine. A
subscriber that has to shed load counts what it dropped, and the count is part of the record.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from gogrid.events import Event


class Subscriber(Protocol):
    def put(self, event: Event) -> None:
        """Take one event. Must return at once."""


class EventBus:
    def __init__(self) -> None:
        self._subscribers: tuple[Subscriber, ...] = ()

    def subscribe(self, subscriber: Subscriber) -> Subscriber:
        self._subscribers = (*self._subscribers, subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

    def publish(self, event: Event) -> None:
        for s in self._subscribers:
            s.put(event)


class BufferedSubscriber:
    """A bounded buffer drained in batches by its owner (a flush loop, a timer).

    When full, new events are dropped and counted rather than blocking the publisher; owners
    size the buffer so that, at the throughput they are benchmarked at, this never happens.
    """

    def __init__(self, capacity: int = 1_000_000) -> None:
        self.capacity = capacity
        self.dropped = 0
        self.received = 0
        self._buffer: deque[Event] = deque()

    def put(self, event: Event) -> None:
        self.received += 1
        if len(self._buffer) >= self.capacity:
            self.dropped += 1
            return
        self._buffer.append(event)

    def drain(self, limit: int | None = None) -> list[Event]:
        buf = self._buffer
        if limit is None or limit >= len(buf):
            out = list(buf)
            buf.clear()
            return out
        return [buf.popleft() for _ in range(limit)]

    def __len__(self) -> int:
        return len(self._buffer)


class Collector:
    """Keeps every event in memory (tests, `--json` results, small tools)."""

    def __init__(self, predicate: Callable[[Event], bool] | None = None) -> None:
        self.events: list[Event] = []
        self._predicate = predicate

    def put(self, event: Event) -> None:
        if self._predicate is None or self._predicate(event):
            self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


class CallbackSubscriber:
    """Calls a function for each event; the function must be quick and must not raise."""

    def __init__(self, fn: Callable[[Event], None]) -> None:
        self._fn = fn

    def put(self, event: Event) -> None:
        self._fn(event)
