"""Quix Streams' W1 and W2 (run by bench/kafka/run.py in build/peer-venvs/quixstreams).

Idiomatic Quix Streams 3.x: an ``Application`` and a ``StreamingDataFrame``. W1:
``filter`` then ``apply`` (the same map function as strom's), ``to_topic``. W2: ``apply(split,
expand=True)``, ``group_by`` the word (a repartition topic when the input has more than one
partition; Quix re-keys in place on one partition), a stateful ``apply`` counting in the State
(RocksDB with a changelog topic, Quix's defaults), ``to_topic`` (String key, JSON count).
At-least-once; defaults except ``auto_offset_reset="earliest"`` (Quix's default is ``latest``),
the commit interval (the same for every system) and the state directory.
"""

from __future__ import annotations

from common import THRESHOLD, First, job_spec, w1_transform
from quixstreams import Application, State


def main() -> None:
    spec = job_spec()
    first = First()
    app = Application(
        broker_address=spec["bootstrap"],
        consumer_group=spec["app_id"],
        auto_offset_reset="earliest",
        commit_interval=spec["commit_interval_ms"] / 1000,
        state_dir=spec["state_dir"],
        processing_guarantee="at-least-once",
        loglevel="WARNING",
    )
    if spec["workload"] == "W1":
        events = app.topic(spec["in_topic"], key_deserializer="string", value_deserializer="json")
        out = app.topic(spec["out_topic"], key_serializer="string", value_serializer="json")

        def keep(event: dict) -> bool:
            if first.pending:
                first.mark()
            return event["amount"] > THRESHOLD

        sdf = app.dataframe(events)
        sdf = sdf.filter(keep).apply(w1_transform)
        sdf.to_topic(out)
    else:
        lines = app.topic(spec["in_topic"], value_deserializer="string")
        out = app.topic(spec["out_topic"], key_serializer="string", value_serializer="json")

        def split(line: str) -> list[str]:
            if first.pending:
                first.mark()
            return line.split()

        def count(_word: str, state: State) -> int:
            n = state.get("count", 0) + 1
            state.set("count", n)
            return n

        sdf = app.dataframe(lines)
        sdf = sdf.apply(split, expand=True)
        sdf = sdf.group_by(
            lambda word: word,
            name="word",
            key_serializer="string",
            key_deserializer="string",
            value_serializer="string",
            value_deserializer="string",
        )
        sdf = sdf.apply(count, stateful=True)
        sdf.to_topic(out)
    app.run()


if __name__ == "__main__":
    main()
