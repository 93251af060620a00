"""``strom describe TARGET``: an App's topology as Kafka Streams' text, Mermaid or Graphviz."""

from __future__ import annotations

import argparse
import sys

from strom.cli.common import add_config_option
from strom.cli.run import TARGET_HELP
from strom.cli.target import apply_overrides, load_app
from strom.topology.draw import to_dot, to_mermaid

FORMATS = {
    "text": str,
    "mermaid": to_mermaid,
    "dot": to_dot,
}


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "describe",
        parents=[common],
        help="print an application's topology (text, Mermaid or Graphviz)",
        description="Print TARGET's topology: `text` is Kafka Streams' Topology.describe() "
        "layout; `mermaid` is a flowchart for Markdown or mermaid.live; `dot` renders with "
        "Graphviz (strom describe app.py --format dot | dot -Tsvg > topology.svg). "
        "Nothing connects to a broker.",
    )
    p.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    p.add_argument(
        "--format", choices=list(FORMATS), default="text", help="output format (default: text)"
    )
    add_config_option(p, "set a config key before the topology is built (repeatable)")
    p.set_defaults(func=describe)


def describe(args: argparse.Namespace) -> int:
    app = load_app(args.target)
    apply_overrides(app, None, args.config)
    text = FORMATS[args.format](app.topology.describe())
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
