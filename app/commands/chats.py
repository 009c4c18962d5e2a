"""`afterimage chats`: list, show and forget saved conversations (stored encrypted)."""

from __future__ import annotations

import argparse
from typing import Any

from app.cliutil import (
    EXIT_OK,
    EXIT_USAGE,
    add_json_option,
    add_passphrase_option,
    iso,
    print_json,
    read_passphrase,
)
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser("chats", help="list, show or forget saved conversations",
                       description="Saved conversations with `afterimage ask` (encrypted in "
                                   "the vault). Without an action: list them.")
    p.add_argument("action", nargs="?", choices=("list", "show", "forget"), default="list")
    p.add_argument("conversation", nargs="?", metavar="ID")
    p.add_argument("--all", action="store_true", help="with forget: every conversation")
    add_passphrase_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def list_conversations(ctx: AppContext, args: argparse.Namespace) -> int:
    memory = ctx.open_memory()
    try:
        memory.unlock(read_passphrase(args))
        convs = memory.conversations.conversations()
    finally:
        memory.close()
    if getattr(args, "json", False):
        print_json([{"id": c.id, "started": iso(c.started), "updated": iso(c.updated),
                     "turns": c.turns, "title": c.title} for c in convs])
        return EXIT_OK
    if not convs:
        print("No saved conversations.")
        return EXIT_OK
    for c in convs:
        when = c.updated.astimezone().strftime("%Y-%m-%d %H:%M")
        print(f"{c.id}  {when}  {c.turns} turn(s)  {c.title[:70]}")
    return EXIT_OK


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.commands.ask import citations_json, print_citations
    from core.errors import InvalidInput

    if args.action == "list":
        return list_conversations(ctx, args)
    if args.action == "forget":
        if not args.all and not args.conversation:
            raise InvalidInput("say which conversation to forget (an ID from `afterimage "
                               "chats`), or --all")
        memory = ctx.open_memory()
        try:  # forgetting needs no passphrase: it destroys, it never reads
            store = memory.conversations
            removed = store.forget_all() if args.all else \
                store.forget_conversation(args.conversation)
        finally:
            memory.close()
        if args.json:
            print_json({"turns": removed})
        else:
            print(f"Forgot {removed} chat turn(s).")
        return EXIT_OK
    if not args.conversation:
        print("afterimage chats show: give a conversation ID")
        return EXIT_USAGE
    memory = ctx.open_memory()
    try:
        memory.unlock(read_passphrase(args))
        turns = memory.conversations.turns(args.conversation)
    finally:
        memory.close()
    if not turns:
        raise InvalidInput(f"no conversation {args.conversation}")
    if args.json:
        print_json([{"question": t.question, "created": iso(t.created), "answer": t.answer,
                     "citations": citations_json(t.citations), "route": t.route,
                     "model": t.model, "supported": t.supported} for t in turns])
        return EXIT_OK
    for t in turns:
        print(f"> {t.question}")
        print(t.answer)
        print_citations(t.citations)
        print()
    return EXIT_OK
