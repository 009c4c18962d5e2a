"""`afterimage maintain`: apply retention and the storage budget now (core/retention.py)."""

from __future__ import annotations

import argparse
from typing import Any

from app.cliutil import EXIT_OK, add_json_option, human_bytes, print_json
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser(
        "maintain", help="apply retention and the storage budget now",
        description="Forget memories past storage.max_age_days; when the store nears "
                    "storage.budget_mb, drop the full screenshots of the oldest memories, "
                    "then their thumbnails, and past the budget forget the oldest hours. "
                    "Runs by itself after capture and import when needed. Needs no "
                    "passphrase.")
    p.add_argument("--dry-run", action="store_true", help="show the plan; change nothing")
    add_json_option(p)
    p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    memory = ctx.open_memory()
    try:
        if args.dry_run:
            plan = memory.plan_maintenance()
            after = plan.bytes_after_estimate
            keys = 0
        else:
            report = memory.maintain()
            plan, after, keys = report.plan, report.bytes_after, report.data_keys
    finally:
        memory.close()
    out = {
        "dry_run": bool(args.dry_run),
        "forgotten_hours_age": len(plan.forget_age),
        "forgotten_hours_budget": len(plan.forget_budget),
        "memories_forgotten": plan.memories_forgotten,
        "hours_to_thumbnail": len(plan.to_thumbnail),
        "hours_to_text": len(plan.to_text),
        "memories_degraded": plan.memories_degraded,
        "data_keys": keys,
        "bytes_before": plan.bytes_before,
        "bytes_after": after,
        "over_budget": plan.over_budget_after,
    }
    if args.json:
        print_json(out)
        return EXIT_OK
    verb = "Would" if args.dry_run else "Did"
    if plan.empty:
        print("Nothing to do: within the budget and the maximum age.")
        return EXIT_OK
    print(f"{verb} forget {plan.memories_forgotten} memories "
          f"({len(plan.forget_age)} hour(s) past the maximum age, "
          f"{len(plan.forget_budget)} hour(s) over the budget) and degrade "
          f"{plan.memories_degraded} ({len(plan.to_thumbnail)} hour(s) to thumbnails, "
          f"{len(plan.to_text)} hour(s) to text only).")
    print(f"Store: {human_bytes(plan.bytes_before)} -> {human_bytes(after)}"
          + (" (estimate)" if args.dry_run else ""))
    if plan.over_budget_after:
        print("Still over the budget: the newest days are kept in full "
              "(storage.keep_full_days); raise storage.budget_mb or lower it.")
    return EXIT_OK
