"""BudgetGovernor: hard budgets that fail closed, at every level above a model call.

Before each call the engine asks `reserve` for the worst case of that call (prompt tokens, plus a
margin, plus `max_tokens` of output, at the highest price the model could charge). The governor
collects every budget above the call (the process, rolling windows, the run, each workflow node
and agent scope up the tree, the agent's and the model's budgets in this run), refuses the call if
any of them cannot hold the worst case, and otherwise reserves it on all of them at once. After
the call `settle` swaps the reservation for the real usage. Because a call is only made when its
worst case fits, settled spend never passes a limit.

Everything runs on the event loop's thread; reserve and settle are synchronous and never await,
so a check and its reservation cannot interleave with another call's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gogrid.config.budgets import Budgets, Limits, RollingBudget
from gogrid.engine.errors import BudgetExceeded
from gogrid.events import BudgetEvent
from gogrid.governance.ledger import BudgetStatus, Ledger, Metric, fmt, status_of
from gogrid.messages import Message, ModelRequest, Usage
from gogrid.models.pricing import Price

if TYPE_CHECKING:
    from gogrid.engine.bus import EventBus
    from gogrid.engine.context import RunContext
    from gogrid.engine.runtime import Runtime
    from gogrid.engine.scope import Scope
    from gogrid.models.registry import ModelHandle

# Spend already recorded in the database: (window start, manifest file or None for every run,
# run ids to leave out because this process counts them live) -> USD.
SpendHistory = Callable[[float, str | None, set[str]], float]

# Where settle tallies each metric on every scope (for budgets added later, and kill records).
_TALLY = {"usd": "spent_usd", "tokens": "spent_tokens", "requests": "requests"}
# A final turn that cannot hold this many output tokens is not worth making.
MIN_FINAL_TOKENS = 16
FINISH_NOTICE = (
    "The budget for this work is exhausted ({why}). Do not call any tools. "
    "Give your best final answer now, as briefly as you can."
)


@dataclass(slots=True)
class Reservation:
    scope: Scope
    entries: list[tuple[Ledger, float]]
    price: Price | None
    bus: EventBus | None
    usd: float = 0.0  # worst case held in flight, for the scopes' in-flight tallies


@dataclass(eq=False)
class _RuntimeBudgets:
    """The budgets one loaded manifest declares, resolved against its models and agents."""

    config: Budgets
    manifest_file: str
    model_keys: dict[str, str]  # model label ("sim/fast") -> the key(s) budgets name it by
    rolling: list[Ledger] = field(default_factory=list)


class BudgetGovernor:
    """The engine's Governor with real budgets. One per process (the Host's), shared by every
    runtime, so process-wide and rolling budgets see all of them."""

    def __init__(
        self,
        *,
        process: Limits | None = None,
        run_usd: float | None = None,
        history: SpendHistory | None = None,
        thresholds: tuple[float, ...] = (0.5, 0.8, 1.0),
        prompt_margin: float = 0.1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.run_usd = run_usd
        self.history = history
        self.thresholds = thresholds
        self.prompt_margin = prompt_margin
        self.clock = clock
        self.bus: EventBus | None = None
        self.process: list[Ledger] = []
        self.ledgers: dict[tuple[str, str, str], Ledger] = {}  # (run id or "", key, metric), for snapshot/set
        self._runtimes: dict[Runtime, _RuntimeBudgets] = {}
        self._local_runs: set[str] = set()
        self._active = run_usd is not None
        if process is not None:
            self._set_process(process, "stop")

    # --- set-up ------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self._active

    def attach(self, runtime: Runtime) -> None:
        """Take a runtime's manifest budgets (the Runtime calls this when it is built)."""
        if self.bus is None:
            self.bus = runtime.bus
        config = runtime.loaded.manifest.budgets
        if config is None:
            return
        check_references(runtime)
        self._active = True
        labels: dict[str, str] = {}
        for key, mdef in runtime.loaded.manifest.models.items():
            labels.setdefault(mdef.model, key)
        rb = _RuntimeBudgets(config, str(runtime.loaded.path), labels)
        if config.process is not None:
            self._set_process(config.process, config.on_exceed, config.thresholds)
        for i, r in enumerate(config.rolling):
            rb.rolling.extend(self._rolling_ledgers(r, i, runtime, config))
        self._runtimes[runtime] = rb

    def _set_process(self, limits: Limits, on_exceed: str, thresholds: list[float] | None = None) -> None:
        for metric, limit in limits.items():
            existing = self.ledgers.get(("", "process", metric))
            if existing is not None:  # several manifests in one process: the tightest wins
                existing.limit = min(existing.limit or limit, limit)
                continue
            ledger = Ledger("process", "process", metric, limit, limits.on_exceed or on_exceed,  # type: ignore[arg-type]
                            tuple(thresholds or self.thresholds))
            self.process.append(ledger)
            self._index(ledger)
        self._active = True

    def _rolling_ledgers(self, r: RollingBudget, index: int, runtime: Runtime, config: Budgets) -> list[Ledger]:
        over = f"manifest {runtime.name}" if r.over == "manifest" else "project"
        out = []
        for metric, limit in r.items():
            key = f"rolling:{r.over}:{runtime.name if r.over == 'manifest' else '*'}:{r.per}"
            shared = self.ledgers.get(("", key, metric))
            if shared is not None:  # the same manifest loaded twice (the console): one window, one tally
                shared.limit = min(shared.limit or limit, limit)
                out.append(shared)
                continue
            ledger = Ledger(key, f"rolling budget {fmt('usd', limit)} per {r.per} ({over})", metric, limit,  # type: ignore[arg-type]
                            r.on_exceed or config.on_exceed, tuple(config.thresholds),
                            window=r.seconds, over_manifest=r.over == "manifest")
            self._index(ledger)
            out.append(ledger)
        return out

    # --- the Governor protocol -----------------------------------------------------------------

    def reserve(self, ctx: RunContext, model: ModelHandle, prompt_tokens: int, max_output_tokens: int) -> Any:
        scope = ctx.scope
        if not self._active:
            return Reservation(scope, [], None, None)
        ledgers = self._ledgers_for(ctx, model)
        if not ledgers:
            return Reservation(scope, [], None, None)
        in_tokens = self.prompt_reserve(prompt_tokens, ctx.runtime)
        price = worst_price(model)
        amounts: dict[str, float | None] = {
            "usd": price.worst_case(in_tokens, max_output_tokens) if price is not None else None,
            "tokens": float(in_tokens + max_output_tokens),
            "requests": 1.0,
        }
        bus = ctx.runtime.bus
        for ledger, owner in ledgers:
            amount = amounts[ledger.metric]
            if amount is None:
                why = (f"model {model.label} has no known price, so no call can be proven to fit {ledger.label} "
                       f"({fmt('usd', ledger.limit or 0)}); give it a `price:` under `models:` in the manifest")
                self._refuse(ctx, ledger, owner, why, bus, finish=False)
            elif not ledger.fits(amount):
                self._refuse(ctx, ledger, owner, self._why(ledger, amount, in_tokens, max_output_tokens, model), bus,
                             finish=ledger.on_exceed == "finish")
        entries: list[tuple[Ledger, float]] = []
        for ledger, _owner in ledgers:
            amount = amounts[ledger.metric] or 0.0
            ledger.reserve(amount)
            entries.append((ledger, amount))
            self._event(bus, ctx.scope, "reserve", ledger, amount)
        usd = amounts["usd"] or 0.0
        for s in scope.ancestors():
            s.state["inflight_usd"] = s.state.get("inflight_usd", 0.0) + usd
        return Reservation(scope, entries, price, bus, usd)

    def settle(self, reservation: Any, usage: Usage, cost_usd: float | None) -> None:
        if not isinstance(reservation, Reservation):
            return
        now = self.clock()
        tokens = float(usage.input_tokens + usage.output_tokens)
        # Tally spend on every scope up the tree: the console and kill records read it.
        for s in reservation.scope.ancestors():
            st = s.state
            if reservation.usd:
                st["inflight_usd"] = max(0.0, st.get("inflight_usd", 0.0) - reservation.usd)
            st["spent_usd"] = st.get("spent_usd", 0.0) + (cost_usd or 0.0)
            st["spent_tokens"] = st.get("spent_tokens", 0) + int(tokens)
            st["requests"] = st.get("requests", 0) + 1
        killed = next((s for s in reservation.scope.ancestors() if s.kill_reason is not None), None)
        if killed is not None and reservation.bus is not None:
            self._event(reservation.bus, reservation.scope, "settle", None, cost_usd or 0.0, key=killed.path,
                        spent=killed.state.get("spent_usd", 0.0),
                        reason=f"partial usage after kill: {usage.input_tokens}+{usage.output_tokens} tokens ({usage.count})")
        for ledger, reserved in reservation.entries:
            if ledger.metric == "usd":
                # An unknown actual price (a fallback model nobody priced) keeps the worst case.
                actual = cost_usd if cost_usd is not None else reserved
            elif ledger.metric == "tokens":
                actual = tokens
            else:
                actual = 1.0
            crossed = ledger.settle(reserved, actual, now)
            if ledger.window is not None:
                ledger.local.append((now, actual))
            reason = None
            if actual > reserved * (1 + 1e-9) + 1e-12:
                reason = f"usage exceeded its reservation by {fmt(ledger.metric, actual - reserved)}"
            self._event(reservation.bus, reservation.scope, "settle", ledger, actual, reason=reason)
            for t in crossed:
                self._threshold(reservation.bus, reservation.scope, ledger, t)

    # --- dynamic children ----------------------------------------------------------------------

    def allot(self, scope: Scope, *, usd: float | None = None, tokens: float | None = None,
              requests: float | None = None, share: float | None = None, runtime: Runtime | None = None) -> list[Ledger]:
        """Give a (spawned) scope its own slice: explicit limits, and/or a share of what every
        budget above it has left. Its calls still count against everything above."""
        wanted: dict[Metric, float | None] = {"usd": usd, "tokens": tokens, "requests": requests}
        rb = self._runtimes.get(runtime) if runtime is not None else None
        above: list[Ledger] = [*self.process, *(rb.rolling if rb is not None else [])]
        for s in scope.ancestors()[1:]:
            above.extend(self._own_ledgers(s, rb))
        if share is not None:
            for metric in ("usd", "tokens", "requests"):
                rooms = [lg.room() for lg in above if lg.metric == metric]
                if rooms and math.isfinite(min(rooms)):
                    sliced = min(rooms) * share
                    given = wanted[metric]
                    wanted[metric] = sliced if given is None else min(given, sliced)
        out = []
        ledgers = scope.state.setdefault("budgets", [])
        for metric, limit in wanted.items():
            if limit is None:
                continue
            ledger = Ledger(scope.path, f"{scope.kind} {scope.path}", metric, limit, "stop", self.thresholds, scope.run_id)
            ledgers.append(ledger)
            self._index(ledger)
            self._event(self.bus, scope, "set", ledger, limit, reason="slice of the parent's budget")
            out.append(ledger)
        if out:
            self._active = True
        return out

    # --- finishing when a budget runs out -------------------------------------------------------

    def final_request(self, ctx: RunContext, model: ModelHandle, req: ModelRequest, error: BudgetExceeded) -> ModelRequest | None:
        """The last, tool-less turn an agent is offered when a `finish` budget runs out, with
        `max_tokens` cut to what every budget can still hold; None when even that does not fit."""
        from gogrid.engine.context import reservable_prompt_tokens

        notice = Message("user", FINISH_NOTICE.format(why=error.summary or str(error)))
        final = ModelRequest(
            system=req.system, messages=[*req.messages, notice], tools=[], temperature=req.temperature,
            max_tokens=None, output_schema=req.output_schema, stream=req.stream, agent=req.agent, turn=req.turn,
        )
        prompt = self.prompt_reserve(reservable_prompt_tokens(final, model), ctx.runtime)
        price = worst_price(model)
        room = float(req.max_tokens or model.max_tokens)
        for ledger, _owner in self._ledgers_for(ctx, model):
            left = ledger.room()
            if ledger.metric == "tokens":
                room = min(room, left - prompt)
            elif ledger.metric == "requests":
                room = room if left >= 1 else 0
            elif price is None:
                return None
            elif price.output > 0:
                room = min(room, (left - price.worst_case(prompt, 0)) * 1_000_000 / price.output)
            elif left < price.worst_case(prompt, 0):
                room = 0
        tokens = math.floor(room)
        if tokens < MIN_FINAL_TOKENS:
            return None
        final.max_tokens = tokens
        return final

    def prompt_reserve(self, prompt_tokens: int, runtime: Runtime | None = None) -> int:
        """Prompt tokens to reserve: the count plus the manifest's `prompt_margin`."""
        rb = self._runtimes.get(runtime) if runtime is not None else None
        margin = rb.config.prompt_margin if rb is not None else self.prompt_margin
        return math.ceil(prompt_tokens * (1 + margin))

    # --- kill and control ----------------------------------------------------------------------

    def on_kill(self, scope: Scope, reason: str, actor: str, bus: EventBus | None = None) -> None:
        """Record what a killed scope had spent (and had in flight) at the moment of the kill."""
        self._event(bus or self.bus, scope, "kill", None, 0.0, key=scope.path,
                    spent=scope.state.get("spent_usd", 0.0), reserved=scope.state.get("inflight_usd", 0.0),
                    reason=reason, actor=actor)

    def set_limit(self, scope: str, metric: Metric, limit: float | None, *, run_id: str | None = None,
                  runtime: Runtime | None = None, actor: str = "user", target: Scope | None = None) -> Ledger:
        """Change (or add) a limit on a live budget. `scope` is a key from `snapshot()`
        ("process", a scope path with its run_id, "agent:<run>:<name>", ...), or pass the live
        `target` scope to limit it (a budget is created when it had none)."""
        if target is not None:
            rb = self._runtimes.get(runtime) if runtime is not None else None
            ledger = next((lg for lg in self._own_ledgers(target, rb) if lg.metric == metric), None)
            if ledger is None:
                on_exceed = rb.config.on_exceed if rb is not None else "stop"
                ledger = Ledger(target.path, f"{target.kind} {target.path}", metric, limit, on_exceed,
                                self.thresholds, target.run_id)
                # A budget added mid-run starts from what the scope has already spent.
                ledger.spent = float(target.state.get(_TALLY[metric], 0.0))
                target.state.setdefault("budgets", []).append(ledger)
                self._index(ledger)
        else:
            matches = [lg for (rid, key, m), lg in self.ledgers.items()
                       if key == scope and m == metric and (run_id is None or rid == run_id)]
            if not matches and scope == "process":
                matches = [Ledger("process", "process", metric, limit, "stop", self.thresholds)]
                self.process.append(matches[0])
                self._index(matches[0])
            if len(matches) != 1:
                known = sorted({key for _, key, _ in self.ledgers})
                what = "no" if not matches else "more than one (give the run id)"
                raise KeyError(f"{what} budget {scope!r} ({metric}); known: {', '.join(known) or 'none'}")
            ledger = matches[0]
        ledger.limit = limit
        # Thresholds already reported stay reported; ones now below the spend fire in order.
        ledger.crossed = [t for t in ledger.crossed if limit is None or ledger.history + ledger.spent >= t * limit]
        self._active = True
        self._event(self.bus, target, "set", ledger, limit or 0.0, actor=actor, reason=f"limit set to {fmt(metric, limit) if limit is not None else 'none'}")
        for t in ledger.cross(ledger.history + ledger.spent):
            self._threshold(self.bus, target, ledger, t)
        return ledger

    def snapshot(self) -> list[BudgetStatus]:
        now = self.clock()
        return [status_of(lg, now) for lg in self.ledgers.values()]

    def forget(self, run_id: str) -> None:
        """Drop a finished run's budgets from the snapshot (the database keeps their events)."""
        for k in [k for k in self.ledgers if k[0] == run_id]:
            del self.ledgers[k]

    # --- which budgets apply -------------------------------------------------------------------

    def _ledgers_for(self, ctx: RunContext, model: ModelHandle) -> list[tuple[Ledger, Scope]]:
        scope = ctx.scope
        chain = scope.ancestors()
        run = chain[-1]
        rb = self._runtimes.get(ctx.runtime)
        out: list[tuple[Ledger, Scope]] = [(lg, run) for lg in self.process]
        if rb is not None and rb.rolling:
            self._load_history(run, rb)
            out.extend((lg, run) for lg in rb.rolling)
        for s in chain:
            out.extend((lg, s) for lg in self._own_ledgers(s, rb))
        if rb is not None:
            agent_scope = next((s for s in chain if s.kind == "agent"), None)
            if agent_scope is not None and agent_scope.name in rb.config.agents:
                out.extend((lg, agent_scope) for lg in self._keyed(run, "agent", agent_scope.name, rb.config.agents[agent_scope.name], rb))
            for label in model_labels(model):
                key = label if label in rb.config.models else rb.model_keys.get(label)
                if key is not None and key in rb.config.models:
                    out.extend((lg, run) for lg in self._keyed(run, "model", label, rb.config.models[key], rb))
        if len(out) > 1:  # a ledger reached twice (a fallback chain naming one model twice) counts once
            unique: dict[int, tuple[Ledger, Scope]] = {}
            for lg, owner in out:
                unique.setdefault(id(lg), (lg, owner))
            out = list(unique.values())
        return out

    def _own_ledgers(self, scope: Scope, rb: _RuntimeBudgets | None = None) -> list[Ledger]:
        """The budgets bound to one scope, created the first time the scope is seen."""
        ledgers: list[Ledger] | None = scope.state.get("budgets")
        if ledgers is not None and scope.state.get("budgets_ready"):
            return ledgers
        ledgers = scope.state.setdefault("budgets", [])
        scope.state["budgets_ready"] = True
        limits: list[tuple[Limits, str]] = []
        config = rb.config if rb is not None else None
        if scope.kind == "run":
            self._local_runs.add(scope.run_id)
            if config is not None and config.run is not None:
                limits.append((config.run, config.on_exceed))
            if self.run_usd is not None:
                limits.append((Limits(usd=self.run_usd), "stop"))
        elif config is not None:
            rel = scope.path.split("/", 1)[1] if "/" in scope.path else ""
            # Nodes match by path below the run or by name; agents (budgeted by name under
            # `agents:`) match here only by path, so one agent is not limited twice.
            for name in (rel, scope.name) if scope.kind == "node" else (rel,):
                if name in config.nodes:
                    limits.append((config.nodes[name], config.on_exceed))
                    break
        thresholds = tuple(config.thresholds) if config is not None else self.thresholds
        for lim, on_exceed in limits:
            for metric, limit in lim.items():
                have = next((lg for lg in ledgers if lg.metric == metric), None)
                if have is not None:  # manifest and --budget both set a run limit: the lower holds
                    have.limit = min(have.limit or limit, limit)
                    continue
                kind = "run" if scope.kind == "run" else "node"
                ledger = Ledger(scope.path, f"{kind} {scope.path}", metric, limit,  # type: ignore[arg-type]
                                lim.on_exceed or on_exceed, thresholds, scope.run_id)
                ledgers.append(ledger)
                self._index(ledger)
        return ledgers

    def _keyed(self, run: Scope, kind: str, name: str, limits: Limits, rb: _RuntimeBudgets) -> list[Ledger]:
        """Per-run budgets of an agent or a model, shared by every scope that agent runs in."""
        table: dict[str, list[Ledger]] = run.state.setdefault(f"{kind}_budgets", {})
        found = table.get(name)
        if found is None:
            key = f"{kind}:{run.run_id}:{name}"
            found = []
            for metric, limit in limits.items():
                ledger = Ledger(key, f"{kind} {name}", metric, limit, limits.on_exceed or rb.config.on_exceed,  # type: ignore[arg-type]
                                tuple(rb.config.thresholds), run.run_id)
                found.append(ledger)
                self._index(ledger)
            table[name] = found
        return found

    def _index(self, ledger: Ledger) -> None:
        self.ledgers[(ledger.run_id or "", ledger.key, ledger.metric)] = ledger

    # --- rolling windows -----------------------------------------------------------------------

    def _load_history(self, run: Scope, rb: _RuntimeBudgets) -> None:
        """Once per run: what the database says was spent in each window, by other runs."""
        if run.state.get("rolling_loaded"):
            return
        run.state["rolling_loaded"] = True
        self._local_runs.add(run.run_id)
        now = self.clock()
        for ledger in rb.rolling:
            since = now - (ledger.window or 0.0)
            ledger.since = since
            local = ledger.local
            while local and local[0][0] < since:
                local.pop(0)
            recorded = 0.0
            if self.history is not None:
                manifest = rb.manifest_file if ledger.over_manifest else None
                recorded = self.history(since, manifest, set(self._local_runs))
            # Local spend is counted in `spent`; what left the window no longer counts.
            ledger.spent = sum(a for _, a in local)
            ledger.history = recorded
            ledger.crossed = [t for t in ledger.crossed if ledger.limit and ledger.used >= t * ledger.limit]
            for t in ledger.cross(ledger.history + ledger.spent):
                self._threshold(self.bus, run, ledger, t)

    # --- refusals and events -------------------------------------------------------------------

    def _why(self, ledger: Ledger, amount: float, prompt: int, max_out: int, model: ModelHandle) -> str:
        m = ledger.metric
        if ledger.since is not None:
            when = datetime.fromtimestamp(ledger.since, UTC).strftime("%Y-%m-%d %H:%M UTC")
            spent = f"{fmt(m, ledger.history + ledger.spent)} spent since {when}"
        else:
            spent = f"{fmt(m, ledger.spent)} spent"
        if ledger.reserved:
            spent += f" and {fmt(m, ledger.reserved)} reserved for calls in flight"
        need = f"the next call needs up to {fmt(m, amount)}"
        if m != "requests":
            need += f" ({prompt} prompt + {max_out} output tokens on {model.label})"
        return f"{ledger.label}: the limit of {fmt(m, ledger.limit or 0)} would be exceeded: {spent}; {need}"

    def _refuse(self, ctx: RunContext, ledger: Ledger, owner: Scope, why: str, bus: EventBus, *, finish: bool) -> None:
        self._event(bus, ctx.scope, "exceeded", ledger, 0.0, reason=why)
        summary = f"{ledger.label}: {fmt(ledger.metric, ledger.history + ledger.spent)} of {fmt(ledger.metric, ledger.limit or 0)} spent"
        error = BudgetExceeded(why, scope=owner.span_id, finish=finish, summary=summary)
        if not finish:
            # The scope that owns the budget ends now, with every task still running inside it.
            owner.exceed(why)
        raise error

    def _threshold(self, bus: EventBus | None, scope: Scope | None, ledger: Ledger, t: float) -> None:
        self._event(bus, scope, "threshold", ledger, 0.0, threshold=t,
                    reason=f"{ledger.label}: {t:.0%} of {fmt(ledger.metric, ledger.limit or 0)} reached")

    def _event(self, bus: EventBus | None, scope: Scope | None, action: str, ledger: Ledger | None, amount: float, *,
               key: str | None = None, spent: float | None = None, reserved: float | None = None,
               threshold: float | None = None, reason: str | None = None, actor: str | None = None) -> None:
        if bus is None:
            return
        run_id = scope.run_id if scope is not None else (ledger.run_id if ledger and ledger.run_id else "-")
        span_id = scope.span_id if scope is not None else "-"
        bus.publish(BudgetEvent(
            run_id=run_id, span_id=span_id, parent_span_id=scope.parent_span_id if scope is not None else None,
            action=action,  # type: ignore[arg-type]
            scope=key if key is not None else (ledger.key if ledger else "-"),
            metric=ledger.metric if ledger else "usd",
            amount=amount,
            spent=spent if spent is not None else (ledger.history + ledger.spent if ledger else 0.0),
            reserved=reserved if reserved is not None else (ledger.reserved if ledger else 0.0),
            limit=ledger.limit if ledger else None, threshold=threshold, reason=reason, actor=actor,
        ))


