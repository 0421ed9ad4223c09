"""Fetch a web page over HTTP(S), only from allowed domains, with size and time limits.

Configuration (environment, or `ToolContext.extras` when GoGrid is embedded):
- `GOGRID_HTTP_ALLOW` / extras["http_allow"]: comma-separated domains. `example.com` also
  allows its subdomains; `*` allows every domain. Empty (the default) allows nothing, so an
  agent cannot reach the network unless the operator says so.
- `GOGRID_HTTP_MAX_BYTES` (default 262144): the body is cut there and marked truncated.
- `GOGRID_HTTP_TIMEOUT` (default 10 seconds): for the whole request.
Redirects are followed by hand (at most 5) and each hop is checked against the allowlist.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import httpx

from gogrid.tools.base import ToolContext, tool

DEFAULT_MAX_BYTES = 256 * 1024
DEFAULT_TIMEOUT = 10.0
MAX_REDIRECTS = 5
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")


class HttpToolError(ValueError):
    """A refused or failed fetch; the message goes back to the model."""


def allowed_domains(ctx: ToolContext | None) -> list[str]:
    raw = (ctx.extras.get("http_allow") if ctx else None) or os.environ.get("GOGRID_HTTP_ALLOW", "")
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return [d.strip().lower().lstrip(".") for d in items if d and d.strip()]


def is_allowed(host: str, allow: list[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(d == "*" or host == d or host.endswith("." + d) for d in allow)


def _setting(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise HttpToolError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise HttpToolError(f"{name} must be positive")
    return value


def _check_url(url: str, allow: list[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise HttpToolError(f"only http and https URLs are allowed, got {url!r}")
    if not parts.hostname:
        raise HttpToolError(f"no host in URL {url!r}")
    if not allow:
        raise HttpToolError("no domain is allowed; the operator must set GOGRID_HTTP_ALLOW (comma-separated domains)")
    if not is_allowed(parts.hostname, allow):
        raise HttpToolError(f"domain {parts.hostname!r} is not in the allowlist ({', '.join(allow)})")


@tool(timeout=120.0)  # a backstop; the request itself is bounded by GOGRID_HTTP_TIMEOUT
async def http_get(url: str, ctx: ToolContext) -> dict[str, Any]:
    """Fetch a URL with HTTP GET and return its status, content type and text.

    Args:
        url: an http:// or https:// URL on an allowed domain.
    """
    allow = allowed_domains(ctx)
    max_bytes = int(_setting("GOGRID_HTTP_MAX_BYTES", DEFAULT_MAX_BYTES))
    timeout = _setting("GOGRID_HTTP_TIMEOUT", DEFAULT_TIMEOUT)
    current = url
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, headers={"User-Agent": "gogrid-http-get/1"}) as client:
            for _ in range(MAX_REDIRECTS + 1):
                _check_url(current, allow)
                async with client.stream("GET", current) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = str(response.url.join(response.headers["location"]))
                        continue
                    return await _read(response, current, max_bytes)
            raise HttpToolError(f"too many redirects (more than {MAX_REDIRECTS})")
    except httpx.TimeoutException:
        raise HttpToolError(f"timed out after {timeout:g}s fetching {current}") from None
    except httpx.HTTPError as e:
        raise HttpToolError(f"request to {current} failed: {type(e).__name__}: {e}") from None


async def _read(response: httpx.Response, url: str, max_bytes: int) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "")
    body = bytearray()
    truncated = False
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > max_bytes:
            del body[max_bytes:]
            truncated = True
            break
    is_text = not content_type or any(t in content_type for t in TEXT_TYPES)
    text = body.decode(response.encoding or "utf-8", errors="replace") if is_text else f"[{content_type} content, {len(body)} bytes, not shown]"
    return {
        "url": url,
        "status": response.status_code,
        "content_type": content_type,
        "text": text,
        "bytes": len(body),
        "truncated": truncated,
    }
