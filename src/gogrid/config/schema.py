"""The manifest schema (version 1), as pydantic models.

Every model forbids unknown keys, so a typo is an error with a "did you mean" rather than a
setting silently ignored. `gogrid schema` exports this as JSON Schema for editors.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gogrid.config.budgets import Budgets
from gogrid.config.workflows import WorkflowSpec


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PriceOverride(Strict):
    """Prices in USD per million tokens."""

    input: float = Field(ge=0, description="USD per million input tokens")
    output: float = Field(ge=0, description="USD per million output tokens")
    cached_input: float | None = Field(default=None, ge=0, description="USD per million cached input tokens")

    @model_validator(mode="after")
    def _per_million(self) -> PriceOverride:
        # A per-token price typed by mistake (0.0000025) is a million times too small; no real
        # model is priced below a thousandth of a dollar per million tokens.
        for name in ("input", "output", "cached_input"):
            v = getattr(self, name)
            if v is not None and 0 < v < 0.001:
                raise ValueError(
                    f"price.{name} = {v} looks like USD per token; prices are USD per million "
                    f"tokens (did you mean {v * 1_000_000:g}?)"
                )
        return self


class ModelDef(Strict):
    """A named model: `provider/model` plus settings. Agents refer to it by its key."""

    model: str = Field(description="provider/model, e.g. openai/gpt-4o-mini or sim/fast")
    settings: dict[str, Any] = Field(default_factory=dict, description="provider-specific settings")
    price: PriceOverride | None = Field(default=None, description="overrides the built-in price table")
    base_url: str | None = Field(default=None, description="API address (OpenAI-compatible servers, proxies)")
    api_key_env: str | None = Field(default=None, description="environment variable holding the API key")
    timeout: float | None = Field(default=None, gt=0, description="seconds for the whole request")
    connect_timeout: float | None = Field(default=None, gt=0, description="seconds to open the connection")
    max_retries: int | None = Field(default=None, ge=0, description="retries of a failed request (429, 5xx, network)")
    concurrency: int | None = Field(default=None, ge=1, description="requests in flight at once")
    rpm: int | None = Field(default=None, ge=1, description="requests per minute")
    tpm: int | None = Field(default=None, ge=1, description="tokens per minute")

    @field_validator("model")
    @classmethod
    def _provider_slash_model(cls, v: str) -> str:
        if "/" not in v or v.startswith("/") or v.endswith("/"):
            raise ValueError(f"expected 'provider/model' (e.g. sim/fast, openai/gpt-4o-mini), got {v!r}")
        return v


ModelRef = str | list[str]


class AgentDef(Strict):
    """An agent: a model, instructions and tools, run by the agent loop."""

    model: ModelRef = Field(description="a key of `models:`, a provider/model string, or a fallback list")
    description: str = Field(default="", description="what the agent is for (shown to orchestrators and in the console)")
    instructions: str = Field(default="", description="the system prompt")
    tools: list[str] = Field(default_factory=list, description="names of plugin tools the agent may call")
    max_turns: int = Field(default=10, ge=1, le=1000, description="model calls before the agent gives up")
    timeout: float | None = Field(default=None, gt=0, description="seconds for the whole agent run")
    temperature: float | None = Field(default=None, ge=0, le=2, description="sampling temperature (provider default when unset)")
    max_tokens: int | None = Field(default=None, ge=1, description="output tokens per model call")
    output_schema: dict[str, Any] | None = Field(default=None, description="JSON Schema of a structured final answer")
    output_retries: int = Field(default=2, ge=0, le=10, description="times a final answer that breaks output_schema is sent back")
    stream: bool = Field(default=True, description="stream model output (model.delta events)")
    tool_timeout: float | None = Field(default=None, gt=0, description="seconds per tool call")
    script: list[dict[str, Any] | str] | None = Field(
        default=None, description="scripted replies for a sim model, one per turn"
    )

    @field_validator("output_schema")
    @classmethod
    def _valid_json_schema(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        # A broken schema would only surface mid-run, after paying for model calls.
        if v is not None:
            import jsonschema

            try:
                jsonschema.Draft202012Validator.check_schema(v)
            except jsonschema.SchemaError as e:
                where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
                raise ValueError(f"not a valid JSON Schema: output_schema{where}: {e.message}") from None
        return v

    @field_validator("model")
    @classmethod
    def _non_empty(cls, v: ModelRef) -> ModelRef:
        if isinstance(v, list) and not v:
            raise ValueError("expected at least one model")
        return v


class Manifest(Strict):
    """A GoGrid manifest (version 1)."""

    version: Literal[1] = Field(description="manifest format version; only 1 exists")
    name: str | None = Field(default=None, description="the run's name in records and the console; defaults to the file name")
    description: str = Field(default="", description="free text")
    plugins: list[str] = Field(default_factory=lambda: ["./plugins"], description="plugin folders, relative to the manifest")
    models: dict[str, ModelDef] = Field(default_factory=dict, description="named models agents refer to")
    agents: dict[str, AgentDef] = Field(default_factory=dict, description="agents by name")
    workflows: dict[str, WorkflowSpec] = Field(default_factory=dict, description="named workflows, usable by `ref:`")
    workflow: WorkflowSpec = Field(description="what `gogrid run` runs")
    budgets: Budgets | None = Field(default=None, description="hard limits in USD, tokens and requests (docs/budgets.md)")
