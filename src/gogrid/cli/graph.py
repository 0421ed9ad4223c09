"""`gogrid graph FILE`: show the graphs of a manifest as text, or as Mermaid (`--mermaid`)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

from gogrid.cli.common import fail, manifest_error
from gogrid.config.errors import ManifestError
from gogrid.config.workflows import Condition, GraphNodeSpec, GraphSpec, WorkflowSpec
from gogrid.config.yaml_source import Path_, dotted

COMMAND = "graph"
HELP = "render a manifest's graph workflows as text or Mermaid"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="manifest")
    p.add_argument("--mermaid", action="store_true", help="print Mermaid flowcharts instead of text")


def main(args: argparse.Namespace) -> int:
    from gogrid.config.loader import load_manifest

    try:
        loaded = load_manifest(args.file)
    except ManifestError as e:
        return manifest_error(e)
    m = loaded.manifest
    graphs = list(find_graphs(m.workflow, ("workflow",)))
    for key, spec in m.workflows.items():
        graphs.extend(find_graphs(spec, ("workflows", key)))
    if not graphs:
        return fail(f"{args.file} has no graph workflow", 2)
    chunks = []
    for path, g in graphs:
        label = dotted(path)
        if args.mermaid:
            chart = mermaid(g)
            chunks.append(chart if len(graphs) == 1 else f"%% {label}\n{chart}")
        else:
            chunks.append(text(g, label))
    print("\n\n".join(chunks))
    return 0


def find_graphs(spec: WorkflowSpec | GraphNodeSpec, path: Path_) -> Iterator[tuple[Path_, GraphSpec]]:
    """Every graph spec inside a workflow spec, with where it sits in the manifest."""
    if spec.graph is not None:
        gpath: Path_ = (*path, "graph")
        yield gpath, spec.graph
        for name, node in spec.graph.nodes.items():
            if node.has_workflow:
                yield from find_graphs(node, (*gpath, "nodes", name))
    if spec.team is not None:
        for i, member in enumerate(spec.team.members):
            yield from find_graphs(member, (*path, "team", "members", i))
    if spec.pipeline is not None:
        for i, stage in enumerate(spec.pipeline.stages):
            yield from find_graphs(stage.workflow(), (*path, "pipeline", "stages", i))


def describe_node(node: GraphNodeSpec) -> str:
    parts = []
    if node.join is not None:
        parts.append(f"join {', '.join(node.join)}; merge {node.merge}")
    for key in ("agent", "ref"):
        if getattr(node, key):
            parts.append(f"{key} {getattr(node, key)}")
    for key in ("team", "pipeline", "graph", "dynamic"):
        if getattr(node, key) is not None:
            parts.append(key)
    if node.router:
        parts.append(f"router {node.router}")
    if node.max_visits:
        parts.append(f"max_visits {node.max_visits}")
    return "; ".join(parts)


def describe_condition(c: Condition | None) -> str:
    if c is None:
        return ""
    if c.choice is not None:
        return f"router chooses {c.choice}"
    tests = []
    if c.field:
        tests.append(f"field {c.field}")
    if c.equals is not None:
        tests.append(f"equals {c.equals!r}")
    if c.contains is not None:
        tests.append(f"contains {c.contains!r}")
    if c.regex is not None:
        tests.append(f"regex /{c.regex}/")
    return " ".join(tests)


def text(g: GraphSpec, label: str) -> str:
    lines = [f"{label} (start: {g.start_node}; max_steps {g.max_steps})", "  nodes:"]
    lines += [f"    {name} ({describe_node(n)})" for name, n in g.nodes.items()]
    lines.append("  edges (first that holds is taken):")
    for e in g.edges:
        cond = describe_condition(e.when)
        lines.append(f"    {e.from_} -> {', '.join(e.targets)}" + (f"  [{cond}]" if cond else ""))
    if not g.edges:
        lines.append("    (none)")
    return "\n".join(lines)


def mermaid(g: GraphSpec) -> str:
    ids: dict[str, str] = {}
    for i, name in enumerate(g.nodes):
        safe = re.sub(r"\W", "_", name)
        ids[name] = safe if safe == name and safe not in ("end", "graph", "subgraph") else f"n{i}_{safe}"
    lines = ["flowchart TD"]
    for name, n in g.nodes.items():
        body = f"{name}<br/>{describe_node(n)}".replace('"', "'")
        lines.append(f'  {ids[name]}{{{{"{body}"}}}}' if n.join is not None else f'  {ids[name]}["{body}"]')
    for e in g.edges:
        cond = e.when
        label = f"router: {cond.choice}" if cond is not None and cond.choice is not None else describe_condition(cond)
        arrow = f'-->|"{label.replace(chr(34), chr(39))}"|' if label else "-->"
        for t in e.targets:
            lines.append(f"  {ids.get(e.from_, e.from_)} {arrow} {ids.get(t, t)}")
    return "\n".join(lines)
