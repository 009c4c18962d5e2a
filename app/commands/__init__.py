"""One module per command (group). Each exposes ``register(subparsers)``."""

from __future__ import annotations

from app.commands import (
    capture,
    forget,
    importing,
    init,
    later,
    privacy,
    search,
    service,
    stats,
)

MODULES = (init, capture, importing, search, stats, forget, service, privacy, later)
