"""``strom consume TOPIC``: print a topic's records, from the beginning, an offset, or live."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from strom.backends.api import Backend
from strom.cli.common import SERDES, CliError, add_broker_option, default_broker, printer, serde
from strom.client import Client
from strom.core.errors import SerializationError, UnknownTopicError
from strom.core.records import ConsumerRecord
from strom.serdes import Serde

#: Seconds between polls for new records with --follow.
POLL_INTERVAL = 0.1
FETCH = 1000


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "consume",
        parents=[common],
        help="print a topic's records",
        description="Print the records of TOPIC, one per line: [KEY<TAB>]VALUE. Without "
        "--follow it prints every record from the beginning (or --offset) up to the end and "
        "exits, partition by partition. With --follow it starts at the end (like "
        "kafka-console-consumer; add --from-beginning or --offset to start earlier) and "
        "prints new records as they arrive until Ctrl-C.",
    )
    p.add_argument("topic", metavar="TOPIC")
    add_broker_option(p)
    start = p.add_mutually_exclusive_group()
    start.add_argument(
        "--from-beginning",
        action="store_true",
        help="start at the first record (the default without --follow)",
    )
    start.add_argument(
        "--offset",
        type=int,
        metavar="N",
        help="start at offset N in each partition read; a negative N starts "
        "|N| records before the end",
    )
    p.add_argument("--partition", type=int, metavar="N", help="read only partition N")
    p.add_argument(
        "--follow", "-f", action="store_true", help="keep printing new records until Ctrl-C"
    )
    for what in ("key", "value"):
        p.add_argument(
            f"--{what}-serde",
            choices=list(SERDES),
            default="string",
            help=f"how to read {what}s (default: string)",
        )
    p.add_argument("--max-messages", type=int, metavar="N", help="exit after N records")
    p.add_argument("--print-key", action="store_true", help="print KEY<TAB>VALUE")
    p.add_argument(
        "--print-metadata",
        action="store_true",
        help="prefix Partition:P<TAB>Offset:O<TAB>CreateTime:MS",
    )
    p.set_defaults(func=consume)


def _start(backend: Backend, topic: str, partition: int, args: argparse.Namespace) -> int:
    begin, end = backend.offsets(topic, partition)
    if args.offset is not None:
        return max(begin, args.offset if args.offset >= 0 else end + args.offset)
    return end if args.follow and not args.from_beginning else begin


def _formatter(args: argparse.Namespace) -> Callable[[ConsumerRecord], str]:
    ks, vs = serde(args.key_serde), serde(args.value_serde)
    show_key, show_value = printer(args.key_serde), printer(args.value_serde)

    def read(r: ConsumerRecord, data: bytes | None, s: Serde[Any], option: str) -> Any:
        try:
            return s.deserialize(r.topic, data)
        except SerializationError as e:
            raise CliError(
                f"cannot read the record at topic={r.topic!r} partition={r.partition} "
                f"offset={r.offset} with {option}: {e} (try {option.split()[0]} bytes)"
            ) from None

    def line(r: ConsumerRecord) -> str:
        parts = []
        if args.print_metadata:
            parts += [f"Partition:{r.partition}", f"Offset:{r.offset}", f"CreateTime:{r.timestamp}"]
        if args.print_key:
            parts.append(show_key(read(r, r.key, ks, f"--key-serde {args.key_serde}")))
        parts.append(show_value(read(r, r.value, vs, f"--value-serde {args.value_serde}")))
        return "\t".join(parts) + "\n"

    return line


class _Consumer:
    def __init__(self, backend: Backend, topic: str, args: argparse.Namespace) -> None:
        self.backend, self.topic = backend, topic
        self.line = _formatter(args)
        self.left = args.max_messages
        self.count = 0

    def emit(self, batch: list[ConsumerRecord]) -> bool:
        """Print a batch; False once --max-messages is reached."""
        if self.left is not None:
            batch = batch[: self.left - self.count]
        out: list[str] = []
        try:
            out.extend(self.line(r) for r in batch)
        finally:  # a record that cannot be read: print the ones before it, then fail
            sys.stdout.write("".join(out))
            self.count += len(out)
        return self.left is None or self.count < self.left

    def drain(self, positions: dict[int, int]) -> None:
        """Partition by partition, up to the end offsets seen at start."""
        for p, position in positions.items():
            end = self.backend.offsets(self.topic, p)[1]
            while position < end:
                batch = [
                    r for r in self.backend.fetch(self.topic, p, position, FETCH) if r.offset < end
                ]
                if not batch:
                    break
                position = batch[-1].offset + 1
                if not self.emit(batch):
                    return

    def follow(self, positions: dict[int, int]) -> None:
        """Round-robin over the partitions, polling for new records until interrupted."""
        while True:
            got = False
            for p, position in positions.items():
                batch = self.backend.fetch(self.topic, p, position, FETCH)
                if batch:
                    got = True
                    positions[p] = batch[-1].offset + 1
                    if not self.emit(batch):
                        return
            sys.stdout.flush()
            if not got:
                time.sleep(POLL_INTERVAL)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let ``kill PID`` stop ``--follow`` as cleanly as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def consume(args: argparse.Namespace) -> int:
    broker = args.broker or default_broker()
    if args.max_messages is not None and args.max_messages < 1:
        raise CliError(f"--max-messages must be >= 1, got {args.max_messages}")
    with Client(broker) as client:
        info = client.list_topics().get(args.topic)
        if info is None:
            raise UnknownTopicError(f"topic {args.topic!r} does not exist on {broker}")
        partitions = range(info.partitions)
        if args.partition is not None:
            if args.partition not in partitions:
                raise CliError(
                    f"--partition {args.partition}: topic {args.topic!r} has "
                    f"partitions 0..{info.partitions - 1}"
                )
            partitions = range(args.partition, args.partition + 1)
        consumer = _Consumer(client.backend, args.topic, args)
        positions = {p: _start(client.backend, args.topic, p, args) for p in partitions}
        try:
            if args.follow:
                with _sigterm_as_interrupt():
                    consumer.follow(positions)
            else:
                consumer.drain(positions)
        except KeyboardInterrupt:
            if not args.follow:
                raise
        finally:
            sys.stdout.flush()
    s = "" if consumer.count == 1 else "s"
    print(f"consumed {consumer.count} record{s} from {args.topic!r}", file=sys.stderr)
    return 0
