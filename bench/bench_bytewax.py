"""The Bytewax baselines: the same workloads as Bytewax dataflows."""

from __future__ import annotations

import json
import time
from typing import Any

from bench_data import (
    THRESHOLD,
    W3_WINDOW_MS,
    W5_GAP_MS,
    w1_events,
    w1_expected,
    w1_transform,
    w2_lines,
    w3_add,
    w3_events,
    w3_expected,
    w3_init,
    w5_events,
    w5_expected,
)
from bench_measure import Profiling, lifetime_peak_rss_mb, peak_rss_mb, reset_peak_rss, rss_mb

# ---------------------------------------------------------------------------------------------
# Bytewax
# ---------------------------------------------------------------------------------------------


def run_bytewax(spec: dict[str, Any]) -> dict[str, Any]:
    import orjson
    from bytewax import operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.outputs import DynamicSink, StatelessSinkPartition
    from bytewax.testing import TestingSource, run_main

    emitted = [0]
    total = [0]

    class CountingPartition(StatelessSinkPartition):
        """A no-op sink that only counts what reaches it (and sums W2's final counts)."""

        def __init__(self, summing: bool) -> None:
            self.summing = summing

        def write_batch(self, items: list[Any]) -> None:
            emitted[0] += len(items)
            if self.summing:
                total[0] += sum(c for _, c in items)

    class CountingSink(DynamicSink):
        def __init__(self, summing: bool = False) -> None:
            self.summing = summing

        def build(self, step_id: str, worker_index: int, worker_count: int) -> CountingPartition:
            return CountingPartition(self.summing)

    workload, n, variant = spec["workload"], spec["records"], spec.get("variant")
    batch_size = spec.get("batch_size", 1000)
    flow = Dataflow(f"bench-{workload.lower()}")
    words = 0
    if workload == "W1":
        items: list[Any] = w1_events(n)
        expected = w1_expected(items)
        s = op.input("in", flow, TestingSource(items, batch_size=batch_size))
        s = op.map("deserialize", s, lambda kv: (kv[0].decode(), orjson.loads(kv[1])))
        s = op.filter("filter", s, lambda kv: kv[1]["amount"] > THRESHOLD)
        s = op.map("map", s, lambda kv: (kv[0], w1_transform(kv[1])))
        s = op.map("serialize", s, lambda kv: (kv[0].encode(), orjson.dumps(kv[1])))
        op.output("out", s, CountingSink())
    elif workload == "W2":
        items = w2_lines(n)
        words = sum(len(line.split()) for line in items)
        expected = words
        s = op.input("in", flow, TestingSource(items, batch_size=batch_size))
        w = op.flat_map("split", s, lambda line: line.decode().split())
        if variant == "count_final":
            counts = op.count_final("count", w, lambda word: word)
            op.output("out", counts, CountingSink(summing=True))
        else:  # stateful_map: one updated count per word, like a KTable's update stream

            def add_one(state: int | None, _word: str) -> tuple[int, int]:
                state = (state or 0) + 1
                return state, state

            keyed = op.key_on("key", w, lambda word: word)
            counts = op.stateful_map("count", keyed, add_one)
            op.output("out", counts, CountingSink())
    else:  # W3, W5: Bytewax's windowing operators
        items = w3_events(n) if workload == "W3" else w5_events(n)
        expected = w3_expected(items) if workload == "W3" else w5_expected(items)
        late, down, meta = windowed_flow(flow, workload, variant, items, batch_size)

    profiler = Profiling(spec)
    rss_before = rss_mb()
    reset_ok = reset_peak_rss()
    t0 = time.perf_counter()
    profiler.start()
    run_main(flow)
    profiler.stop()
    elapsed = time.perf_counter() - t0
    peak = peak_rss_mb(reset_ok)
    profiler.save()
    if workload == "W1":
        ok = emitted[0] == expected
    elif variant == "count_final":
        ok = total[0] == expected
    elif workload == "W2":
        ok = emitted[0] == expected
    else:
        emitted[0] = len(down)
        ok = not late and check_bytewax_windows(workload, down, meta, expected)
    return {
        "elapsed": elapsed,
        "records": n,
        "words": words,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak,
        "lifetime_peak_rss_mb": lifetime_peak_rss_mb(),
        "log_mb": None,
        "state_mb": None,
        "processed": emitted[0],
        "outputs": emitted[0],
        "ok": ok,
    }


EPOCH_ISO = "1970-01-01T00:00:00+00:00"