def model_labels(model: ModelHandle) -> list[str]:
    chain = getattr(model.model, "chain", None)
    if chain:
        return [h.label for h in chain]
    return [model.label]


def worst_price(model: ModelHandle) -> Price | None:
    """The highest price any model in a fallback chain charges; None if any is unknown."""
    chain = getattr(model.model, "chain", None)
    prices = [h.price for h in chain] if chain else [model.price]
    if any(p is None for p in prices):
        return None
    known = [p for p in prices if p is not None]
    return Price(max(p.input for p in known), max(p.output for p in known))


def check_references(runtime: Runtime) -> None:
    """Budgets that name an agent or model the manifest does not define are errors (file:line)."""
    from gogrid.config.errors import ManifestError
    from gogrid.config.loader import did_you_mean

    loaded = runtime.loaded
    m = loaded.manifest
    assert m.budgets is not None
    issues = []
    for name in m.budgets.agents:
        if name not in m.agents:
            issues.append(loaded.issue(("budgets", "agents", name), f"unknown agent {name!r}{did_you_mean(name, m.agents)}; budgets.agents takes names from `agents:`"))
    labels = {d.model for d in m.models.values()}
    for a in m.agents.values():
        for ref in [a.model] if isinstance(a.model, str) else a.model:
            labels.add(m.models[ref].model if ref in m.models else ref)
    for name in m.budgets.models:
        if name not in m.models and name not in labels:
            issues.append(loaded.issue(("budgets", "models", name), f"unknown model {name!r}{did_you_mean(name, [*m.models, *labels])}; use a key of `models:` or a provider/model an agent uses"))
    if issues:
        raise ManifestError(issues)
