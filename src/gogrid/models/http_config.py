"""Model settings for the HTTP providers, and API keys: read only from the environment
variables a manifest names, held in a `Secret` that never prints, and masked out of any text a
server echoes back.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from gogrid.config.schema import ModelDef
from gogrid.models.registry import ModelConfigError


class Secret:
    """An API key. Its repr and str never show the value, so it cannot leak through a log line,
    an event or an exception by accident."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def redact(text: str, secret: Secret | None) -> str:
    """`text` with the key (and any line quoting it) masked, for messages built from what a
    server echoed back."""
    if secret is None or not secret.reveal():
        return text
    value = secret.reveal()
    text = text.replace(value, "***")
    # Servers sometimes echo a key cut short or mangled; mask any long run of it too.
    if len(value) >= 16:
        for i in range(0, len(value) - 11, 4):
            chunk = value[i : i + 12]
            if chunk in text:
                text = text.replace(chunk, "***")
    return text


# `gogrid validate` and `gogrid models` inspect manifests on machines without keys: there a
# missing key is reported, not fatal. Everywhere else it stops the load.
_KEYS_OPTIONAL: ContextVar[list[str] | None] = ContextVar("gogrid_keys_optional", default=None)


@contextmanager
def keys_optional() -> Iterator[list[str]]:
    """Within this block models build without their keys; the list collects what is missing."""
    missing: list[str] = []
    token = _KEYS_OPTIONAL.set(missing)
    try:
        yield missing
    finally:
        _KEYS_OPTIONAL.reset(token)


def find_key(label: str, env_names: list[str], *, required: bool) -> tuple[Secret | None, str]:
    """The key from the first variable of `env_names` that is set, and the variable's name."""
    if not env_names:
        return None, ""
    for name in env_names:
        value = os.environ.get(name, "").strip()
        if value:
            return Secret(value), name
    names = " or ".join(env_names)
    if required:
        message = f"environment variable {names} is not set (the API key for {label})"
        collector = _KEYS_OPTIONAL.get()
        if collector is None:
            raise ModelConfigError(message)
        collector.append(message)
    return None, env_names[0]


# --- configuration ----------------------------------------------------------------------------------

COMMON_SETTINGS = {
    "max_tokens": "output tokens when an agent sets none",
    "read_timeout": "seconds without a byte before a request is abandoned",
    "retry_backoff": "first backoff wait in seconds (doubles per retry, with jitter)",
    "retry_backoff_max": "longest backoff wait in seconds",
    "max_retry_wait": "longest Retry-After honoured; longer ones fail at once so a fallback can take over",
    "headers": "extra HTTP headers (mapping)",
    "structured_output": "native | prompt: how an output schema reaches the model",
}


@dataclass
class HttpConfig:
    base_url: str
    api_key: Secret | None = None
    api_key_env: str = ""
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    total_timeout: float = 600.0
    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 20.0
    max_retry_wait: float = 60.0
    concurrency: int = 16
    rpm: int | None = None
    tpm: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    structured_output: str = "native"
    max_tokens: int | None = None  # sent when an agent sets none, so the output stays within what budgets reserve
    key_required: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # provider-specific settings


def http_config(
    provider: str,
    name: str,
    mdef: ModelDef,
    *,
    default_base: str,
    base_env: str | None,
    key_envs: list[str],
    key_required: bool,
    extra_settings: dict[str, str] | None = None,
) -> HttpConfig:
    """Read a model definition into an HttpConfig, rejecting unknown settings by name.

    The base URL comes from the manifest, else `base_env` (as the official SDKs do), else the
    provider's public address. The key comes from `api_key_env` when the manifest names one
    (then it is required), else from the provider's usual variables."""
    label = f"{provider}/{name}"
    known = {**COMMON_SETTINGS, **(extra_settings or {})}
    settings = dict(mdef.settings)
    for setting in settings:
        if setting not in known:
            from gogrid.config.loader import did_you_mean

            raise ModelConfigError(
                f"settings.{setting}: unknown setting for {provider}{did_you_mean(setting, known)}; "
                f"expected one of: {', '.join(sorted(known))}"
            )
    base = (mdef.base_url or (os.environ.get(base_env, "") if base_env else "") or default_base).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ModelConfigError(f"base_url: expected an http:// or https:// address, got {base!r}")
    envs = [mdef.api_key_env] if mdef.api_key_env else key_envs
    required = key_required or bool(mdef.api_key_env)
    key, env_name = find_key(label, envs, required=required)
    headers = settings.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ModelConfigError("settings.headers: expected a mapping of header name to text")
    structured = settings.get("structured_output", "native")
    if structured not in ("native", "prompt"):
        raise ModelConfigError(f"settings.structured_output: expected 'native' or 'prompt', got {structured!r}")
    cfg = HttpConfig(base_url=base, api_key=key, api_key_env=env_name, headers=dict(headers), structured_output=structured, key_required=required)
    try:
        if mdef.timeout is not None:
            cfg.total_timeout = float(mdef.timeout)
            cfg.read_timeout = min(cfg.read_timeout, cfg.total_timeout)
        if mdef.connect_timeout is not None:
            cfg.connect_timeout = float(mdef.connect_timeout)
        if mdef.max_retries is not None:
            cfg.max_retries = int(mdef.max_retries)
        if mdef.concurrency is not None:
            cfg.concurrency = int(mdef.concurrency)
        cfg.rpm, cfg.tpm = mdef.rpm, mdef.tpm
        if "max_tokens" in settings:
            cfg.max_tokens = int(settings["max_tokens"])
            if cfg.max_tokens < 1:
                raise ValueError(f"settings.max_tokens: expected a whole number >= 1, got {settings['max_tokens']!r}")
        for key_, attr in (("read_timeout", "read_timeout"), ("retry_backoff", "backoff_base"),
                           ("retry_backoff_max", "backoff_max"), ("max_retry_wait", "max_retry_wait")):
            if key_ in settings:
                value = float(settings[key_])
                if value < 0:
                    raise ValueError(f"settings.{key_}: expected a number >= 0, got {value}")
                setattr(cfg, attr, value)
    except (TypeError, ValueError) as e:
        raise ModelConfigError(str(e)) from None
    cfg.extra = {k: v for k, v in settings.items() if k in (extra_settings or {})}
    return cfg
