"""strom's W1 and W2 on ``kafka://`` (run by bench/kafka/run.py with the project's .venv).

The same topologies as bench/bench_strom.py: W1 ``stream -> filter -> map_values -> to`` with
String keys and Json values; W2 ``flat_map_values(split) -> group_by(word) -> count() ->
to_stream -> to`` (String keys, Long values), with strom's defaults (RocksDB count store behind
the record cache, a repartition topic and a changelog). Runs ``App.run()`` until SIGTERM.
"""

from __future__ import annotations

from common import THRESHOLD, First, job_spec, w1_transform

import strom
from strom import serdes


def main() -> None:
    spec = job_spec()
    first = First()
    app = strom.App(
        spec["app_id"],
        broker=f"kafka://{spec['bootstrap']}",
        processing_guarantee=spec["guarantee"],
        commit_interval_ms=spec["commit_interval_ms"],
        state_dir=spec["state_dir"],
    )
    if spec["workload"] == "W1":

        def keep(_key: str, event: dict) -> bool:
            if first.pending:
                first.mark()
            return event["amount"] > THRESHOLD

        (
            app.stream(spec["in_topic"], key_serde=serdes.String(), value_serde=serdes.Json())
            .filter(keep)
            .map_values(w1_transform)
            .to(spec["out_topic"], key_serde=serdes.String(), value_serde=serdes.Json())
        )
    else:

        def split(line: str) -> list[str]:
            if first.pending:
                first.mark()
            return line.split()

        (
            app.stream(spec["in_topic"], value_serde=serdes.String())
            .flat_map_values(split)
            .group_by(lambda _k, w: w, key_serde=serdes.String(), value_serde=serdes.String())
            .count(store="counts")
            .to_stream()
            .to(spec["out_topic"], key_serde=serdes.String(), value_serde=serdes.Long())
        )
    app.run()


if __name__ == "__main__":
    main()
