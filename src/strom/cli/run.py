"""``strom run TARGET``: run the App a file or module holds until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import sys

from strom.cli.common import add_broker_option, add_config_option
from strom.cli.target import apply_overrides, load_app

TARGET_HELP = (
    "a .py file or an importable module holding a strom.App, optionally followed by "
    ":ATTRIBUTE to pick one (wordcount.py, wordcount.py:app, mypkg.app:app)"
)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "run",
        parents=[common],
        help="run an application until Ctrl-C (SIGINT) or SIGTERM",
        description="Import TARGET (its `if __name__ == '__main__'` block does not run), find "
        "its strom.App and run it; Ctrl-C or SIGTERM commits, closes and exits with 0.",
    )
    p.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    add_broker_option(p)
    add_config_option(
        p,
        "set a Kafka Streams config key, e.g. processing.guarantee="
        "exactly_once_v2 (repeatable; overrides the App's config)",
    )
    p.add_argument(
        "--web",
        metavar="[HOST:]PORT",
        help="serve the status page, /metrics and store queries on HOST:PORT while running "
        "(HOST defaults to 127.0.0.1; sets application.server unless configured)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    app = load_app(args.target)
    apply_overrides(app, args.broker, args.config)
    web = None
    if args.web:
        from strom.web import parse_bind, serve

        web = serve(app, *parse_bind(args.web))
        app.config.setdefault("application.server", web.address)
        print(f"web page, /metrics and store queries at {web.url}", file=sys.stderr)
    print(f"starting {app.application_id!r} on {app.broker} (Ctrl-C to stop)", file=sys.stderr)
    try:
        app.run()
    finally:
        if web is not None:
            web.close()
    print(f"stopped {app.application_id!r}", file=sys.stderr)
    return 0
