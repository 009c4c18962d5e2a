"""`afterimage forget`: forget memories for ever (core/forget.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from app.cliutil import (
    EXIT_OK,
    EXIT_USAGE,
    add_json_option,
    add_passphrase_option,
    has_passphrase_source,
    human_bytes,
    iso,
    print_json,
    read_passphrase,
)
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser(
        "forget", help="forget memories for ever",
        description="Forget memories for ever: rows, images, old table versions and their "
                    "encryption keys (the rest of a partly forgotten hour is re-encrypted "
                    "with a new key). Criteria combine: --app firefox --since yesterday. "
                    "Choosing by app, id or query needs the passphrase; a time range "
                    "without the passphrase is forgotten by whole hours.")
    p.add_argument("--all", action="store_true", help="forget everything")
    p.add_argument("--since", metavar="T", help="from this time (ISO, 2h, today, ...)")
    p.add_argument("--until", metavar="T", help="until this time (exclusive)")
    p.add_argument("--last", metavar="DURATION", help="the last 5m / 15m / 1h / ...")
    p.add_argument("--app", metavar="NAME", help="memories of this app (exact name, any case)")
    p.add_argument("--id", metavar="ID", action="append", default=[], dest="ids",
                   help="this memory (repeatable; ids are shown by search)")
    p.add_argument("--query", metavar="TEXT", help="what `search TEXT` returns")
    p.add_argument("--limit", metavar="N", type=int, default=None,
                   help="with --query: the top N results (default: search's default)")
    p.add_argument("--whole-hours", action="store_true",
                   help="forget every memory of the hours the time range touches, without "
                        "the passphrase")
    p.add_argument("--dry-run", action="store_true", help="show what would go; change nothing")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_passphrase_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def _confirm(prompt: str, args: argparse.Namespace) -> bool | None:
    """True to go on, False if the user declined, None if we cannot ask."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        return None
    answer = input(prompt + " Type 'forget' to confirm: ")
    return answer.strip().lower() == "forget"


def _local(ts: datetime | None) -> str:
    return "?" if ts is None else ts.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.all:
        return _run_all(ctx, args)
    from core.errors import InvalidInput
    from core.forget import ForgetRequest
    from core.timeparse import parse_duration, parse_time

    if args.last and (args.since or args.until):
        raise InvalidInput("--last cannot be combined with --since/--until")
    since = parse_time(args.since) if args.since else None
    until = parse_time(args.until) if args.until else None
    if args.last:
        since = datetime.now(UTC) - parse_duration(args.last)
    if args.limit is not None and not args.query:
        raise InvalidInput("--limit goes with --query")
    request = ForgetRequest(since=since, until=until, app=args.app, ids=tuple(args.ids),
                            query=args.query, limit=args.limit)
    if request.is_empty:
        raise InvalidInput("say what to forget: --since/--until, --last, --app, --id, "
                           "--query or --all")
    whole_hours = args.whole_hours
    if not request.needs_passphrase and not whole_hours and not has_passphrase_source(args) \
            and not sys.stdin.isatty():
        whole_hours = True  # a script with no passphrase: whole hours, said so below
    memory = ctx.open_memory()
    try:
        if not whole_hours:
            memory.unlock(read_passphrase(args))
        plan = memory.plan_forget(request, whole_hours=whole_hours)
        summary = _describe(plan)
        if plan.empty:
            return _print_result(args, plan, None, "Nothing matches; nothing was forgotten.")
        if args.dry_run:
            return _print_result(args, plan, None, "Would forget " + summary + ".")
        ok = _confirm(f"Forget {summary} for ever?", args)
        if ok is None:
            print("afterimage forget: refusing without --yes when not at a terminal "
                  f"(it would forget {summary})", file=sys.stderr)
            return EXIT_USAGE
        if not ok:
            print("Nothing was forgotten.")
            return EXIT_OK
        report = memory.forget(plan)
    finally:
        memory.close()
    return _print_result(args, plan, report,
                         f"Forgot {summary}; destroyed {report.data_keys} data key(s), "
                         f"re-encrypted {report.rekeyed_buckets} partly forgotten hour(s); "
                         f"freed {human_bytes(report.bytes_freed)}.")


def _describe(plan: Any) -> str:
    n = plan.count
    text = f"{n} memor{'y' if n == 1 else 'ies'}"
    if n and plan.whole_hours:
        text += (f" in the whole hours {_local(plan.first)} .. {_local(plan.last)} "
                 "(without the passphrase Afterimage cannot see exact times or apps)")
    elif n:
        text += f" from {_local(plan.first)} to {_local(plan.last)}"
        if plan.apps:
            text += " (apps: " + ", ".join(f"{a} {c}" for a, c in plan.apps.items()) + ")"
    return text


def _print_result(args: argparse.Namespace, plan: Any, report: Any, line: str) -> int:
    if args.json:
        print_json({
            "memories": report.memories if report else plan.count,
            "data_keys": report.data_keys if report else 0,
            "rekeyed_buckets": report.rekeyed_buckets if report else 0,
            "bytes_freed": report.bytes_freed if report else 0,
            "dry_run": bool(args.dry_run), "whole_hours": plan.whole_hours,
            "first": iso(plan.first), "last": iso(plan.last), "apps": plan.apps,
        })
    else:
        print(line)
    return EXIT_OK


def _run_all(ctx: AppContext, args: argparse.Namespace) -> int:
    memory = ctx.open_memory()
    try:
        stats = memory.stats()
        count = stats.memories
        if args.dry_run:
            if args.json:
                print_json({"memories": count, "data_keys": 0, "rekeyed_buckets": 0,
                            "bytes_freed": 0, "dry_run": True})
            else:
                print(f"Would forget ALL {count} memories and destroy {stats.data_keys} "
                      "data key(s).")
            return EXIT_OK
        if not args.yes:
            if not sys.stdin.isatty():
                print("afterimage forget --all: refusing without --yes when not at a terminal",
                      file=sys.stderr)
                return EXIT_USAGE
            answer = input(f"Forget ALL {count} memories, their images and their keys, "
                           "for ever? Type 'forget' to confirm: ")
            if answer.strip().lower() != "forget":
                print("Nothing was forgotten.")
                return EXIT_OK
        report = memory.forget_all()
    finally:
        memory.close()
    if args.json:
        print_json({"memories": report.memories, "data_keys": report.data_keys,
                    "bytes_freed": report.bytes_freed, "rekeyed_buckets": 0})
    else:
        print(f"Forgot {report.memories} memories; destroyed {report.data_keys} data key(s); "
              f"freed {human_bytes(report.bytes_freed)}.")
    return EXIT_OK
