"""``strom reset APP_ID``: application reset, like ``kafka-streams-application-reset``.

Deletes the application's committed offsets (its next run reads its input topics from the
beginning), its internal topics (repartition topics and changelogs) and its local state.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

from strom.backends.api import Backend
from strom.backends.local import parse_local_url
from strom.cli.common import CliError, add_broker_option, default_broker
from strom.client import Client
from strom.runtime.config import DEFAULTS

#: Suffixes of the topics Kafka Streams' reset tool treats as internal (after ``APP_ID-``).
INTERNAL_SUFFIXES = (
    "-repartition",
    "-changelog",
    "-subscription-registration-topic",
    "-subscription-response-topic",
)
#: strom's own internal topics (after ``APP_ID``): where instances share application.server.
STROM_INTERNAL = ("-instances",)
_LEGAL_ID = re.compile(r"[a-zA-Z0-9._-]+")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "reset",
        parents=[common],
        help="reset an application: offsets, internal topics, local state",
        description="Reset APP_ID so that its next run reprocesses its input from the "
        "beginning: delete its consumer group's committed offsets, its internal topics "
        "(APP_ID-*-repartition, APP_ID-*-changelog) and its local state directory "
        "(STATE_DIR/APP_ID). Stop every instance of the application first. Asks for "
        "confirmation unless --yes is given or stdin is not a terminal.",
    )
    p.add_argument("app_id", metavar="APP_ID", help="the application.id")
    add_broker_option(p)
    p.add_argument(
        "--state-dir",
        metavar="DIR",
        help="the application's state.dir (default: as the App would use: PATH/state "
        f"for local://PATH brokers, else {DEFAULTS['state.dir']})",
    )
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=reset)


def default_state_dir(broker: str) -> Path:
    """The ``state.dir`` an App on ``broker`` uses when its config does not set one."""
    if broker.startswith("local://"):
        return parse_local_url(broker)[0] / "state"
    return Path(DEFAULTS["state.dir"])


def internal_topics(app_id: str, topics: list[str]) -> list[str]:
    prefix = app_id + "-"
    return sorted(
        t
        for t in topics
        if (t.startswith(prefix) and t.endswith(INTERNAL_SUFFIXES))
        or t in {f"{prefix[:-1]}{s}" for s in STROM_INTERNAL}
    )


def _committed(backend: Backend, app_id: str) -> int:
    partitions = [(t.name, p) for t in backend.list_topics().values() for p in range(t.partitions)]
    return len(backend.committed(app_id, partitions))


def _confirm(args: argparse.Namespace) -> bool:
    if args.yes or not sys.stdin.isatty():
        return True
    answer = input(f"Reset application {args.app_id!r}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def reset(args: argparse.Namespace) -> int:
    app_id = args.app_id
    if not _LEGAL_ID.fullmatch(app_id) or app_id in (".", ".."):
        raise CliError(
            f"illegal application id {app_id!r}: use ASCII letters, digits, '.', '_' or '-'"
        )
    broker = args.broker or default_broker()
    state = Path(args.state_dir or default_state_dir(broker)) / app_id
    with Client(broker) as client:
        backend = client.backend
        topics = internal_topics(app_id, list(client.list_topics()))
        committed = _committed(backend, app_id)
        print(f"Resetting application {app_id!r} on {broker}:")
        print(f"  - committed offsets of consumer group {app_id!r}: {committed} partition(s)")
        print(f"  - internal topics: {', '.join(topics) or 'none'}")
        print(f"  - local state: {state}" + ("" if state.exists() else " (none)"))
        if not _confirm(args):
            print("aborted: nothing changed")
            return 1
        backend.delete_group(app_id)
        print(f"deleted the committed offsets of group {app_id!r}")
        for topic in topics:
            client.delete_topic(topic)
            print(f"deleted topic {topic!r}")
    if state.exists():
        shutil.rmtree(state)
        print(f"removed local state {state}")
    print(
        f"done: the next run of {app_id!r} reads its input topics from the beginning "
        "(auto.offset.reset=earliest, the default)"
    )
    return 0
