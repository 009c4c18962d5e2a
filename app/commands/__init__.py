"""One module per command (group). Each exposes ``register(subparsers)``."""

from __future__ import annotations

from app.commands import (
    ask,
    capture,
    chats,
    forget,
    importing,
    init,
    later,
    lock,
    maintain,
    models,
    passwd,
    search,
    stats,
)

MODULES = (init, capture, importing, search, ask, chats, models, stats, forget, maintain, lock,
           passwd, later)
