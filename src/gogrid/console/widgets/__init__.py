"""Widgets of the console that Textual does not provide as needed."""
