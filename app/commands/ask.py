"""`afterimage ask QUESTION`: answer from your memories with a local model, with citations."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cliutil import (
    EXIT_OK,
    add_json_option,
    add_passphrase_option,
    iso,
    print_json,
    read_passphrase,
)
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ask", help="ask a question about what you saw",
        description="Answer a question from your memories with a local model. Times in the "
                    "question are understood (\"yesterday afternoon\", \"at 3 pm\"); "
                    "\"how long\" / \"how many times\" / \"which apps most\" are computed "
                    "exactly. Every answer cites the memories it used.")
    p.add_argument("question", nargs="*", metavar="QUESTION")
    p.add_argument("--model", metavar="NAME|PATH",
                   help="a chat model from `afterimage models list`, or a GGUF file "
                        "(default: the embedded Gemma 3 270M)")
    p.add_argument("--since", metavar="T", help="only memories from T on")
    p.add_argument("--until", metavar="T", help="only memories before T")
    p.add_argument("--app", metavar="NAME", help="only memories of this app")
    p.add_argument("--conversation", metavar="ID", help="add the turn to this conversation")
    p.add_argument("--no-save", action="store_true", help="do not keep this turn in history")
    p.add_argument("--list", action="store_true",
                   help="list saved conversations (same as `afterimage chats`)")
    add_passphrase_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def citations_json(citations: Any) -> list[dict[str, Any]]:
    return [{"n": c.n, "id": c.id, "timestamp": iso(c.timestamp), "app": c.app,
             "title": c.title} for c in citations]


def answer_json(answer: Any) -> dict[str, Any]:
    return {
        "answer": answer.text,
        "citations": citations_json(answer.citations),
        "route": answer.route,
        "model": answer.model,
        "supported": answer.supported,
        "conversation": answer.conversation,
        "seconds": round(answer.seconds, 3),
    }


def print_citations(citations: Any) -> None:
    if not citations:
        return
    print("\nSources:")
    for c in citations:
        when = c.timestamp.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        where = " — ".join(x for x in (c.app, c.title) if x) or "(untitled)"
        print(f"  [{c.n}] {when}  {where}")
        print(f"      id: {c.id}")


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.commands import chats
    from core.chat import AskOptions
    from core.errors import InvalidInput
    from core.timeparse import parse_time

    if args.list:
        return chats.list_conversations(ctx, args)
    question = " ".join(args.question).strip()
    if not question:
        raise InvalidInput("ask a question, e.g. afterimage ask \"what was the error in my "
                           "terminal before lunch?\"")
    options = AskOptions(since=parse_time(args.since) if args.since else None,
                         until=parse_time(args.until) if args.until else None,
                         app=args.app)
    memory = ctx.open_memory()
    streamed: list[str] = []

    def on_token(piece: str) -> None:
        streamed.append(piece)
        if not args.json:
            sys.stdout.write(piece)
            sys.stdout.flush()

    def on_status(text: str) -> None:
        if not args.json:
            sys.stderr.write(f"\n({text})\n")
        streamed.clear()

    try:
        memory.unlock(read_passphrase(args))
        answer = memory.ask(question, options, model=args.model, on_token=on_token,
                            on_status=on_status, conversation=args.conversation,
                            save=not args.no_save)
    finally:
        memory.close()
    if args.json:
        print_json(answer_json(answer))
        return EXIT_OK
    if streamed:
        # The streamed text was provisional; print the checked answer when it differs.
        if "".join(streamed).strip() != answer.text.strip():
            print("\n\n" + answer.text)
        else:
            print()
    else:
        print(answer.text)
    print_citations(answer.citations)
    return EXIT_OK
