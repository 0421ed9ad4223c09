"""Workflow specs: the `workflow:` section and every place a workflow can stand.

A spec names exactly one pattern by its key: `agent`, `ref` (a named workflow), and the
multi-agent patterns. Any place that takes a workflow takes any of them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

PATTERN_KEYS = ("agent", "ref")


class WorkflowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str | None = Field(default=None, description="a display name for the node")
    agent: str | None = Field(default=None, description="run one agent defined under `agents:`")
    ref: str | None = Field(default=None, description="run a workflow defined under `workflows:`")
    input: str | None = Field(
        default=None, description="template for this node's input; {input} is what it receives"
    )
    timeout: float | None = Field(default=None, gt=0, description="seconds for this node")

    @model_validator(mode="after")
    def _exactly_one_pattern(self) -> WorkflowSpec:
        chosen = [k for k in PATTERN_KEYS if getattr(self, k) is not None]
        if len(chosen) != 1:
            keys = ", ".join(PATTERN_KEYS)
            got = ", ".join(chosen) if chosen else "none"
            raise ValueError(f"expected exactly one of {keys}; got {got}")
        return self

    @property
    def pattern(self) -> str:
        return next(k for k in PATTERN_KEYS if getattr(self, k) is not None)

    def body(self) -> Any:
        return getattr(self, self.pattern)
