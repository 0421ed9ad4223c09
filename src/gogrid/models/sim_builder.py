"""Build `sim/<name>` models from a manifest's model definition."""

from __future__ import annotations

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
        raise ModelConfigError(f"settings.{where}: {first['msg']}") from None
    return SimModel(name, parsed)
