"""``strom query STORE [KEY]``: read a state store of a running app through its web endpoint.

The app serves queries when run with ``strom run TARGET --web PORT`` (or
``strom.web.serve(app)``); any instance answers, forwarding a key to the instance that owns
it. Keys are text: JSON if they parse as JSON and the store's key serde takes that, else the
text as a string (``42`` is the number for a Long-keyed store, the string for a String-keyed
one; ``'"42"'`` is always the string).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from strom.cli.common import CliError

#: The environment variable that sets the default ``--url``.
URL_ENV = "STROM_URL"
DEFAULT_URL = "http://127.0.0.1:7070"


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "query",
        parents=[common],
        help="read a state store of a running app (interactive query over HTTP)",
        description="Ask a running app's web endpoint (strom run --web PORT) for KEY of STORE, "
        "or list STORE (key-value: all keys, or --from/--to a key range; window: the windows "
        "starting --from/--to epoch ms). Prints the JSON answer; served_by names the instance "
        "that read its store.",
    )
    p.add_argument("store", metavar="STORE", help="the state store's name")
    p.add_argument("key", metavar="KEY", nargs="?", help="the key (JSON, else a string)")
    p.add_argument(
        "--url",
        default=None,
        help=f"the app's web endpoint (default: ${URL_ENV}, else {DEFAULT_URL})",
    )
    p.add_argument("--from", dest="from_", metavar="FROM", help="range start (key, or ms)")
    p.add_argument("--to", metavar="TO", help="range end, inclusive (key, or ms)")
    p.add_argument("--time", metavar="MS", help="window store: the window starting at MS")
    p.add_argument("--limit", type=int, metavar="N", help="at most N items (default 1000)")
    p.add_argument("--local", action="store_true", help="only this instance's part of a listing")
    p.set_defaults(func=query)


def query(args: argparse.Namespace) -> int:
    from strom.web.client import QueryError, get_json, store_path

    url = args.url or os.environ.get(URL_ENV) or DEFAULT_URL
    if "://" not in url:
        url = "http://" + url
    params = {
        "from": args.from_,
        "to": args.to,
        "time": args.time,
        "limit": args.limit,
        "local": "1" if args.local else None,
    }
    try:
        status, body = get_json(url, store_path(args.store, args.key), params)
    except QueryError as e:
        raise CliError(f"{e} (is the app running with --web?)") from e
    print(json.dumps(body, indent=2, ensure_ascii=False))
    if status == 404 and isinstance(body, dict) and body.get("found") is False:
        print(f"key {args.key!r} not found in {args.store!r}", file=sys.stderr)
        return 1
    if status != 200:
        error = body.get("error") if isinstance(body, dict) else body
        raise CliError(f"{url} answered {status}: {error}")
    return 0
