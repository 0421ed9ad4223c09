"""Fallback chains: `model: [primary, fallback, ...]`.

Each model in the chain keeps its own retries; the chain moves on once a model's retries are
exhausted, or at once on an error no retry can fix. Waits do not multiply: the chain itself never
retries, it only moves on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gogrid.messages import ModelRequest, ModelResponse
from gogrid.models.base import AttemptHook, AttemptInfo, DeltaHook, ModelError
from gogrid.models.pricing import Price

if TYPE_CHECKING:
    from gogrid.models.registry import ModelHandle


class FallbackModel:
    def __init__(self, chain: list[ModelHandle]) -> None:
        self.chain = chain
        self.provider = chain[0].provider
        self.name = chain[0].name

    async def request(
        self,
        req: ModelRequest,
        *,
        on_delta: DeltaHook | None = None,
        on_attempt: AttemptHook | None = None,
    ) -> ModelResponse:
        last: ModelError | None = None
        for i, handle in enumerate(self.chain):
            try:
                response = await handle.model.request(req, on_delta=on_delta, on_attempt=on_attempt)
            except ModelError as e:
                last = e
                if on_attempt and i + 1 < len(self.chain):
                    nxt = self.chain[i + 1]
                    on_attempt(AttemptInfo(nxt.provider, nxt.name, 0, "fallback", e.status, f"falling back after: {e}"))
                continue
            response.provider = response.provider or handle.provider
            response.model = response.model or handle.name
            return response
        assert last is not None
        raise last

    def price_of(self, response: ModelResponse) -> Price | None:
        """The price of whichever model in the chain gave `response`."""
        for h in self.chain:
            if h.provider == response.provider and h.name == response.model:
                return h.price
        return self.chain[0].price

    async def aclose(self) -> None:
        for h in self.chain:
            await h.model.aclose()
