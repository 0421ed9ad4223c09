"""The one protocol every model provider implements, and the errors they raise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gogrid.messages import ModelRequest, ModelResponse

DeltaHook = Callable[[str], None]


@dataclass(slots=True)
class AttemptInfo:
    """One try against one provider, reported so that retries and fallbacks become events."""

    provider: str
    model: str
    attempt: int
    outcome: str  # "ok" | "retry" | "error" | "fallback"
    http_status: int | None = None
    error: str | None = None
    wait_s: float = 0.0
    latency_s: float = 0.0


AttemptHook = Callable[[AttemptInfo], None]


class ModelError(Exception):
    """A model call that failed. `retryable` tells the resilience layer whether another try can
    succeed; `partial` keeps what a cut-off stream had already delivered (text and tokens)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
        partial: ModelResponse | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.partial = partial


@runtime_checkable
class Model(Protocol):
    """A chat model. `provider` and `name` identify it for pricing and the record."""

    provider: str
    name: str

    async def request(
        self,
        req: ModelRequest,
        *,
        on_delta: DeltaHook | None = None,
        on_attempt: AttemptHook | None = None,
    ) -> ModelResponse: ...

    async def aclose(self) -> None: ...
