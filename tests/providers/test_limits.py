"""Cancellation aborts the HTTP request; concurrency and per-minute limits are shared by every
model on an endpoint in the process; backoff and Retry-After parsing."""

from __future__ import annotations

import time
from email.utils import formatdate
from pathlib import Path

import anyio
import pytest

from gogrid.config.schema import ModelDef
from gogrid.engine.bus import Collector
from gogrid.engine.runtime import RunResult, Runtime
from gogrid.events import Event, RunStatus
from gogrid.messages import Message, ModelRequest
from gogrid.models.openai import build as build_openai
from gogrid.models.resilience import WINDOW_S, RateWindow, backoff_delay, parse_retry_after
from providers.harness import model_entry, of_kind, write_manifest
from providers.wire import Fault, Turn, WireServer


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
@pytest.mark.parametrize("how", ["cancel", "kill"])
def test_stopping_a_run_closes_the_connection(provider: str, how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with WireServer(provider, key="k") as s:
        monkeypatch.setenv(s.dialect.key_env, "k")
        s.script(Fault(hang=30))
        path = write_manifest(tmp_path, {"m": model_entry(s)}, {"model": "m", "stream": provider != "openai"})

        async def go() -> tuple[RunResult, list[Event]]:
            rt = Runtime.from_file(path)
            seen = rt.bus.subscribe(Collector())
            async with rt:
                handle = rt.start("hello")
                with anyio.fail_after(10):
                    while not s.seen:
                        await anyio.sleep(0.02)
                if how == "cancel":
                    rt.cancel(handle.run_id, "operator cancelled")
                else:
                    rt.kill(handle.run_id, reason="operator killed")
                with anyio.fail_after(10):
                    result = await handle.wait()
            return result, seen.events  # type: ignore[attr-defined]

        started = time.monotonic()
        result, events = anyio.run(go)
        assert s.client_closed.wait(10), "the server never saw the connection close"
        assert time.monotonic() - started < 20
    assert result.status == (RunStatus.CANCELLED if how == "cancel" else RunStatus.KILLED)
    assert of_kind(events, "model.finished")[0].status in ("cancelled", "killed")


def _request(text: str = "hi") -> ModelRequest:
    return ModelRequest(system="", messages=[Message("user", text)])


def _concurrent_peak(concurrency: int, monkeypatch: pytest.MonkeyPatch) -> int:
    with WireServer("openai", key="k", model="gpt-4o-mini") as s:
        monkeypatch.setenv(s.dialect.key_env, "k")
        s.script(*[Turn("ok", delay=0.2) for _ in range(4)])
        mdef = ModelDef(model="openai/gpt-4o-mini", base_url=s.base_url, api_key_env=s.dialect.key_env, concurrency=concurrency)
        # Two instances, as two runtimes in one process would build: they share the endpoint.
        models = [build_openai("gpt-4o-mini", mdef), build_openai("gpt-4o-mini", mdef)]

        async def go() -> None:
            async with anyio.create_task_group() as tg:
                for i in range(4):
                    tg.start_soon(models[i % 2].request, _request())
            for m in models:
                await m.aclose()

        anyio.run(go)
        assert len(s.seen) == 4
        return s.max_in_flight


def test_the_concurrency_limit_is_shared_across_instances(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _concurrent_peak(1, monkeypatch) == 1
    assert _concurrent_peak(4, monkeypatch) >= 2


def test_requests_per_minute() -> None:
    w = RateWindow(rpm=2, tpm=None)
    assert w.wait_time(10, now=0.0) == 0
    w._entries.extend([[0.0, 10.0], [1.0, 10.0]])
    assert w.wait_time(10, now=2.0) == pytest.approx(WINDOW_S - 2.0)  # the oldest must leave the window
    assert w.wait_time(10, now=WINDOW_S + 0.5) == 0


def test_tokens_per_minute_and_settling() -> None:
    w = RateWindow(rpm=None, tpm=1_000)
    first, second = [0.0, 600.0], [5.0, 300.0]
    w._entries.extend([first, second])
    assert w.wait_time(100, now=10.0) == 0  # 900 + 100 fits
    assert w.wait_time(200, now=10.0) == pytest.approx(WINDOW_S - 10.0)  # must wait for the first to expire
    RateWindow.settle(first, 100)  # the call used fewer tokens than booked
    assert w.wait_time(200, now=10.0) == 0
    assert w.wait_time(5_000, now=10.0) > 0  # larger than the budget: goes alone once the window is clear


def test_backoff_grows_with_jitter_and_a_cap() -> None:
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (8, 5.0)):
        waits = [backoff_delay(attempt, 0.5, 5.0) for _ in range(200)]
        assert all(0.25 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1  # jittered, not in lockstep


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "3"}) == 0.25
    assert 8 <= (parse_retry_after({"retry-after": formatdate(time.time() + 10, usegmt=True)}) or 0) <= 10
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_the_per_minute_governor_books_and_settles_real_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    from gogrid.models.resilience import endpoint_limits

    with WireServer("openai", key="k", model="gpt-4o-mini") as s:
        monkeypatch.setenv(s.dialect.key_env, "k")
        s.script(Turn("one", usage=(120, 8, 0)), Turn("two", usage=(130, 9, 0)))
        mdef = ModelDef(model="openai/gpt-4o-mini", base_url=s.base_url, api_key_env=s.dialect.key_env, rpm=100, tpm=50_000)
        model = build_openai("gpt-4o-mini", mdef)

        async def go() -> list[list[float]]:
            await model.request(_request())
            await model.request(_request("again"))
            await model.aclose()
            window = endpoint_limits(f"openai {s.base_url}", 1).windows["gpt-4o-mini"]
            return list(window._entries)

        entries = anyio.run(go)
    assert [e[1] for e in entries] == [128.0, 139.0]  # bookings corrected to the reported usage
