"""Faust's W1 and W2 (run by bench/kafka/run.py in build/peer-venvs/faust, faust-streaming).

Idiomatic Faust: agents and a Table. W1: one agent over the events (raw String keys, JSON
values) that keeps ``amount > THRESHOLD``, maps with the same function as strom's and sends to
the output topic. W2: Faust's word-count shape, two agents: one splits each line and sends every
word to an internal topic keyed by the word (the repartition), the other counts into a Table
(``default=int``: Faust's default ``memory://`` store with a changelog topic) and sends every
updated count to the output topic (String key, JSON count). At-least-once; defaults except
``consumer_auto_offset_reset="earliest"``, the commit interval (the same for every system), the
data directory and no web server (several workers must not fight over its port).
"""

from __future__ import annotations

import faust
from common import THRESHOLD, First, job_spec, w1_transform


def main() -> None:
    spec = job_spec()
    first = First()
    app = faust.App(
        spec["app_id"],
        broker=f"kafka://{spec['bootstrap']}",
        datadir=spec["state_dir"],
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=spec["commit_interval_ms"] / 1000,
        topic_partitions=spec["partitions"],
        processing_guarantee="at_least_once",
        web_enabled=False,
    )
    if spec["workload"] == "W1":
        events = app.topic(spec["in_topic"], key_serializer="raw", value_serializer="json")
        out = app.topic(spec["out_topic"], key_serializer="raw", value_serializer="json")

        @app.agent(events)
        async def w1(stream):  # type: ignore[no-untyped-def]
            async for key, event in stream.items():
                if first.pending:
                    first.mark()
                if event["amount"] > THRESHOLD:
                    await out.send(key=key, value=w1_transform(event))

    else:
        lines = app.topic(spec["in_topic"], value_type=bytes, value_serializer="raw")
        words = app.topic(
            f"{spec['app_id']}-words",
            key_type=str,
            value_type=str,
            key_serializer="raw",
            value_serializer="raw",
            internal=True,
            partitions=spec["partitions"],
        )
        out = app.topic(spec["out_topic"], key_serializer="raw", value_serializer="json")
        counts = app.Table("counts", default=int, partitions=spec["partitions"])

        @app.agent(lines)
        async def split(stream):  # type: ignore[no-untyped-def]
            async for line in stream:
                if first.pending:
                    first.mark()
                for word in line.decode().split():
                    await words.send(key=word, value=word)

        @app.agent(words)
        async def count(stream):  # type: ignore[no-untyped-def]
            async for word in stream:
                counts[word] += 1
                await out.send(key=word, value=counts[word])

    # -l info, as Faust's docs run workers: at WARN and above Faust keeps its terminal spinner,
    # which sets the root logger to DEBUG so that every debug call of Faust and aiokafka builds a
    # log record (13% of W2's time in a profile)
    faust.Worker(app, loglevel="INFO").execute_from_commandline()


if __name__ == "__main__":
    main()
