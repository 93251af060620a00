"""The strom side of each workload: the app, its input, the timed run, the checks."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench_data import (
    T0,
    THRESHOLD,
    W3_WINDOW_MS,
    W4_KEYS,
    W5_GAP_MS,
    w1_events,
    w1_expected,
    w1_transform,
    w2_lines,
    w3_add,
    w3_events,
    w3_expected,
    w3_init,
    w4_events,
    w4_expected,
    w4_join,
    w4_table,
    w5_events,
    w5_expected,
)
from bench_measure import (
    Profiling,
    dir_mb,
    lifetime_peak_rss_mb,
    peak_rss_mb,
    reset_peak_rss,
    rss_mb,
)

# ---------------------------------------------------------------------------------------------
# strom
# ---------------------------------------------------------------------------------------------

W1_IN, W1_OUT = "w1-events", "w1-out"
W2_IN, W2_OUT, W2_STORE = "w2-lines", "w2-counts", "w2-counts"
W3_IN, W3_OUT, W3_STORE = "w3-events", "w3-per-minute", "w3-per-minute"
W4_TABLE, W4_IN, W4_OUT = "w4-customers", "w4-orders", "w4-enriched"
W5_IN, W5_OUT, W5_STORE = "w5-views", "w5-sessions", "w5-sessions"
#: (input topics, output topic) per workload; W4's table topic is an input too
TOPICS = {
    "W1": ((W1_IN,), W1_OUT),
    "W2": ((W2_IN,), W2_OUT),
    "W3": ((W3_IN,), W3_OUT),
    "W4": ((W4_TABLE, W4_IN), W4_OUT),
    "W5": ((W5_IN,), W5_OUT),
}


def strom_app(workload: str, config: dict[str, Any]) -> Any:
    import strom
    from strom import serdes

    app = strom.App(f"bench-{workload.lower()}", broker="memory://", config=config)
    if workload == "W1":
        (
            app.stream(W1_IN, key_serde=serdes.String(), value_serde=serdes.Json())
            .filter(lambda _k, e: e["amount"] > THRESHOLD)
            .map_values(w1_transform)
            .to(W1_OUT, key_serde=serdes.String(), value_serde=serdes.Json())
        )
    elif workload == "W2":
        (
            app.stream(W2_IN, value_serde=serdes.String())
            .flat_map_values(str.split)
            .group_by(lambda _k, w: w, key_serde=serdes.String(), value_serde=serdes.String())
            .count(store=W2_STORE)
            .to_stream()
            .to(W2_OUT, key_serde=serdes.String(), value_serde=serdes.Long())
        )
    elif workload == "W3":
        (
            app.stream(W3_IN, key_serde=serdes.String(), value_serde=serdes.Json())
            .group_by_key()
            .windowed_by(strom.TimeWindows.of_size_with_no_grace(W3_WINDOW_MS))
            .aggregate(
                w3_init,
                lambda _k, event, agg: w3_add(agg, event),
                store=W3_STORE,
                value_serde=serdes.Json(),
            )
            .to_stream()
            .to(W3_OUT, value_serde=serdes.Json())  # key: TimeWindowedSerde(String)
        )
    elif workload == "W4":
        customers = app.table(W4_TABLE, key_serde=serdes.String(), value_serde=serdes.Json())
        (
            app.stream(W4_IN, key_serde=serdes.String(), value_serde=serdes.Json())
            .join(customers, w4_join)
            .to(W4_OUT, key_serde=serdes.String(), value_serde=serdes.Json())
        )
    else:
        (
            app.stream(W5_IN, key_serde=serdes.String(), value_serde=serdes.Json())
            .group_by_key()
            .windowed_by(strom.SessionWindows.of_inactivity_gap_with_no_grace(W5_GAP_MS))
            .count(store=W5_STORE)
            .to_stream()
            .to(W5_OUT, value_serde=serdes.Long())  # key: SessionWindowedSerde(String)
        )
    return app


def strom_input(workload: str, n: int, parts: int) -> dict[str, Any]:
    """The records to pre-load (``load``; for W4 also ``then``: the stream, loaded after the
    table has been processed), what the output must be (``expected``) and W2's word count."""
    from strom.backends.api import ProducerRecord

    ts0 = 1_700_000_000_000
    out: dict[str, Any] = {"words": 0, "then": []}
    if workload == "W1":
        events = w1_events(n)
        out["expected"] = w1_expected(events)
        out["load"] = [
            ProducerRecord(W1_IN, k, v, ts0 + i, partition=i % parts)
            for i, (k, v) in enumerate(events)
        ]
    elif workload == "W2":
        lines = w2_lines(n)
        counts = Counter(w for line in lines for w in line.decode().split())
        out["expected"], out["words"] = dict(counts), sum(counts.values())
        out["load"] = [
            ProducerRecord(W2_IN, None, line, ts0 + i, partition=i % parts)
            for i, line in enumerate(lines)
        ]
    elif workload in ("W3", "W5"):
        # keyed input, partitioned by key (murmur2), as group_by_key() without a repartition
        # topic requires
        events = w3_events(n) if workload == "W3" else w5_events(n)
        topic = W3_IN if workload == "W3" else W5_IN
        out["expected"] = w3_expected(events) if workload == "W3" else w5_expected(events)
        out["load"] = [ProducerRecord(topic, k, v, ts) for k, v, ts in events]
    else:
        table, orders = w4_table(), w4_events(n)
        out["expected"] = w4_expected(table, orders)
        # the table's rows are older than every order; both topics partitioned by key
        out["load"] = [
            ProducerRecord(W4_TABLE, k, v, T0 - W4_KEYS + i) for i, (k, v) in enumerate(table)
        ]
        out["then"] = [ProducerRecord(W4_IN, k, v, T0 + i) for i, (k, v) in enumerate(orders)]
    return out


