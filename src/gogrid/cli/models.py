"""`gogrid models [MANIFEST]`: the models a manifest uses, with provider, price and key status."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from gogrid.cli.common import manifest_error

COMMAND = "models"
HELP = "list configured models with provider, price per million tokens and whether a key is present"

# The key variables each provider reads when a manifest names none.
DEFAULT_KEYS = {"openai": ["OPENAI_API_KEY"], "anthropic": ["ANTHROPIC_API_KEY"], "gemini": ["GEMINI_API_KEY", "GOOGLE_API_KEY"]}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("manifest", nargs="?", help="manifest whose models to list (default: the providers and their key variables)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _refs(manifest: Any) -> list[str]:
    """Every model the manifest names: its `models:` keys, then provider/model strings in agents."""
    refs = list(manifest.models)
    for agent in manifest.agents.values():
        for ref in [agent.model] if isinstance(agent.model, str) else agent.model:
            if ref not in refs:
                refs.append(ref)
    return refs


def _row(ref: str, factory: Any) -> dict[str, Any]:
    from gogrid.models.registry import ModelConfigError

    row: dict[str, Any] = {"name": ref, "model": ref, "provider": ref.partition("/")[0], "price": None, "price_source": None, "key": None, "key_env": None, "base_url": None, "problem": None}
    try:
        handle = factory.handle(ref)
    except ModelConfigError as e:
        row["problem"] = str(e)
        return row
    model = handle.model
    row.update(model=handle.label, provider=handle.provider)
    if handle.price is not None:
        p = handle.price
        row["price"] = {"input": p.input, "output": p.output, "cached_input": p.cached_input}
        mdef = factory.manifest.models.get(ref)
        row["price_source"] = "manifest" if mdef is not None and mdef.price else ("genai-prices" if p.genai_ref else "built in")
    cfg = getattr(model, "cfg", None)
    if cfg is None:
        row["key"] = "not needed"
    else:
        row["base_url"] = cfg.base_url
        row["key_env"] = cfg.api_key_env or None
        row["key"] = "yes" if cfg.api_key is not None else ("no" if cfg.key_required else "not needed")
    return row


def _price_text(row: dict[str, Any]) -> str:
    p = row["price"]
    if p is None:
        return "unknown"
    text = f"${p['input']:g} in / ${p['output']:g} out"
    if p["cached_input"] is not None:
        text += f" / ${p['cached_input']:g} cached"
    return f"{text} per 1M ({row['price_source']})"


def main(args: argparse.Namespace) -> int:
    from gogrid.config.errors import ManifestError
    from gogrid.config.loader import load_manifest
    from gogrid.models.http import keys_optional
    from gogrid.models.registry import ModelFactory

    if not args.manifest:
        rows = [{"provider": p, "key_env": " or ".join(envs), "key": "yes" if any(os.environ.get(e) for e in envs) else "no"} for p, envs in DEFAULT_KEYS.items()]
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for r in rows:
                print(f"{r['provider']:<10} key {r['key']:<3} (${r['key_env']})")
        return 0
    try:
        loaded = load_manifest(args.manifest)
    except ManifestError as e:
        return manifest_error(e)
    factory = ModelFactory(loaded.manifest)
    with keys_optional():
        rows = [_row(ref, factory) for ref in _refs(loaded.manifest)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max([len(r["name"]) for r in rows] + [4])
    print(f"{'NAME':<{width}}  {'PROVIDER':<9}  {'KEY':<28}  PRICE")
    for r in rows:
        if r["problem"]:
            print(f"{r['name']:<{width}}  {r['provider']:<9}  {'-':<28}  error: {r['problem']}")
            continue
        key = r["key"] if r["key_env"] is None else f"{r['key']} (${r['key_env']})"
        print(f"{r['name']:<{width}}  {r['provider']:<9}  {key:<28}  {_price_text(r)}")
        if r["model"] != r["name"] or r["base_url"]:
            print(f"{'':<{width}}  {r['model']}" + (f" at {r['base_url']}" if r["base_url"] else ""))
    if any(r["problem"] for r in rows):
        print("some models cannot be built; see the errors above", file=sys.stderr)
        return 2
    return 0
