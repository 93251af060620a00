"""``strom topics list|create|delete``: topic admin on any broker."""

from __future__ import annotations

import argparse
import sys

from strom.backends.api import TopicInfo
from strom.cli.common import add_broker_option, add_config_option, default_broker
from strom.client import Client
from strom.core.errors import TopicExistsError, UnknownTopicError


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser("topics", parents=[common], help="list, create or delete topics")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    ls = actions.add_parser(
        "list", parents=[common], help="print every topic: name, partitions, config"
    )
    add_broker_option(ls)
    ls.set_defaults(func=list_topics)

    create = actions.add_parser("create", parents=[common], help="create a topic")
    create.add_argument("name", metavar="NAME")
    create.add_argument(
        "--partitions", type=int, default=1, metavar="N", help="number of partitions (default: 1)"
    )
    add_config_option(
        create, "a topic config, e.g. cleanup.policy=compact or retention.ms=86400000 (repeatable)"
    )
    create.add_argument(
        "--if-not-exists",
        action="store_true",
        help="succeed (and change nothing) if the topic exists",
    )
    add_broker_option(create)
    create.set_defaults(func=create_topic)

    delete = actions.add_parser("delete", parents=[common], help="delete a topic and its records")
    delete.add_argument("name", metavar="NAME")
    delete.add_argument(
        "--if-exists", action="store_true", help="succeed if the topic does not exist"
    )
    add_broker_option(delete)
    delete.set_defaults(func=delete_topic)


def table(topics: list[TopicInfo]) -> str:
    """Aligned columns NAME, PARTITIONS, CONFIG (``k=v,k=v`` sorted, ``-`` when empty)."""
    rows = [("NAME", "PARTITIONS", "CONFIG")] + [
        (
            t.name,
            str(t.partitions),
            ",".join(f"{k}={v}" for k, v in sorted(t.config.items())) or "-",
        )
        for t in topics
    ]
    name_w = max(len(r[0]) for r in rows)
    part_w = max(len(r[1]) for r in rows)
    return "".join(f"{n:<{name_w}}  {p:>{part_w}}  {c}\n" for n, p, c in rows)


def list_topics(args: argparse.Namespace) -> int:
    broker = args.broker or default_broker()
    with Client(broker) as client:
        topics = sorted(client.list_topics().values(), key=lambda t: t.name)
    if not topics:
        print(f"no topics on {broker}", file=sys.stderr)
        return 0
    sys.stdout.write(table(topics))
    return 0


def create_topic(args: argparse.Namespace) -> int:
    broker = args.broker or default_broker()
    with Client(broker) as client:
        try:
            client.create_topic(args.name, args.partitions, dict(args.config))
        except TopicExistsError:
            if not args.if_not_exists:
                raise
            print(f"topic {args.name!r} already exists on {broker}")
            return 0
    s = "" if args.partitions == 1 else "s"
    print(f"created topic {args.name!r} with {args.partitions} partition{s} on {broker}")
    return 0


def delete_topic(args: argparse.Namespace) -> int:
    broker = args.broker or default_broker()
    with Client(broker) as client:
        try:
            client.delete_topic(args.name)
        except UnknownTopicError:
            if not args.if_exists:
                raise
            print(f"topic {args.name!r} does not exist on {broker}")
            return 0
    print(f"deleted topic {args.name!r} on {broker}")
    return 0
