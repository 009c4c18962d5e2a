"""Afterimage entry points: CLI, GUI launch and wiring."""

__version__ = "0.1.0"
