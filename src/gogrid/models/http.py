"""The HTTP side shared by every real provider: one httpx client per model, error mapping, and
the retry loop with its limits.

A provider subclasses `HttpModel` and supplies the wire format: the URL and body of a request,
how to read a JSON response, how to follow a stream (`StreamState`), and how its error bodies
read. Everything about timing (timeouts, retries, backoff, Retry-After, concurrency and
per-minute limits) is here; settings and keys are in http_config, stream assembly in http_stream.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import anyio
import httpx

from gogrid.messages import CountKind, ModelRequest, ModelResponse, Usage
from gogrid.models.base import AttemptHook, AttemptInfo, DeltaHook, ModelError
from gogrid.models.http_config import HttpConfig, Secret, find_key, http_config, keys_optional, redact
from gogrid.models.http_stream import StreamState, parse_tool_call, sse_events
from gogrid.models.pricing import Price, lookup_price
from gogrid.models.resilience import RateWindow, backoff_delay, endpoint_limits, parse_retry_after
from gogrid.models.tokens import count_prompt, count_text

__all__ = [
    "HttpConfig", "HttpModel", "Secret", "StreamState", "find_key", "http_config", "keys_optional",
    "parse_tool_call", "redact",
]


# --- errors -----------------------------------------------------------------------------------------

RETRYABLE_STATUS = {408, 409, 425, 429}
_REASONS = {400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found",
            408: "request timeout", 409: "conflict", 413: "request too large", 422: "unprocessable",
            429: "rate limited", 500: "server error", 502: "bad gateway", 503: "unavailable",
            504: "gateway timeout", 529: "overloaded"}


def _snippet(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


# --- the model --------------------------------------------------------------------------------------


class HttpModel(ABC):
    """A model behind an HTTP API. Subclasses set `provider` and implement the wire format."""

    provider: ClassVar[str] = ""

    def __init__(self, name: str, cfg: HttpConfig) -> None:
        self.name = name
        self.cfg = cfg
        self._client: httpx.AsyncClient | None = None
        self._endpoint = f"{self.provider} {cfg.base_url}"

    # -- wire format (subclasses) --

    @abstractmethod
    def url(self, req: ModelRequest) -> str:
        """Subclasses give the wire format."""

    @abstractmethod
    def auth_headers(self, key: str) -> dict[str, str]:
        """Subclasses give the wire format."""

    @abstractmethod
    def body(self, req: ModelRequest) -> dict[str, Any]:
        """Subclasses give the wire format."""

    @abstractmethod
    def parse(self, data: dict[str, Any]) -> ModelResponse:
        """Subclasses give the wire format."""

    @abstractmethod
    def feed(self, state: StreamState, event: str, data: str) -> None:
        """Subclasses give the wire format."""

    def error_text(self, body: Any) -> str | None:
        """The message inside a provider's error body (parsed JSON), if it has one."""
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, dict) and isinstance(err.get("message"), str):
                kind = err.get("type") or err.get("status") or err.get("code")
                return f"{err['message']}" + (f" ({kind})" if isinstance(kind, str) and kind else "")
            if isinstance(err, str):
                return err
            if isinstance(body.get("message"), str):
                return str(body["message"])
        return None

    # -- plumbing --

    @property
    def price(self) -> Price | None:
        """The list price, looked up by where the model is served when that tells more."""
        return lookup_price(self.provider, self.name, self.cfg.base_url)

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.name}"

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            c = self.cfg
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(connect=c.connect_timeout, read=c.read_timeout, write=c.read_timeout, pool=None),
                limits=httpx.Limits(max_connections=c.concurrency, max_keepalive_connections=c.concurrency),
                follow_redirects=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def headers(self) -> dict[str, str]:
        h = {"content-type": "application/json", "accept": "application/json", **self.cfg.headers}
        if self.cfg.api_key is not None:
            h.update(self.auth_headers(self.cfg.api_key.reveal()))
        return h

    def error(self, message: str, **kw: Any) -> ModelError:
        return ModelError(redact(f"{self.label}: {message}", self.cfg.api_key), **kw)

    def http_error(self, status: int, text: str, headers: Any, partial: ModelResponse | None = None) -> ModelError:
        try:
            detail = self.error_text(json.loads(text)) if text else None
        except ValueError:
            detail = None
        detail = detail or _snippet(text) or "(empty body)"
        message = f"HTTP {status} {_REASONS.get(status, 'error')}: {_snippet(detail)}"
        if status in (401, 403):
            if self.cfg.api_key is not None:
                message += f" (check the key in ${self.cfg.api_key_env})"
            else:
                message += f" (no API key sent; set ${self.cfg.api_key_env})" if self.cfg.api_key_env else " (no API key sent; name its variable with api_key_env)"
        elif status == 404:
            message += f" (is the model name right, and is {self.cfg.base_url} the right base_url?)"
        retry_after = parse_retry_after(headers)
        should = headers.get("x-should-retry")
        retryable = should == "true" if should in ("true", "false") else (status in RETRYABLE_STATUS or status >= 500)
        return self.error(message, retryable=retryable, status=status, retry_after=retry_after, partial=partial)

    # -- one call, with retries --

    async def request(
        self,
        req: ModelRequest,
        *,
        on_delta: DeltaHook | None = None,
        on_attempt: AttemptHook | None = None,
    ) -> ModelResponse:
        body = self.body(req)
        url = self.url(req)
        cfg = self.cfg
        limits = endpoint_limits(self._endpoint, cfg.concurrency)
        window = limits.window(self.name, cfg.rpm, cfg.tpm)
        budget_tokens = len(json.dumps(body)) // 4 + (req.max_tokens or cfg.max_tokens or 0)
        attempt = 0
        while True:
            attempt += 1
            booking: list[float] | None = None
            if window is not None:
                booking, _ = await window.acquire(budget_tokens)
            started = time.monotonic()
            try:
                async with limits.concurrency:
                    response = await self._attempt(url, body, req, on_delta if req.stream else None)
            except ModelError as e:
                latency = time.monotonic() - started
                wait, why_not = self._retry_plan(e, attempt)
                if why_not is None:
                    if on_attempt:
                        on_attempt(AttemptInfo(self.provider, self.name, attempt, "retry", e.status, str(e), wait, latency))
                    await anyio.sleep(wait)
                    continue
                if why_not:
                    e.args = (f"{e.args[0]} ({why_not})",)
                if on_attempt:
                    on_attempt(AttemptInfo(self.provider, self.name, attempt, "error", e.status, str(e), 0.0, latency))
                raise
            latency = time.monotonic() - started
            self._fill_usage(response, req)
            if booking is not None:
                RateWindow.settle(booking, response.usage.total_tokens)
            response.provider, response.model, response.attempts = self.provider, self.name, attempt
            if on_attempt:
                on_attempt(AttemptInfo(self.provider, self.name, attempt, "ok", 200, None, 0.0, latency))
            return response

    def _retry_plan(self, e: ModelError, attempt: int) -> tuple[float, str | None]:
        """(wait, None) to retry, or (0, reason) to give up; reason "" when it is obvious."""
        cfg = self.cfg
        if not e.retryable:
            return 0.0, ""
        if e.partial is not None and (e.partial.text or e.partial.tool_calls):
            return 0.0, "not retried: output was already streamed"
        if attempt > cfg.max_retries:
            return 0.0, f"gave up after {attempt} attempt(s)"
        if e.retry_after is not None:
            if e.retry_after > cfg.max_retry_wait:
                return 0.0, f"Retry-After {e.retry_after:g}s exceeds max_retry_wait {cfg.max_retry_wait:g}s"
            return e.retry_after, None
        return backoff_delay(attempt, cfg.backoff_base, cfg.backoff_max), None

    async def _attempt(self, url: str, body: dict[str, Any], req: ModelRequest, on_delta: DeltaHook | None) -> ModelResponse:
        state = StreamState(on_delta)
        cfg = self.cfg
        try:
            with anyio.fail_after(cfg.total_timeout):
                if req.stream:
                    return await self._stream(url, body, state)
                return await self._plain(url, body)
        except TimeoutError:
            raise self.error(f"timed out after {cfg.total_timeout:g}s (timeout)", retryable=True, partial=self._partial(state, req)) from None
        except httpx.ConnectTimeout:
            raise self.error(f"could not connect to {cfg.base_url} within {cfg.connect_timeout:g}s (connect_timeout)", retryable=True) from None
        except httpx.TimeoutException:
            raise self.error(f"no data for {cfg.read_timeout:g}s (read_timeout)", retryable=True, partial=self._partial(state, req)) from None
        except httpx.ConnectError as e:
            raise self.error(f"cannot connect to {cfg.base_url}: {e}", retryable=True) from None
        except httpx.TransportError as e:
            what = "stream cut off" if state.delivered else "connection failed"
            raise self.error(f"{what}: {type(e).__name__}: {e}", retryable=True, partial=self._partial(state, req)) from None
        except ModelError as e:
            if e.partial is None:
                e.partial = self._partial(state, req)
            raise

    async def _plain(self, url: str, body: dict[str, Any]) -> ModelResponse:
        resp = await self.client().post(url, json=body, headers=self.headers())
        if resp.status_code >= 400:
            raise self.http_error(resp.status_code, resp.text, resp.headers)
        try:
            data = resp.json()
        except ValueError:
            raise self.error(f"invalid JSON in the response body: {_snippet(resp.text, 120)!r}", retryable=True, status=resp.status_code) from None
        return self._parse(data)

    def _parse(self, data: Any) -> ModelResponse:
        if isinstance(data, dict) and "error" in data:
            raise self.http_error(200, json.dumps(data), {})
        try:
            return self.parse(data)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            raise self.error(f"unexpected response shape ({type(e).__name__}: {e})", retryable=True) from None

    async def _stream(self, url: str, body: dict[str, Any], state: StreamState) -> ModelResponse:
        headers = {**self.headers(), "accept": "text/event-stream"}
        async with self.client().stream("POST", url, json=body, headers=headers) as resp:
            if resp.status_code >= 400:
                text = (await resp.aread()).decode("utf-8", errors="replace")
                raise self.http_error(resp.status_code, text, resp.headers)
            if resp.headers.get("content-type", "").startswith("application/json"):
                # A server that ignores `stream` answers in one piece.
                await resp.aread()
                try:
                    response = self._parse(resp.json())
                except ValueError:
                    raise self.error(f"invalid JSON in the response body: {_snippet(resp.text, 120)!r}", retryable=True) from None
                state.add_text(response.text)
                return response
            async for event, data in sse_events(resp.aiter_lines()):
                try:
                    self.feed(state, event, data)
                except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
                    raise self.error(f"malformed stream event {event!r} ({type(e).__name__}: {e})", retryable=True) from None
                if state.done:
                    break
        if not state.done:
            raise self.error("stream ended before its final event (truncated)", retryable=True)
        return state.response()

    def _partial(self, state: StreamState, req: ModelRequest) -> ModelResponse | None:
        if not state.delivered and state.usage is None:
            return None
        partial = state.response()
        text = partial.text + "".join(c.raw_arguments for c in partial.tool_calls)
        out, kind = count_text(text, self.name) if text else (0, "estimated")
        reported = state.usage
        partial.usage = Usage(
            reported.input_tokens if reported else 0,
            max(out, reported.output_tokens if reported else 0),
            reported.cached_tokens if reported else 0,
            "counted" if kind == "counted" or not text else "estimated",
        )
        return partial

    def _fill_usage(self, response: ModelResponse, req: ModelRequest) -> None:
        """Servers that report no usage (some local ones) are counted here, and labelled so."""
        u = response.usage
        if u.count != "exact" or (u.input_tokens == 0 and u.output_tokens == 0):
            n_in, kind_in = count_prompt(req.system, req.messages, req.tools, self.name)
            out_text = response.text + "".join(c.raw_arguments for c in response.tool_calls)
            n_out, kind_out = count_text(out_text, self.name) if out_text else (0, kind_in)
            kind: CountKind = "counted" if kind_in == kind_out == "counted" else "estimated"
            response.usage = Usage(n_in, n_out, 0, kind)
