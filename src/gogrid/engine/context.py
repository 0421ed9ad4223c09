"""RunContext: what a running workflow node reaches the world through.

Workflows never hold process-local handles of their own: the model, the tools, the bus and the
budgets are all reached through the context, so that a remote worker could be handed an
equivalent one. `run_node` is the single wrapper every node runs in: it opens a scope and a span,
emits the life-cycle events, and turns cancellation, kills, budget stops and errors into a final
status.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from gogrid.engine.errors import BudgetExceeded, ChildBudgetExceeded, ScopeKilledError, WorkflowError
from gogrid.engine.scope import Scope
from gogrid.events import (
    AgentFinished,
    AgentStarted,
    Event,
    MessagePosted,
    ModelAttempt,
    ModelCallFinished,
    ModelCallStarted,
    ModelDelta,
    NodeFinished,
    NodeStarted,
    RunStatus,
    new_id,
)
from gogrid.messages import ModelRequest, ModelResponse, Usage
from gogrid.models.base import AttemptInfo, ModelError
from gogrid.models.tokens import count_prompt, count_text, estimate_tokens

if TYPE_CHECKING:
    from gogrid.engine.runtime import Runtime
    from gogrid.models.registry import ModelHandle


class Workflow(Protocol):
    """Anything that can run as a node: an agent, a team, a pipeline, a graph, a dynamic
    orchestrator. `pattern` names which, for the record and the console."""

    @property
    def name(self) -> str: ...

    @property
    def pattern(self) -> str: ...

    async def run(self, input: Any, ctx: RunContext) -> Any: ...


@dataclass(slots=True, eq=False)
class RunContext:
    runtime: Runtime
    scope: Scope

    @property
    def run_id(self) -> str:
        return self.scope.run_id

    @property
    def span_id(self) -> str:
        return self.scope.span_id

    @property
    def path(self) -> str:
        return self.scope.path

    def emit(self, event: Event) -> None:
        self.runtime.bus.publish(event)

    # --- nodes -------------------------------------------------------------------------------

    async def run_node(self, workflow: Workflow, input: Any, *, name: str | None = None, timeout: float | None = None) -> Any:
        """Run `workflow` as a child node of this scope and return its output.

        Raises what the node raised (WorkflowError subclasses, BudgetExceeded) so the parent
        pattern can decide; a killed child raises ScopeKilledError to its parent, which goes on.
        Cancellation from outside propagates untouched.
        """
        rt = self.runtime
        node_name = name or workflow.name
        is_agent = workflow.pattern == "agent"
        scope = Scope(
            run_id=self.run_id,
            span_id=new_id("s"),
            kind="agent" if is_agent else "node",
            name=node_name,
            path=f"{self.scope.path}/{node_name}",
            parent=self.scope,
        )
        self.scope.children.append(scope)
        rt.register_scope(scope)
        child = RunContext(rt, scope)
        common: dict[str, Any] = {"run_id": self.run_id, "span_id": scope.span_id, "parent_span_id": self.scope.span_id}
        model_label = getattr(workflow, "model_label", "")
        if is_agent:
            self.emit(AgentStarted(name=node_name, path=scope.path, model=model_label, input=input, **common))
        else:
            self.emit(NodeStarted(name=node_name, pattern=workflow.pattern, path=scope.path, input=input, **common))
        scope.status = RunStatus.RUNNING
        output: Any = None
        error: str | None = None
        failure: BaseException | None = None
        try:
            with scope.cancel_scope:
                if timeout is not None:
                    with anyio.fail_after(timeout):
                        output = await workflow.run(input, child)
                else:
                    output = await workflow.run(input, child)
        except TimeoutError:
            scope.status, error = RunStatus.FAILED, f"timed out after {timeout:g}s"
            failure = _timeout_error(scope.path, error)
        except BudgetExceeded as e:
            scope.status, error = RunStatus.BUDGET_EXCEEDED, str(e)
            # The scope that owns the budget ends here; its parent sees a failed child.
            owns = e.scope in (None, scope.span_id)
            failure = ChildBudgetExceeded(scope.path, str(e)) if owns else e
        except anyio.get_cancelled_exc_class():
            # Cancelled from outside; a scope that had already run out of budget says so.
            if scope.budget_exceeded is not None:
                scope.status, error = RunStatus.BUDGET_EXCEEDED, scope.budget_exceeded
            else:
                scope.status, error = RunStatus.CANCELLED, "cancelled"
            self._emit_finished(workflow, scope, is_agent, None, error, common)
            raise
        except Exception as e:
            if scope.budget_exceeded is not None:  # this scope's budget ran out while children ran
                scope.status, error = RunStatus.BUDGET_EXCEEDED, scope.budget_exceeded
                failure = ChildBudgetExceeded(scope.path, error)
            else:
                scope.status, error = RunStatus.FAILED, str(e) or type(e).__name__
                failure = e
        else:
            if scope.kill_reason is not None:
                scope.status, error = RunStatus.KILLED, scope.kill_reason
            elif scope.budget_exceeded is not None:
                scope.status, error = RunStatus.BUDGET_EXCEEDED, scope.budget_exceeded
            else:
                scope.status = RunStatus.SUCCEEDED
        finally:
            rt.unregister_scope(scope)
        self._emit_finished(workflow, scope, is_agent, output, error, common)
        if scope.status == RunStatus.KILLED:
            raise ScopeKilledError(scope.path, scope.kill_reason or "killed")
        if scope.status == RunStatus.BUDGET_EXCEEDED and failure is None:
            raise ChildBudgetExceeded(scope.path, error or "budget exceeded")
        if failure is not None:
            raise failure
        return output

    def _emit_finished(self, workflow: Workflow, scope: Scope, is_agent: bool, output: Any, error: str | None, common: dict[str, Any]) -> None:
        if is_agent:
            self.emit(AgentFinished(
                name=scope.name, path=scope.path, status=scope.status, output=output,
                turns=scope.state.get("turns", 0), error=error, **common,
            ))
        else:
            self.emit(NodeFinished(
                name=scope.name, pattern=workflow.pattern, path=scope.path, status=scope.status,
                output=output, error=error, **common,
            ))

    # --- model calls -------------------------------------------------------------------------

    async def call_model(self, handle: ModelHandle, req: ModelRequest) -> ModelResponse:
        """One model call with its events, budget reservation and settlement.

        The call id is derived from the call's position in the run (agent path and turn), so a
        journal entry can be matched on resume.
        """
        rt = self.runtime
        call_id = req.call_id = f"{self.scope.path}#{req.turn}"
        span_id = new_id("s")
        common: dict[str, Any] = {"run_id": self.run_id, "span_id": span_id, "parent_span_id": self.scope.span_id}
        governor = rt.governor
        max_out = req.max_tokens or handle.max_tokens
        if governor.active:
            prompt_tokens, prompt_count = count_prompt(req.system, req.messages, req.tools, handle.encoding_model)
            worst_prompt = max(prompt_tokens, estimate_prompt(req))
        else:  # no budget needs an exact figure here; the provider reports the truth afterwards
            prompt_tokens = estimate_tokens(req.system) + sum(estimate_tokens(m.content) for m in req.messages)
            prompt_count = "estimated"
            worst_prompt = prompt_tokens
        try:
            reservation = governor.reserve(self, handle, worst_prompt, max_out)
        except BudgetExceeded as e:
            final = self._final_turn(handle, req, e)
            if final is None:
                raise
            return await self.call_model(handle, final)
        self.emit(ModelCallStarted(
            call_id=call_id, agent=self.scope.name, provider=handle.provider, model=handle.name,
            turn=req.turn, prompt_tokens=prompt_tokens, prompt_count=prompt_count, **common,
        ))
        received: list[str] = []
        attempts = 0

        def on_delta(text: str) -> None:
            received.append(text)
            self.emit(ModelDelta(call_id=call_id, text=text, **common))

        def on_attempt(info: AttemptInfo) -> None:
            nonlocal attempts
            attempts += 1
            self.emit(ModelAttempt(
                call_id=call_id, provider=info.provider, model=info.model, attempt=info.attempt,
                outcome=info.outcome, http_status=info.http_status, error=info.error,  # type: ignore[arg-type]
                wait_s=info.wait_s, latency_s=info.latency_s, **common,
            ))

        started = time.perf_counter()
        try:
            response = await handle.model.request(req, on_delta=on_delta if req.stream else None, on_attempt=on_attempt)
        except ModelError as e:
            usage = e.partial.usage if e.partial else _partial_usage(received, handle, prompt_tokens)
            self._model_finished(handle, req, call_id, common, "error", usage, reservation, started, attempts, str(e), "".join(received))
            raise
        except anyio.get_cancelled_exc_class():
            # Ctrl-C and shutdown cancel (actor "cancel"); an operator or a guard kills.
            status = "killed" if any(s.kill_reason and s.kill_actor != "cancel" for s in self.scope.ancestors()) else "cancelled"
            usage = _partial_usage(received, handle, prompt_tokens)
            self._model_finished(handle, req, call_id, common, status, usage, reservation, started, attempts, status, "".join(received))
            raise
        except Exception as e:  # a provider bug: still settle, so the reservation is not held forever
            usage = _partial_usage(received, handle, prompt_tokens)
            self._model_finished(handle, req, call_id, common, "error", usage, reservation, started, attempts, f"{type(e).__name__}: {e}", "".join(received))
            raise
        response.attempts = max(1, attempts)
        price_of = getattr(handle.model, "price_of", None)
        price = price_of(response) if price_of else handle.price
        cost = price.cost(response.usage) if price is not None else None
        governor.settle(reservation, response.usage, cost)
        self.emit(ModelCallFinished(
            call_id=call_id, agent=self.scope.name, provider=response.provider or handle.provider,
            model=response.model or handle.name, turn=req.turn, status="ok",
            input_tokens=response.usage.input_tokens, output_tokens=response.usage.output_tokens,
            cached_tokens=response.usage.cached_tokens, token_count=response.usage.count,
            cost_usd=cost, cost_known=cost is not None, latency_s=time.perf_counter() - started,
            finish_reason=response.finish_reason, text=response.text,
            tool_calls=len(response.tool_calls), attempts=response.attempts, **common,
        ))
        return response

    def _final_turn(self, handle: ModelHandle, req: ModelRequest, error: BudgetExceeded) -> ModelRequest | None:
        """A budget with `on_exceed: finish` ran out: offer the agent one last turn without tools,
        cut to what still fits (once per scope; None when it does not fit either)."""
        make = getattr(self.runtime.governor, "final_request", None)
        if not error.finish or make is None or self.scope.state.get("budget_finishing"):
            return None
        self.scope.state["budget_finishing"] = True
        final: ModelRequest | None = make(self, handle, req, error)
        if final is not None:
            notice = final.messages[-1]
            self.emit(MessagePosted(
                run_id=self.run_id, span_id=self.span_id, parent_span_id=self.scope.parent_span_id,
                message_id=new_id("m"), role="user", sender="budget", content=notice.content,
            ))
        return final

    def _model_finished(self, handle: ModelHandle, req: ModelRequest, call_id: str, common: dict[str, Any], status: str, usage: Usage, reservation: Any, started: float, attempts: int, error: str, text: str) -> None:
        cost = handle.price.cost(usage) if handle.price is not None else None
        self.runtime.governor.settle(reservation, usage, cost)
        self.emit(ModelCallFinished(
            call_id=call_id, agent=self.scope.name, provider=handle.provider, model=handle.name,
            turn=req.turn, status=status, input_tokens=usage.input_tokens,  # type: ignore[arg-type]
            output_tokens=usage.output_tokens, cached_tokens=usage.cached_tokens,
            token_count=usage.count, cost_usd=cost, cost_known=cost is not None,
            latency_s=time.perf_counter() - started, text=text, attempts=max(1, attempts),
            error=error, **common,
        ))


def estimate_prompt(req: ModelRequest) -> int:
    """A deliberately generous prompt size (about four characters a token, counted per part, with
    per-message framing): budgets reserve the larger of this and the tiktoken count, so a provider
    that tokenises less efficiently than tiktoken cannot push spend past a limit."""
    n = estimate_tokens(req.system) + 4
    for m in req.messages:
        n += estimate_tokens(m.content) + 4
        for call in m.tool_calls:
            n += estimate_tokens(call.name) + estimate_tokens(call.raw_arguments or "")
    for t in req.tools:
        n += estimate_tokens(t.name) + estimate_tokens(t.description) + estimate_tokens(str(t.parameters))
    return n


def reservable_prompt_tokens(req: ModelRequest, handle: ModelHandle) -> int:
    """The prompt size a budget reserves for `req` (the same figure `call_model` uses)."""
    counted, _ = count_prompt(req.system, req.messages, req.tools, handle.encoding_model)
    return max(counted, estimate_prompt(req))


def _partial_usage(received: list[str], handle: ModelHandle, prompt_tokens: int) -> Usage:
    """Tokens already streamed when a call was cut short: they were paid for, so they count. Once
    output has streamed the provider has read (and bills) the whole prompt, so it counts too;
    before any output the prompt is not known to have been billed, so input stays 0."""
    if not received:
        return Usage(0, 0, 0, "estimated")
    n, kind = count_text("".join(received), handle.encoding_model)
    return Usage(prompt_tokens, n, 0, kind)


def _timeout_error(path: str, message: str) -> Exception:
    return WorkflowError(f"{path}: {message}")