def produce_all(backend: Any, records: list[Any]) -> None:
    for i in range(0, len(records), 10_000):
        backend.produce(records[i : i + 10_000])


def run_to_end(worker: Any) -> None:
    """Process every input offset, then the final commit (the timed loop)."""
    while True:
        if not worker.run_once():
            worker.commit()
            if drained(worker):
                break


def drained(worker: Any) -> bool:
    """True when every input partition (repartition topics too) is processed to its end and
    nothing waits in the collector: the run is complete once this holds after a commit."""
    if len(worker.collector):
        return False
    backend = worker.backend
    for owned in worker.tasks.values():
        for tp, offset in owned.next_offsets.items():
            if owned.task.queued(tp) or offset < backend.offsets(*tp)[1]:
                return False
    return True


def load_table(worker: Any) -> float:
    """W4's first phase: process the table topic into its store; returns the seconds it took
    (a separate function so that profiles can leave it out)."""
    t = time.perf_counter()
    run_to_end(worker)
    return time.perf_counter() - t


def run_strom(spec: dict[str, Any]) -> dict[str, Any]:
    from strom.backends.registry import open_backend
    from strom.runtime.config import streams_config
    from strom.runtime.worker import StreamWorker

    workload, n, parts = spec["workload"], spec["records"], spec["partitions"]
    tmp = Path(tempfile.mkdtemp(prefix="strom-bench-"))
    try:
        url = "memory://" if spec["backend"] == "memory" else f"local://{tmp / 'log'}"
        backend = open_backend(url)
        config: dict[str, Any] = {
            "processing.guarantee": spec["guarantee"],
            "default.dsl.store": spec["store"],
            "state.dir": str(tmp / "state"),
        }
        if spec.get("commit_interval_ms") is not None:
            config["commit.interval.ms"] = spec["commit_interval_ms"]
        app = strom_app(workload, config)

        # ---- pre-load (not timed) ----
        in_topics, out_topic = TOPICS[workload]
        for topic in (*in_topics, out_topic):
            backend.create_topic(topic, parts)
        data = strom_input(workload, n, parts)
        expected, words = data["expected"], data["words"]
        produce_all(backend, data.pop("load"))

        worker = StreamWorker(app.topology, streams_config(app.config), backend)
        worker.start()  # topics checked, internal topics created, tasks opened (not timed)
        table_load_s = None
        if data["then"]:  # W4: the table into its store first (timed on its own), then the stream
            table_load_s = load_table(worker)
            produce_all(backend, data["then"])
        del data

        profiler = Profiling(spec)
        rss_before = rss_mb()
        reset_ok = reset_peak_rss()
        t0 = time.perf_counter()
        profiler.start()
        # ---- timed: process everything, then the final commit ----
        run_to_end(worker)
        profiler.stop()
        elapsed = time.perf_counter() - t0
        peak = peak_rss_mb(reset_ok)

        # ---- check the output (not timed) ----
        ok, outputs = check_strom_output(workload, backend, out_topic, parts, expected)
        worker.close()
        log_mb = dir_mb(tmp / "log") if spec["backend"] == "local" else None
        state_mb = dir_mb(tmp / "state") if (tmp / "state").exists() else 0.0
        backend.close()
        profiler.save()
        return {
            "elapsed": elapsed,
            "records": n,
            "words": words,
            "rss_before_mb": rss_before,
            "peak_rss_mb": peak,
            "lifetime_peak_rss_mb": lifetime_peak_rss_mb(),
            "log_mb": log_mb,
            "state_mb": state_mb,
            "processed": worker.processed,
            "outputs": outputs,
            "ok": ok,
            "table_load_s": table_load_s,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_strom_output(
    workload: str, backend: Any, topic: str, parts: int, expected: Any
) -> tuple[bool, int]:
    """W1: as many outputs as events above the threshold; W2: the last count of every word;
    W3: the last (count, sum) of every key and window; W4: every joined record, exactly once;
    W5: the sessions left after applying every update and tombstone, with their counts."""
    total = 0
    last: dict[bytes, bytes | None] = {}
    joined: list[tuple[str, str]] = []
    for p in range(parts):
        offset = 0
        while True:
            batch = backend.fetch(topic, p, offset, 10_000)
            if not batch:
                break
            total += len(batch)
            if workload in ("W2", "W3", "W5"):
                for r in batch:
                    last[r.key] = r.value
            elif workload == "W4":
                joined.extend(
                    (r.key.decode(), json.dumps(json.loads(r.value), sort_keys=True)) for r in batch
                )
            offset = batch[-1].offset + 1
    if workload == "W1":
        return total == expected, total
    if workload == "W2":
        got = {k.decode(): int.from_bytes(v, "big", signed=True) for k, v in last.items()}
        return got == expected, total
    if workload == "W3":  # key: inner key + 8-byte window start
        got3 = {
            (k[:-8].decode(), int.from_bytes(k[-8:], "big")): [v["count"], v["sum"]]
            for k, v in ((k, json.loads(v)) for k, v in last.items())
        }
        return got3 == expected, total
    if workload == "W4":
        return sorted(joined) == expected, total
    # W5: key = inner key + 8-byte end + 8-byte start; a None value deletes a merged session
    got5 = {
        (k[:-16].decode(), int.from_bytes(k[-8:], "big"), int.from_bytes(k[-16:-8], "big")): (
            int.from_bytes(v, "big", signed=True)
        )
        for k, v in last.items()
        if v is not None
    }
    return got5 == expected, total
