"""Build `sim/<name>` models from a manifest's model definition."""

from __future__ import annotations

import difflib

from pydantic import ValidationError

from gogrid.config.schema import ModelDef
from gogrid.models.registry import ModelConfigError
from gogrid.models.sim import SimModel, SimSettings


def build(name: str, mdef: ModelDef) -> SimModel:
    settings = dict(mdef.settings)
    settings.pop("max_tokens", None)
    try:
        parsed = SimSettings.model_validate(settings)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            close = difflib.get_close_matches(where, list(SimSettings.model_fields), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(SimSettings.model_fields)}"
            message = f"unknown sim setting {where!r} ({hint})"
        elif not isinstance(first.get("input"), dict | list):
            message += f" (got {first['input']!r})"
        raise ModelConfigError(f"settings.{where}: {message}") from None
    return SimModel(name, parsed)
