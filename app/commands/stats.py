"""`afterimage stats`: counts, disk use and skipped frames (no passphrase needed)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from app.cliutil import EXIT_OK, add_json_option, human_bytes, iso, print_json
from app.context import AppContext


def register(sub: Any) -> None:
    p = sub.add_parser("stats", help="counts, disk use and skipped frames",
                       description="Counts, disk use and skipped frames by reason. "
                                   "Needs no passphrase and shows no content.")
    add_json_option(p)
    p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.commands.service import status_dict

    with ctx.memory() as memory:
        stats = memory.stats()
        redacted = memory.capture_counters().redacted
    service = status_dict(ctx)
    if args.json:
        print_json({
            "memories": stats.memories, "tiers": stats.tiers,
            "bytes_on_disk": stats.bytes_on_disk, "bytes_store": stats.bytes_store,
            "captured_total": stats.captured_total, "skipped": stats.skipped,
            "last_capture": stats.last_capture, "data_keys": stats.data_keys,
            "oldest_bucket": iso(stats.oldest_bucket),
            "newest_bucket": iso(stats.newest_bucket), "data_dir": stats.data_dir,
            "bytes_by_tier": stats.bytes_by_tier, "budget_bytes": stats.budget_bytes,
            "daily_growth_bytes": stats.daily_growth_bytes,
            "days_until_budget": stats.days_until_budget,
            "redacted_total": redacted, "service": service,
        })
        return EXIT_OK
    print(f"Memories:      {stats.memories}")
    print("  by tier:     " + ", ".join(f"{k} {v}" for k, v in stats.tiers.items()))
    print(f"On disk:       {human_bytes(stats.bytes_on_disk)} "
          f"(store {human_bytes(stats.bytes_store)}) in {stats.data_dir}")
    print("  by tier:     " + ", ".join(f"{k} {human_bytes(v)}"
                                            for k, v in stats.bytes_by_tier.items()))
    used = stats.bytes_store / stats.budget_bytes if stats.budget_bytes else 0.0
    line = f"Budget:        {human_bytes(stats.budget_bytes)} ({used:.0%} used)"
    if stats.daily_growth_bytes:
        line += f"; growing {human_bytes(stats.daily_growth_bytes)}/day"
    if stats.days_until_budget is not None:
        line += f", reached in about {stats.days_until_budget:g} days"
    print(line)
    print(f"Captured:      {stats.captured_total} frame(s) stored in total")
    if stats.skipped:
        print("Skipped:       " + ", ".join(f"{k.replace('_', ' ')} {v}"
                                            for k, v in stats.skipped.items()))
    else:
        print("Skipped:       none")
    if stats.last_capture:
        print(f"Last capture:  {iso(datetime.fromisoformat(stats.last_capture))}")
    if stats.oldest_bucket:
        print(f"Time span:     {iso(stats.oldest_bucket)} .. {iso(stats.newest_bucket)} "
              "(hour buckets)")
    print(f"Data keys:     {stats.data_keys}")
    if redacted:
        print(f"Redacted:      {redacted} stored frame(s) had sensitive text blacked out")
    if service["running"]:
        paused = " (paused)" if service["paused"] else ""
        print(f"Service:       {service['state'].replace('_', ' ')}{paused}, "
              f"pid {service['pid']}")
    else:
        print("Service:       not running" + (" (paused)" if service["paused"] else ""))
    return EXIT_OK
