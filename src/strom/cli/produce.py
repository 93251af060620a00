"""``strom produce TOPIC``: write stdin lines to a topic, as strings or JSON, with keys."""

from __future__ import annotations

import argparse
import select
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import orjson

from strom.backends.api import Backend, ProducerRecord
from strom.backends.common import now_ms
from strom.cli.common import CliError, add_broker_option, default_broker
from strom.client import Client
from strom.core.errors import UnknownTopicError
from strom.serdes import Json

#: Records per write (fewer when stdin has nothing more to read right now).
BATCH = 1000
#: A progress line on stderr every this many records.
PROGRESS_EVERY = 10_000


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "produce",
        parents=[common],
        help="write lines from stdin to a topic",
        description="Write each line of stdin as one record (UTF-8 strings, or JSON with "
        "--json); empty lines are skipped. Records are written as lines arrive, so typing "
        "works too. A line that cannot be parsed stops with an error naming its number: "
        "the lines before it are written, nothing after it.",
    )
    p.add_argument("topic", metavar="TOPIC")
    add_broker_option(p)
    p.add_argument(
        "--key-separator",
        metavar="SEP",
        help="each line is KEY<SEP>VALUE (split at the first SEP); without it, records have no key",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="the value (and the key) must be JSON; written with the Json serde",
    )
    p.add_argument(
        "--null-marker",
        metavar="TEXT",
        help="a key or value equal to TEXT is written as null (a tombstone)",
    )
    p.add_argument(
        "--partition",
        type=int,
        metavar="N",
        help="write every record to partition N (default: by key, like Kafka)",
    )
    p.set_defaults(func=produce)


def _field(text: str, what: str, json: bool, null: str | None) -> bytes | None:
    if null is not None and text == null:
        return None
    if not json:
        return text.encode()
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        preview = text if len(text) <= 40 else text[:40] + "..."
        raise CliError(
            f"{what} is not valid JSON ({e.msg} at column {e.colno}): {preview!r}"
        ) from None
    return Json().serialize("", obj)


def line_parser(args: argparse.Namespace) -> Callable[[str], tuple[bytes | None, bytes | None]]:
    """``line -> (key bytes, value bytes)`` for the options given."""
    sep, json, null = args.key_separator, args.json, args.null_marker

    def parse(line: str) -> tuple[bytes | None, bytes | None]:
        if sep is None:
            return None, _field(line, "value", json, null)
        key, found, value = line.partition(sep)
        if not found:
            raise CliError(f"no key separator {sep!r} (expected KEY{sep}VALUE)")
        return _field(key, "key", json, null), _field(value, "value", json, null)

    if sep == "":
        raise CliError("--key-separator must not be empty")
    return parse


def _records(n: int) -> str:
    return f"{n} record" if n == 1 else f"{n} records"


def _more_ready(stream: IO[Any]) -> bool:
    """Whether stdin has more to read without waiting (True when it cannot tell)."""
    try:
        ready, _, _ = select.select([stream.fileno()], [], [], 0)
    except (AttributeError, OSError, ValueError):
        return True
    return bool(ready)


def _lines(stream: IO[Any]) -> Iterator[tuple[int, str]]:
    """(line number, text without its line ending); bytes are decoded as UTF-8."""
    for number, raw in enumerate(stream, 1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode()
            except UnicodeDecodeError as e:
                raise CliError(f"line {number}: not valid UTF-8 ({e})") from None
        yield number, raw.rstrip("\n").removesuffix("\r")


class _Writer:
    """Batches records, writes them, reports progress."""

    def __init__(self, backend: Backend, topic: str) -> None:
        self.backend, self.topic = backend, topic
        self.batch: list[ProducerRecord] = []
        self.written = 0
        self._next_report = PROGRESS_EVERY

    def add(self, key: bytes | None, value: bytes | None, partition: int | None) -> None:
        self.batch.append(ProducerRecord(self.topic, key, value, now_ms(), (), partition))

    def flush(self) -> None:
        if not self.batch:
            return
        self.backend.produce(self.batch)
        self.written += len(self.batch)
        self.batch = []
        while self.written >= self._next_report:
            print(
                f"{self._next_report} records written to {self.topic!r} ...",
                file=sys.stderr,
                flush=True,
            )
            self._next_report += PROGRESS_EVERY

    def write(
        self,
        lines: Iterable[tuple[int, str]],
        parse: Callable[..., Any],
        partition: int | None,
        stream: IO[Any],
    ) -> None:
        number = 0
        try:
            for n, line in lines:
                number = n
                if not line:
                    continue
                key, value = parse(line)
                self.add(key, value, partition)
                if len(self.batch) >= BATCH or not _more_ready(stream):
                    self.flush()
        except CliError as e:
            self.flush()
            message = str(e) if str(e).startswith("line ") else f"line {number}: {e}"
            were = "was" if self.written == 1 else "were"
            raise CliError(
                f"{message}; {_records(self.written)} before it {were} written to "
                f"{self.topic!r}, nothing after it"
            ) from None
        self.flush()


def produce(args: argparse.Namespace) -> int:
    broker = args.broker or default_broker()
    parse = line_parser(args)
    with Client(broker) as client:
        info = client.list_topics().get(args.topic)
        if info is None:
            raise UnknownTopicError(
                f"topic {args.topic!r} does not exist on {broker} "
                f"(create it: strom topics create {args.topic} --partitions N)"
            )
        if args.partition is not None and not 0 <= args.partition < info.partitions:
            raise CliError(
                f"--partition {args.partition}: topic {args.topic!r} has partitions "
                f"0..{info.partitions - 1}"
            )
        stream = getattr(sys.stdin, "buffer", sys.stdin)
        writer = _Writer(client.backend, args.topic)
        try:
            writer.write(_lines(stream), parse, args.partition, stream)
        except KeyboardInterrupt:
            writer.batch = []
            print(
                f"interrupted: {_records(writer.written)} written to {args.topic!r}",
                file=sys.stderr,
            )
            return 130
    print(f"produced {_records(writer.written)} to {args.topic!r}", file=sys.stderr)
    return 0
