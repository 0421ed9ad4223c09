"""Workflow patterns. Importing this package registers every pattern's builder."""

from gogrid.patterns.build import BUILDERS, Builder, builder

__all__ = ["BUILDERS", "Builder", "builder"]
