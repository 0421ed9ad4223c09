"""The manifest's `budgets:` section: hard limits in USD, tokens and requests at every level.

    budgets:
      on_exceed: stop            # or finish: the agent is told and gets one last, tool-less turn
      thresholds: [0.5, 0.8, 1.0]
      webhook: https://hooks.example.com/gogrid
      run: {usd: 1.00, tokens: 200000, requests: 60}
      process: {usd: 20}
      nodes: {research: {usd: 0.25}}
      agents: {writer: {usd: 0.10}}
      models: {gpt: {usd: 0.50}}
      rolling: [{usd: 5, per: day}]

Every limit is hard: the engine reserves the worst case of each model call against every budget
above it and does not make a call that would not fit (docs/budgets.md).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

OnExceed = Literal["stop", "finish"]
METRICS = ("usd", "tokens", "requests")

_WINDOWS = {"hour": 3600.0, "day": 86400.0, "week": 7 * 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def parse_usd(v: Any) -> Any:
    """Accept 5, 0.25, "5", "$5.00" and "5 USD" for dollar amounts."""
    if isinstance(v, str):
        text = v.strip().removeprefix("$").removesuffix("USD").removesuffix("usd").strip()
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected an amount in USD such as 5 or '$0.50', got {v!r}") from None
    return v


class Limits(_Strict):
    """Hard limits for one scope. At least one metric must be set."""

    usd: float | None = Field(default=None, gt=0, description="US dollars")
    tokens: int | None = Field(default=None, ge=1, description="input plus output tokens")
    requests: int | None = Field(default=None, ge=1, description="model calls")
    on_exceed: OnExceed | None = Field(default=None, description="overrides budgets.on_exceed for this scope")

    @field_validator("usd", mode="before")
    @classmethod
    def _usd(cls, v: Any) -> Any:
        return parse_usd(v)

    @model_validator(mode="after")
    def _some_metric(self) -> Limits:
        if self.usd is None and self.tokens is None and self.requests is None:
            raise ValueError("expected at least one of usd, tokens, requests")
        return self

    def items(self) -> list[tuple[str, float]]:
        return [(m, float(v)) for m in METRICS if (v := getattr(self, m)) is not None]


class RollingBudget(Limits):
    """A limit on spend over a sliding window across runs, enforced from the database."""

    per: str = Field(default="day", description="hour, day, week, or a duration such as 12h or 30d")
    over: Literal["manifest", "project"] = Field(
        default="manifest", description="manifest: runs of this manifest; project: every run in the database"
    )

    @field_validator("per")
    @classmethod
    def _window(cls, v: str) -> str:
        window_seconds(v)
        return v

    @model_validator(mode="after")
    def _usd_only(self) -> RollingBudget:
        if self.tokens is not None or self.requests is not None:
            raise ValueError("rolling budgets count USD (what the database records as spend); use usd")
        return self

    @property
    def seconds(self) -> float:
        return window_seconds(self.per)


def window_seconds(per: str) -> float:
    if per in _WINDOWS:
        return _WINDOWS[per]
    m = _DURATION.match(per)
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"expected hour, day, week or a duration such as 12h, 30m, 7d; got {per!r}")
    return float(m.group(1)) * _UNIT_S[m.group(2)]


class Budgets(_Strict):
    on_exceed: OnExceed = Field(
        default="stop",
        description="stop: the scope owning the budget ends budget_exceeded; finish: the agent is told the "
        "budget is exhausted and gets one final turn without tools, if that turn fits",
    )
    thresholds: list[float] = Field(default_factory=lambda: [0.5, 0.8, 1.0], description="fractions of each limit that emit a budget event")
    webhook: str | None = Field(default=None, description="URL that receives threshold, exceeded and kill events as JSON")
    process: Limits | None = Field(default=None, description="everything this process runs")
    run: Limits | None = Field(default=None, description="each run of this manifest")
    nodes: dict[str, Limits] = Field(default_factory=dict, description="workflow nodes by path (below the run) or name")
    agents: dict[str, Limits] = Field(default_factory=dict, description="per agent name, per run")
    models: dict[str, Limits] = Field(default_factory=dict, description="per model (key of `models:` or provider/model), per run")
    rolling: list[RollingBudget] = Field(default_factory=list, description="limits over a sliding window across runs")
    spawn_share: float = Field(
        default=0.5, gt=0, le=1, description="share of the parent's remaining budget a dynamically spawned child may use"
    )
    prompt_margin: float = Field(
        default=0.1, ge=0, le=1, description="extra share of counted prompt tokens reserved, for provider-side framing"
    )

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v: list[float]) -> list[float]:
        for t in v:
            if not 0 < t <= 1:
                raise ValueError(f"thresholds are fractions of a limit in (0, 1], got {t}")
        if sorted(set(v)) != v:
            raise ValueError("thresholds must be increasing, without repeats, e.g. [0.5, 0.8, 1.0]")
        return v

    @field_validator("webhook")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"expected an http:// or https:// URL, got {v!r}")
        return v
