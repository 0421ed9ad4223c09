"""What keeps calls to a real provider well-behaved: backoff with jitter, `Retry-After`, and the
per-provider limits (requests in flight, requests and tokens per minute) shared by every agent in
the process.

Limits are keyed by endpoint (provider + base URL) for concurrency and by endpoint + model for the
per-minute governor, because that is how providers count. They live per event loop: anyio
primitives belong to the loop that made them, and a process normally runs one loop.
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import anyio.lowlevel

WINDOW_S = 60.0


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter for the retry after try number `attempt` (1-based):
    a random wait in [base/2, min(cap, base * 2**(attempt-1))], so that many agents hitting the
    same limit do not come back in lockstep."""
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return random.uniform(min(base / 2, ceiling), ceiling)


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms`, `Retry-After` (seconds or an HTTP date), or None."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass(eq=False)
class RateWindow:
    """Requests and tokens per minute over a sliding window. `acquire` waits until one more
    request of `tokens` fits, then books it; `settle` corrects the booking to the real usage."""

    rpm: int | None
    tpm: int | None
    _entries: deque[list[float]] = field(default_factory=deque)  # [time, tokens]

    def _prune(self, now: float) -> None:
        while self._entries and now - self._entries[0][0] >= WINDOW_S:
            self._entries.popleft()

    def wait_time(self, tokens: int, now: float) -> float:
        self._prune(now)
        waits = [0.0]
        if self.rpm is not None and len(self._entries) >= self.rpm:
            waits.append(self._entries[len(self._entries) - self.rpm][0] + WINDOW_S - now)
        if self.tpm is not None and self._entries:
            # A single request larger than the whole budget still goes, alone, once the window is empty.
            booked = sum(e[1] for e in self._entries)
            need = booked + min(tokens, self.tpm) - self.tpm
            for t, n in self._entries:
                if need <= 0:
                    break
                need -= n
                waits.append(t + WINDOW_S - now)
        return max(waits)

    async def acquire(self, tokens: int) -> tuple[list[float], float]:
        """Book a request; returns the booking and how long it waited."""
        waited = 0.0
        while True:
            now = time.monotonic()
            wait = self.wait_time(tokens, now)
            if wait <= 0:
                entry = [now, float(tokens)]
                self._entries.append(entry)
                return entry, waited
            waited += wait
            await anyio.sleep(wait)

    @staticmethod
    def settle(entry: list[float], tokens: int) -> None:
        entry[1] = float(tokens)


@dataclass(eq=False)
class EndpointLimits:
    """One endpoint's shared limits."""

    concurrency: anyio.Semaphore
    windows: dict[str, RateWindow] = field(default_factory=dict)

    def window(self, model: str, rpm: int | None, tpm: int | None) -> RateWindow | None:
        if rpm is None and tpm is None:
            return None
        w = self.windows.get(model)
        if w is None:
            w = self.windows[model] = RateWindow(rpm, tpm)
        return w


_LIMITS: dict[str, tuple[object, EndpointLimits]] = {}


def endpoint_limits(endpoint: str, concurrency: int) -> EndpointLimits:
    """The limits every model on `endpoint` shares in this process (and this event loop). The
    first model to ask sets the concurrency; later ones share it."""
    token = anyio.lowlevel.current_token()
    held = _LIMITS.get(endpoint)
    if held is None or held[0] != token:
        held = (token, EndpointLimits(anyio.Semaphore(concurrency)))
        _LIMITS[endpoint] = held
    return held[1]
