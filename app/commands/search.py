"""`afterimage search QUERY`: semantic + keyword search over decrypted memories."""

from __future__ import annotations

import argparse
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
    p = sub.add_parser("search", help="search your memories",
                       description="Search your memories by meaning and by words.")
    p.add_argument("query", nargs="+", metavar="QUERY")
    p.add_argument("--since", metavar="T", help="ISO time, or 2h / 3d / today / yesterday")
    p.add_argument("--until", metavar="T", help="ISO time, or 2h / 3d / today / yesterday")
    p.add_argument("--app", metavar="NAME", help="only memories of this app")
    p.add_argument("--limit", metavar="N", type=int, default=None, help="at most N results")
    p.add_argument("--monitor", metavar="N", type=int, default=None,
                   help="only memories of monitor N (1 = first)")
    p.add_argument("--literal", action="store_true",
                   help="do not read time words in the query (\"yesterday\", \"in March\")")
    add_passphrase_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    from core.timeparse import parse_time

    since = parse_time(args.since) if args.since else None
    until = parse_time(args.until) if args.until else None
    query = " ".join(args.query)
    with ctx.memory() as memory:
        memory.unlock(read_passphrase(args))
        parsed = None if args.literal else memory.parse_query(query)
        hits = memory.search(query, since=since, until=until, app=args.app,
                             limit=args.limit, monitor=args.monitor,
                             natural_time=not args.literal)
    if args.json:
        print_json([{"id": h.id, "timestamp": iso(h.timestamp), "app": h.app,
                     "title": h.title, "source": h.source, "score": h.score,
                     "snippet": h.snippet, "caption": h.caption, "monitor": h.monitor,
                     "duplicates": list(h.duplicates)} for h in hits])
        return EXIT_OK
    if parsed is not None and parsed.phrase and parsed.since and parsed.until:
        start = parsed.since.astimezone().strftime("%Y-%m-%d %H:%M")
        end = parsed.until.astimezone().strftime("%Y-%m-%d %H:%M")
        print(f"({parsed.phrase!r}: {start} to {end})")
    if not hits:
        print("No memories match.")
        return EXIT_OK
    for n, h in enumerate(hits, 1):
        when = h.timestamp.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        where = " — ".join(x for x in (h.app, h.title) if x) or (h.source or "(unknown)")
        similar = f"  (+{len(h.duplicates)} similar)" if h.duplicates else ""
        print(f"{n:>2}. {when}  {where}  [{h.score:.2f}]{similar}")
        if h.source and h.source not in where:
            print(f"    file: {h.source}")
        if h.caption:
            print(f"    {h.caption}")
        if h.snippet:
            print(f"    {h.snippet}")
        print(f"    id: {h.id}")
    return EXIT_OK
