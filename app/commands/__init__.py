"""One module per command (group). Each exposes ``register(subparsers)``."""

from __future__ import annotations

from app.commands import (
    ask,
    capture,
    chats,
    consolidate,
    forget,
    importing,
    init,
    later,
    lock,
    maintain,
    models,
    passwd,
    privacy,
    search,
    service,
    stats,
)

MODULES = (init, capture, importing, search, ask, chats, models, stats, forget, maintain,
           consolidate, service, privacy, lock, passwd, later)
