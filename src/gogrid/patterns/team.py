"""Team: members talk in a room until they agree, a moderator decides, or `max_rounds`.

Each round every member speaks at once, seeing the room as it stood when the round began (a
member with nothing to add replies PASS). Room messages are `message` events carrying the room
(the team's span id), round, sender and reply-to; votes are `team.vote` events and the outcome a
`team.consensus` event. Members are agents (they get the transcript as a conversation, plus the
shared-memory tools) or any other workflow (they get the transcript as text).

    team = Team("review", [writer, critic], strategy="majority", options=["approve", "revise"])
    output = await ctx.run_node(team, "Draft the launch note")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from gogrid.config.workflows import MemorySpec, WorkflowSpec
from gogrid.config.yaml_source import Path_
from gogrid.engine.agent import AgentWorkflow
from gogrid.engine.errors import WorkflowError
from gogrid.events import Consensus, Log, MessagePosted, Vote, new_id
from gogrid.messages import Message
from gogrid.patterns.build import Builder, builder
from gogrid.patterns.common import Conversation, agent_behind, as_text, is_child_failure
from gogrid.patterns.memory import memory_tools

if TYPE_CHECKING:
    from gogrid.engine.context import RunContext, Workflow

STRATEGIES = ("unanimous", "majority", "first-response", "moderator")
PASS = "PASS"
_VOTE_LINE = re.compile(r"VOTE:\s*([^\n]+)")


@dataclass
class RoomMessage:
    id: str
    sender: str
    round: int
    content: str
    reply_to: str | None = None
    vote: str | None = None


@dataclass(eq=False)
class Team:
    name: str
    members: list[Workflow]
    strategy: str = "majority"
    options: list[str] = field(default_factory=lambda: ["approve", "revise"])
    max_rounds: int = 3
    moderator: AgentWorkflow | None = None
    coordinator: AgentWorkflow | None = None
    memory: MemorySpec = field(default_factory=MemorySpec)
    timeouts: dict[str, float] = field(default_factory=dict)
    pattern: str = "team"

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; expected one of {', '.join(STRATEGIES)}")
        if self.strategy == "moderator" and self.moderator is None:
            raise ValueError("strategy 'moderator' needs a moderator agent")

    async def run(self, input: Any, ctx: RunContext) -> Any:
        task = as_text(input)
        room = _Room(self, ctx, task)
        tools = memory_tools(ctx, f"team:{ctx.path}", self.memory) if self.memory.enabled else {}
        room.post("task", 0, task, role="user")
        present = [m.name for m in self.members]
        decision: str | None = None
        reached = False
        rounds = 0
        for rnd in range(1, self.max_rounds + 1):
            rounds = rnd
            replies, present = await self._round(room, rnd, present, tools)
            if not present:
                raise WorkflowError(f"{ctx.path}: every member of the team failed or was killed")
            decision, reached = await self._decide(room, rnd, replies, present)
            if reached:
                break
        ctx.emit(Consensus(
            run_id=ctx.run_id, span_id=ctx.span_id, parent_span_id=ctx.scope.parent_span_id,
            room=ctx.span_id, round=rounds, strategy=self.strategy, reached=reached, decision=decision,
        ))
        if self.coordinator is not None:
            prompt = room.summary_prompt(decision, reached)
            return await ctx.run_node(self.coordinator, prompt, name=self.coordinator.name)
        return {
            "decision": decision,
            "consensus": reached,
            "rounds": rounds,
            "messages": [{"sender": m.sender, "round": m.round, "content": m.content} for m in room.messages[1:]],
        }

    async def _round(self, room: _Room, rnd: int, present: list[str], tools: dict[str, Any]) -> tuple[list[RoomMessage], list[str]]:
        """Everyone present speaks at once; returns the replies in arrival order and who is
        still in the room (a member that fails or is killed leaves it)."""
        ctx = room.ctx
        seen = list(room.messages)
        replies: list[RoomMessage] = []
        left: set[str] = set()
        by_name = {m.name: m for m in self.members}

        async def speak(name: str, tg: anyio.abc.TaskGroup) -> None:
            member = by_name[name]
            node, node_input = room.member_node(member, name, rnd, seen, tools)
            try:
                out = await ctx.run_node(node, node_input, name=name, timeout=self.timeouts.get(name))
            except Exception as e:
                if not is_child_failure(e):
                    raise
                left.add(name)
                ctx.emit(Log(run_id=ctx.run_id, span_id=ctx.span_id, level="warning", message=f"{name} left the room: {e}"))
                return
            text = as_text(out).strip()
            if not text or text.upper() == PASS:
                return
            reply_to = next((m.id for m in reversed(seen) if m.sender != name), None)
            msg = room.post(name, rnd, text, reply_to=reply_to)
            replies.append(msg)
            if self.strategy == "first-response":
                tg.cancel_scope.cancel()

        async with anyio.create_task_group() as tg:
            for name in present:
                tg.start_soon(speak, name, tg)
        return replies, [n for n in present if n not in left]

    async def _decide(self, room: _Room, rnd: int, replies: list[RoomMessage], present: list[str]) -> tuple[str | None, bool]:
        ctx = room.ctx
        if self.strategy == "first-response":
            return (replies[0].content, True) if replies else (None, False)
        votes: dict[str, str] = {}
        for m in replies:
            m.vote = parse_vote(m.content, self.options)
            if m.vote is not None:
                votes[m.sender] = m.vote
                ctx.emit(Vote(
                    run_id=ctx.run_id, span_id=ctx.span_id, parent_span_id=ctx.scope.parent_span_id,
                    room=ctx.span_id, round=rnd, voter=m.sender, choice=m.vote,
                    reason=m.content.rsplit(" - ", 1)[-1][:200] if " - " in m.content else "",
                ))
        if self.strategy == "moderator":
            assert self.moderator is not None
            prompt = room.moderator_prompt(rnd)
            answer = as_text(await ctx.run_node(self.moderator, prompt, name=self.moderator.name))
            choice = match_option(answer, self.options)
            return choice, choice is not None
        counts: dict[str, int] = {}
        for v in votes.values():
            counts[v] = counts.get(v, 0) + 1
        if not counts:
            return None, False
        top = max(self.options, key=lambda o: (counts.get(o, 0), -self.options.index(o)))
        if self.strategy == "unanimous":
            return top, len(votes) == len(present) and counts[top] == len(present)
        return top, counts.get(top, 0) * 2 > len(present)


class _Room:
    """The transcript of one team run and the prompts built from it."""

    def __init__(self, team: Team, ctx: RunContext, task: str) -> None:
        self.team = team
        self.ctx = ctx
        self.task = task
        self.messages: list[RoomMessage] = []

    def post(self, sender: str, rnd: int, content: str, *, role: str = "assistant", reply_to: str | None = None) -> RoomMessage:
        msg = RoomMessage(new_id("m"), sender, rnd, content, reply_to)
        self.messages.append(msg)
        ctx = self.ctx
        ctx.emit(MessagePosted(
            run_id=ctx.run_id, span_id=ctx.span_id, parent_span_id=ctx.scope.parent_span_id,
            message_id=msg.id, role=role, sender=sender, content=content,  # type: ignore[arg-type]
            room=ctx.span_id, round=rnd, reply_to=reply_to,
        ))
        return msg

    def ballot(self, name: str, rnd: int) -> str:
        team = self.team
        others = ", ".join(m.name for m in team.members if m.name != name)
        head = f"Round {rnd} of at most {team.max_rounds}. You are {name}, in a team with {others or 'no one else'}."
        if team.strategy == "first-response":
            return f"{head} Answer the task; the first answer is taken."
        options = " | ".join(team.options)
        return (
            f"{head} Give your view in a few sentences, or reply {PASS} if you have nothing to add. "
            f"End with one line 'VOTE: <option> - <reason>' using one of these options:\nVOTE: {options}"
        )

    def member_node(self, member: Workflow, name: str, rnd: int, seen: list[RoomMessage], tools: dict[str, Any]) -> tuple[Workflow, Any]:
        agent, template = agent_behind(member)
        task = template.replace("{input}", self.task) if template else self.task
        if agent is None:
            return member, f"{self.task}\n\n{self.transcript(seen)}\n\n{self.ballot(name, rnd)}".replace("\n\n\n\n", "\n\n")
        messages = [Message("user", task)]
        pending: list[str] = []
        # Within a round everyone spoke at once: own words first, then what the others said.
        for m in sorted(seen[1:], key=lambda m: (m.round, m.sender != name)):
            if m.sender == name:
                if pending:
                    messages.append(Message("user", "\n\n".join(pending)))
                    pending = []
                messages.append(Message("assistant", m.content, name=name))
            else:
                pending.append(f"[{m.sender}] {m.content}")
        pending.append(self.ballot(name, rnd))
        messages.append(Message("user", "\n\n".join(pending)))
        if messages[0].role == messages[1].role == "user":  # keep user/assistant alternating
            messages[:2] = [Message("user", messages[0].content + "\n\n" + messages[1].content)]
        return Conversation(agent, name, messages, tools), None

    def transcript(self, messages: list[RoomMessage] | None = None) -> str:
        lines = [f"[round {m.round}] {m.sender}: {m.content}" for m in (messages or self.messages)[1:]]
        return "Discussion so far:\n" + "\n".join(lines) if lines else ""

    def moderator_prompt(self, rnd: int) -> str:
        options = " | ".join(["continue", *self.team.options])
        return (
            f"You moderate a team discussion (round {rnd} of at most {self.team.max_rounds}).\n"
            f"Task: {self.task}\n\n{self.transcript()}\n\n"
            f"Decide the outcome, or answer 'continue' for another round.\nCHOOSE ONE OF: {options}"
        )

    def summary_prompt(self, decision: str | None, reached: bool) -> str:
        outcome = f"The team decided: {decision}." if reached else "The team did not reach a decision."
        return f"Task: {self.task}\n\n{self.transcript()}\n\n{outcome}\nWrite the team's final answer."


def parse_vote(text: str, options: list[str]) -> str | None:
    """The option of the last `VOTE: <option> - <reason>` line, or None."""
    found = _VOTE_LINE.findall(text)
    if not found:
        return None
    word = re.split(r"\s+-\s+|[\s.,;:!]", found[-1].strip(), maxsplit=1)[0]
    return next((o for o in options if o.lower() == word.lower().strip("`'\"*")), None)


def match_option(text: str, options: list[str]) -> str | None:
    """The option an answer names: an exact answer first, else the one option it mentions."""
    clean = text.strip().strip(".`'\"*").lower()
    for o in options:
        if clean == o.lower():
            return o
    named = [o for o in options if re.search(rf"\b{re.escape(o)}\b", text, re.IGNORECASE)]
    return named[0] if len(named) == 1 else None


@builder("team")
def _team(b: Builder, spec: WorkflowSpec, path: Path_) -> Workflow:
    t = spec.team
    assert t is not None
    tpath: Path_ = (*path, "team")
    members: list[Workflow] = []
    timeouts: dict[str, float] = {}
    for i, m in enumerate(t.members):
        wf = b.workflow(m, (*tpath, "members", i))
        if any(x.name == wf.name for x in members):
            b.problem((*tpath, "members", i), f"two members are named {wf.name!r}; give one a `name:`")
        members.append(wf)
        if m.timeout is not None:
            timeouts[wf.name] = m.timeout
    moderator = b.agent(t.moderator, (*tpath, "moderator")) if t.moderator else None
    coordinator = b.agent(t.coordinator, (*tpath, "coordinator")) if t.coordinator else None
    return Team(
        name=spec.name or "team", members=members, strategy=t.strategy, options=list(t.options),
        max_rounds=t.max_rounds, moderator=moderator, coordinator=coordinator, memory=t.memory,
        timeouts=timeouts,
    )