def windowed_flow(
    flow: Any, workload: str, variant: str | None, items: list[Any], batch_size: int
) -> tuple[list[Any], list[Any], list[Any]]:
    """W3 (``fold_window`` over a ``TumblingWindower``) or W5 (``count_window`` over a
    ``SessionWindower``) on ``flow``; returns the lists its sinks fill: late items, results
    (serialized as strom's output: windowed key bytes, JSON or 8-byte count) and, for W5, the
    windows' metadata (the session bounds)."""
    import struct
    from datetime import datetime, timedelta

    import orjson
    from bytewax import operators as op
    from bytewax.operators import windowing as win
    from bytewax.outputs import DynamicSink, StatelessSinkPartition
    from bytewax.testing import TestingSource

    class ListPartition(StatelessSinkPartition):
        def __init__(self, into: list[Any]) -> None:
            self.into = into

        def write_batch(self, items: list[Any]) -> None:
            self.into.extend(items)

    class ListSink(DynamicSink):
        """Keeps what reaches it, for the check after the clock stops."""

        def __init__(self, into: list[Any]) -> None:
            self.into = into

        def build(self, step_id: str, worker_index: int, worker_count: int) -> ListPartition:
            return ListPartition(self.into)

    def dumps(obj: Any) -> bytes:
        # trimmed like strom's Json serde: orjson's bytes keep KiBs of spare capacity otherwise
        out = orjson.dumps(obj)
        return bytes(memoryview(out)) if len(out) < 1024 else out

    epoch = datetime.fromisoformat(EPOCH_ISO)
    ms = timedelta(milliseconds=1)
    long_ = struct.Struct(">q")
    late: list[Any] = []
    down: list[Any] = []
    meta: list[Any] = []
    # Event time only: the watermark is the largest timestamp seen (per key, in Bytewax), never
    # advanced by the system clock, and no wake-ups; windows close on later items or at EOF.
    # The data are in event-time order, so nothing is late.
    clock = win.EventClock(
        lambda v: epoch + v[-1] * ms,
        wait_for_system_duration=timedelta(0),
        now_getter=lambda: epoch,
        to_system_utc=lambda _t: None,
    )
    s = op.input("in", flow, TestingSource(items, batch_size=batch_size))
    if workload == "W3":
        # (key, value, ts) -> (key str, (event dict, ts)): the deserialization strom's serdes do
        s = op.map("deserialize", s, lambda t: (t[0].decode(), (orjson.loads(t[1]), t[2])))
        out = win.fold_window(
            "per-minute",
            s,
            clock,
            win.TumblingWindower(length=timedelta(milliseconds=W3_WINDOW_MS), align_to=epoch),
            w3_init,
            lambda agg, v: w3_add(agg, v[0]),
            lambda a, b: {"count": a["count"] + b["count"], "sum": a["sum"] + b["sum"]},
            ordered=variant != "fold_window, ordered=False",
        )
        # window id = windows since the epoch; key bytes + 8-byte start, as TimeWindowedSerde
        results = op.map(
            "serialize",
            out.down,
            lambda kv: (kv[0].encode() + long_.pack(kv[1][0] * W3_WINDOW_MS), dumps(kv[1][1])),
        )
    else:
        s = op.map("deserialize", s, lambda t: (t[0].decode(), orjson.loads(t[1]), t[2]))
        out = win.count_window(
            "sessions",
            s,
            clock,
            win.SessionWindower(gap=timedelta(milliseconds=W5_GAP_MS)),
            lambda t: t[0],
        )
        # the session bounds come separately (out.meta), so keep the window id beside the key
        results = op.map(
            "serialize", out.down, lambda kv: (kv[0].encode(), kv[1][0], long_.pack(kv[1][1]))
        )
        op.output("meta", out.meta, ListSink(meta))
    op.output("out", results, ListSink(down))
    op.output("late", out.late, ListSink(late))
    return late, down, meta


def check_bytewax_windows(workload: str, down: list[Any], meta: list[Any], expected: Any) -> bool:
    """W3: (count, sum) of every key and window; W5: every session's bounds and count."""
    from datetime import datetime, timedelta

    if workload == "W3":
        got = {
            (k[:-8].decode(), int.from_bytes(k[-8:], "big")): [v["count"], v["sum"]]
            for k, v in ((k, json.loads(v)) for k, v in down)
        }
        return len(down) == len(got) and got == expected
    epoch, ms = datetime.fromisoformat(EPOCH_ISO), timedelta(milliseconds=1)
    bounds = {
        (user, wid): ((m.open_time - epoch) // ms, (m.close_time - epoch) // ms)
        for user, (wid, m) in meta
    }
    got5 = {}
    for k, wid, v in down:
        user = k.decode()
        start, end = bounds[(user, wid)]
        got5[(user, start, end)] = int.from_bytes(v, "big", signed=True)
    return len(down) == len(meta) == len(got5) and got5 == expected
