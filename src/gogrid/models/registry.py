"""Resolve the models a manifest names (`provider/model`, aliases, fallback lists) to instances.

Providers register a builder under their name; `sim` is built in, the HTTP providers import
lazily so that the engine starts fast and runs offline.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gogrid.config.schema import Manifest, ModelDef
from gogrid.models.base import Model
from gogrid.models.pricing import Price, lookup_price


class ModelConfigError(ValueError):
    """A model that cannot be built from its definition (unknown provider, missing key...)."""


@dataclass(eq=False)
class ModelHandle:
    """A model ready for the engine: the provider instance plus what the engine needs around it."""

    model: Model
    label: str  # "provider/model" as written, for the record
    price: Price | None
    max_tokens: int = 4096  # worst-case output when an agent sets no max_tokens
    encoding_model: str = ""  # model name to pick a tiktoken encoding with

    @property
    def provider(self) -> str:
        return self.model.provider

    @property
    def name(self) -> str:
        return self.model.name


Builder = Callable[[str, ModelDef], Model]

# provider name -> "module:function" (imported on first use) or a builder.
PROVIDERS: dict[str, str | Builder] = {
    "sim": "gogrid.models.sim_builder:build",
    "openai": "gogrid.models.openai:build",
    "anthropic": "gogrid.models.anthropic:build",
    "gemini": "gogrid.models.gemini:build",
}


def provider_names() -> set[str]:
    return set(PROVIDERS)


def _builder(provider: str) -> Builder:
    entry = PROVIDERS.get(provider)
    if entry is None:
        raise ModelConfigError(f"unknown provider {provider!r}; expected one of: {', '.join(sorted(PROVIDERS))}")
    if isinstance(entry, str):
        module, _, fn = entry.partition(":")
        try:
            entry = getattr(importlib.import_module(module), fn)
        except (ImportError, AttributeError) as e:
            raise ModelConfigError(f"provider {provider!r} is not available: {e}") from None
        PROVIDERS[provider] = entry
    return entry


def model_def_for(ref: str, manifest: Manifest) -> ModelDef:
    if ref in manifest.models:
        return manifest.models[ref]
    if "/" not in ref:
        raise ModelConfigError(f"{ref!r} is neither a key of `models:` nor a provider/model string")
    return ModelDef(model=ref)


@dataclass
class ModelFactory:
    """Builds each model once per manifest; agents that name the same model share it (and so
    share its connection pool, concurrency limit and rate governor)."""

    manifest: Manifest
    override: str | None = None
    _cache: dict[str, ModelHandle] = field(default_factory=dict)

    def handle(self, ref: str | list[str]) -> ModelHandle:
        if self.override:
            ref = self.override
        refs = [ref] if isinstance(ref, str) else list(ref)
        if len(refs) == 1:
            return self._single(refs[0])
        from gogrid.models.fallback import FallbackModel

        handles = [self._single(r) for r in refs]
        key = "|".join(refs)
        if key not in self._cache:
            first = handles[0]
            self._cache[key] = ModelHandle(
                FallbackModel(handles), " -> ".join(h.label for h in handles), first.price,
                first.max_tokens, first.encoding_model,
            )
        return self._cache[key]

    def _single(self, ref: str) -> ModelHandle:
        if ref in self._cache:
            return self._cache[ref]
        mdef = model_def_for(ref, self.manifest)
        provider, _, name = mdef.model.partition("/")
        model = _builder(provider)(name, mdef)
        price = _price_for(model, mdef)
        max_tokens = _max_tokens(mdef.settings.get("max_tokens", 4096))
        handle = ModelHandle(model, mdef.model, price, max_tokens, name)
        self._cache[ref] = handle
        return handle

    def all(self) -> list[ModelHandle]:
        return list(self._cache.values())

    async def aclose(self) -> None:
        for h in self._cache.values():
            await h.model.aclose()


def _max_tokens(value: Any) -> int:
    """The worst-case output used for reservations; a bad value is a manifest error, not a crash."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelConfigError(f"settings.max_tokens: expected a positive whole number of tokens, got {value!r}")
    return value


def _price_for(model: Any, mdef: ModelDef) -> Price | None:
    if mdef.price is not None:
        return Price(mdef.price.input, mdef.price.output, mdef.price.cached_input)
    own = getattr(model, "price", None)  # a provider that knows its own price (sim)
    if isinstance(own, Price):
        return own
    return lookup_price(model.provider, model.name)
