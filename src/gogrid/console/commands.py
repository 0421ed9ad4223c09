"""The command palette (ctrl+p): commands depend on what is selected and what is running."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from gogrid.console.app import GoGridApp


class GoGridCommands(Provider):
    async def discover(self) -> Hits:
        app = cast("GoGridApp", self.app)
        for name, help_text, callback in app.context_commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        app = cast("GoGridApp", self.app)
        matcher = self.matcher(query)
        for name, help_text, callback in app.context_commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
