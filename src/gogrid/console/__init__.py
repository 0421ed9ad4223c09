"""gogrid-tui: the terminal operations console (Textual). The engine never imports this package."""
