"""The manifest and command references are generated from the code; these tests fail when a field
or a flag changes and the docs were not regenerated (the message says how)."""

from __future__ import annotations

from conftest import ROOT
from gogrid.cli import _reference as cli_reference
from gogrid.cli import build_parser
from gogrid.config import reference as manifest_reference
from gogrid.config.schema import Manifest


def test_the_manifest_reference_matches_the_schema() -> None:
    path = ROOT / "docs" / "manifest.md"
    text = path.read_text(encoding="utf-8")
    assert manifest_reference.splice(text, manifest_reference.render()) == text, (
        "docs/manifest.md is out of date: run `python -m gogrid.config.reference docs/manifest.md`"
    )


def test_every_manifest_field_is_in_the_reference() -> None:
    text = (ROOT / "docs" / "manifest.md").read_text(encoding="utf-8")
    for model in [Manifest, *manifest_reference._nested(Manifest)]:
        for name, field in model.model_fields.items():
            assert f"| `{field.alias or name}` |" in text, f"{model.__name__}.{name} is not documented"


def test_the_command_reference_matches_the_parsers() -> None:
    path = ROOT / "docs" / "cli.md"
    text = path.read_text(encoding="utf-8")
    assert manifest_reference.splice(text, cli_reference.render(), cli_reference.BEGIN, cli_reference.END) == text, (
        "docs/cli.md is out of date: run `python -m gogrid.cli._reference docs/cli.md`"
    )
    for command in cli_reference._subparsers(build_parser()):
        assert f"### gogrid {command}\n" in text


def test_type_names_read_well() -> None:
    from typing import Any, Literal

    assert manifest_reference.type_name(str | None) == "str | null"
    assert manifest_reference.type_name(dict[str, Any]) == "dict[str, any]"
    assert manifest_reference.type_name(Literal["a", "b"]) == '"a" | "b"'
    assert manifest_reference.type_name(list[int]) == "list[int]"
