"""`afterimage privacy`: the user's exclusion lists and detector actions (sealed in the vault)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from app.cliutil import (
    EXIT_OK,
    add_json_option,
    add_passphrase_option,
    print_json,
    read_passphrase,
)
from app.context import AppContext

LISTS = {"app": "excluded_apps", "title": "title_patterns", "url": "url_patterns",
         "allow-default": "allowed_default_apps"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "privacy", help="what is never captured (your lists are kept encrypted)",
        description="Show or change what capture leaves out. Built-in rules always apply "
                    "(Afterimage's own windows, password managers, authenticators, "
                    "remote desktops, private browser windows, card numbers, IBANs, keys). "
                    "Your own lists are sealed in the vault: changing them needs the "
                    "passphrase, and a running capture service receives them at once.")
    add_passphrase_option(p)
    add_json_option(p)
    sp = p.add_subparsers(dest="privacy_command", metavar="ACTION")
    sp.add_parser("show", help="show the policy")
    for verb in ("add", "remove"):
        q = sp.add_parser(verb, help=f"{verb} an app, window-title pattern or URL pattern")
        q.add_argument("list", choices=sorted(LISTS),
                       help="app (process name / WM_CLASS), title or url pattern "
                            "(substring, shell pattern with *, or re:REGEX), "
                            "allow-default (capture a default-excluded app, e.g. Remmina)")
        q.add_argument("value")
    a = sp.add_parser("action", help="drop or redact for a sensitive-text detector")
    a.add_argument("kind")
    a.add_argument("action", choices=["drop", "redact"])
    m = sp.add_parser("redact-mode", help="black out whole lines or only the secret's span")
    m.add_argument("mode", choices=["line", "span"])
    sp.add_parser("push", help="hand the policy to the running capture service")
    p.set_defaults(func=run)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    from core.privacy.detectors import DETECTOR_KINDS
    from core.privacy.windows import DEFAULT_EXCLUDED_APPS

    command = args.privacy_command or "show"
    memory = ctx.open_memory()
    try:
        memory.unlock(read_passphrase(args))
        policy = memory.privacy_policy()
        if command in ("add", "remove"):
            field = LISTS[args.list]
            values = list(getattr(policy, field))
            if command == "add" and args.value not in values:
                values.append(args.value)
            elif command == "remove" and args.value in values:
                values.remove(args.value)
            policy = replace(policy, **{field: tuple(values)})  # type: ignore[arg-type]
            memory.set_privacy_policy(policy)
        elif command == "action":
            policy = policy.with_action(args.kind, args.action)
            memory.set_privacy_policy(policy)
        elif command == "redact-mode":
            policy = replace(policy, redact_mode=args.mode)
            memory.set_privacy_policy(policy)
        handed = memory.hand_policy_to_service() if command != "show" else False
    finally:
        memory.close()
    data = {
        "excluded_apps": list(policy.excluded_apps),
        "title_patterns": list(policy.title_patterns),
        "url_patterns": list(policy.url_patterns),
        "allowed_default_apps": list(policy.allowed_default_apps),
        "actions": {k: policy.action(k) for k in DETECTOR_KINDS},
        "redact_mode": policy.redact_mode,
        "default_excluded_apps": sorted(DEFAULT_EXCLUDED_APPS),
        "service_updated": handed,
    }
    if args.json:
        print_json(data)
        return EXIT_OK
    print("Your excluded apps:     " + (", ".join(policy.excluded_apps) or "none"))
    print("Your title patterns:    " + (", ".join(policy.title_patterns) or "none"))
    print("Your URL patterns:      " + (", ".join(policy.url_patterns) or "none"))
    if policy.allowed_default_apps:
        print("Captured anyway:        " + ", ".join(policy.allowed_default_apps))
    print("Always excluded:        " + ", ".join(sorted(DEFAULT_EXCLUDED_APPS)))
    print("Sensitive text:         " + ", ".join(f"{k} {policy.action(k)}"
                                                 for k in DETECTOR_KINDS))
    print(f"Redaction:              {policy.redact_mode}")
    if command != "show":
        print("The running capture service now uses it." if handed
              else "No capture service is running; it gets the lists when it starts and "
                   "you unlock.")
    return EXIT_OK
