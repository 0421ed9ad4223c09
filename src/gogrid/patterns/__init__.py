"""Workflow patterns. Importing this package registers every pattern's builder."""

from gogrid.patterns.build import BUILDERS, Builder, builder

# Each module registers its builder on import.
from gogrid.patterns import dynamic, graph, pipeline, team  # noqa: F401  isort: skip

__all__ = ["BUILDERS", "Builder", "builder"]
