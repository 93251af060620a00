"""strom benchmarks: W1 (JSON filter + map), W2 (word count), W3 (tumbling windows), W4
(stream-table join) and W5 (session windows), against a Bytewax baseline where Bytewax has one.

Usage (from the repo root)::

    .venv/bin/python bench/run.py                       # everything, default sizes (< 6 min)
    .venv/bin/python bench/run.py --records 50000 --workloads W2 --backends memory
    .venv/bin/python bench/run.py --workloads W3,W4,W5   # a subset
    .venv/bin/python bench/run.py --markdown results.md # also write the table as Markdown
    .venv/bin/python bench/run.py --profile --workloads W2 --backends memory  # py-spy, one run

Every measurement runs in a fresh subprocess (``run.py --child SPEC``) so that peak memory
(``ru_maxrss``) and allocator state never mix between measurements. In the child the input is
generated from a fixed seed (the same data for every system), pre-loaded (not timed), then the
timed section processes all of it to completion: for strom, every input offset (including the
repartition topic's, for W2) processed and the final commit done; for Bytewax, ``run_main``
returning after the source's EOF. For W4 the table is loaded into strom's store before the clock
starts (that load is timed separately). Outputs are checked after the clock stops.

See bench/README.md for what each workload does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEED = 42
THRESHOLD = 500.0  # W1 keeps events with amount > THRESHOLD (about half of them)
VOCABULARY = 1000  # W2's distinct words
WORDS_PER_LINE = 10
KINDS = ("click", "view", "purchase", "scroll")

DEFAULT_RECORDS = {"W1": 100_000, "W2": 20_000, "W3": 30_000, "W4": 40_000, "W5": 20_000}
WORKLOADS = tuple(DEFAULT_RECORDS)
#: Guarantees measured when --guarantees is not given: exactly_once_v2's cost is tracked on W1
#: and W2 (issue 3's target); W3-W5 run under the default guarantee only, to keep the full run
#: short (ask for both with --guarantees at_least_once,exactly_once_v2).
DEFAULT_GUARANTEES = {
    "W1": ("at_least_once", "exactly_once_v2"),
    "W2": ("at_least_once", "exactly_once_v2"),
    "W3": ("at_least_once",),
    "W4": ("at_least_once",),
    "W5": ("at_least_once",),
}
#: Workloads measured against Bytewax (it has no stream-table join, so W4 has no baseline).
BYTEWAX_WORKLOADS = ("W1", "W2", "W3", "W5")

T0 = 1_700_000_000_000 // 60_000 * 60_000  # event-time origin of W3-W5, on a minute boundary
W3_KEYS = 10_000
W3_WINDOW_MS = 60_000  # 1-minute tumbling windows
W3_SPAN_MS = 600_000  # event times spread evenly over 10 minutes: 10 windows
W4_KEYS = 10_000  # rows in W4's table
W4_TIERS = ("free", "pro", "business", "enterprise")
W4_REGIONS = ("eu-west", "us-east", "us-west", "ap-south", "sa-east")
W5_USERS = 1_000
W5_GAP_MS = 30_000  # session inactivity gap
W5_WITHIN_MS = (1_000, 20_000)  # time between a user's events inside a session (< gap)
W5_BETWEEN_MS = (120_000, 600_000)  # time between a user's sessions (> gap)
W5_NEW_SESSION = 1 / 8  # chance that the next event of a user starts a new session
W5_PAGES = 200

# ---------------------------------------------------------------------------------------------
# data (deterministic: the same seed gives every system the same bytes)
# ---------------------------------------------------------------------------------------------


def w1_events(n: int) -> list[tuple[bytes, bytes]]:
    """``n`` (key, value) pairs: key ``b"u17"``, value ``{"user","amount","kind"}`` as JSON."""
    rng = random.Random(SEED)
    out = []
    for _ in range(n):
        user = f"u{rng.randrange(1000)}"
        event = {"user": user, "amount": round(rng.uniform(0, 1000), 2), "kind": rng.choice(KINDS)}
        # stdlib json, not orjson: orjson's bytes keep KiBs of spare capacity each, and holding
        # the whole input that way would dominate every peak-RSS number
        out.append((user.encode(), json.dumps(event, separators=(",", ":")).encode()))
    return out


def w1_expected(events: list[tuple[bytes, bytes]]) -> int:
    return sum(1 for _, v in events if json.loads(v)["amount"] > THRESHOLD)


def w1_transform(event: dict[str, Any]) -> dict[str, Any]:
    """W1's map: a new dict (the same function for every system)."""
    return {"user": event["user"], "cents": int(event["amount"] * 100), "kind": event["kind"]}


def vocabulary() -> list[str]:
    rng = random.Random(SEED + 1)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(2, 9))))
    return sorted(words)


def w2_lines(n: int) -> list[bytes]:
    """``n`` lines of ``WORDS_PER_LINE`` words, drawn Zipf-like (weight 1/rank) from the
    vocabulary."""
    rng = random.Random(SEED)
    vocab = vocabulary()
    rng.shuffle(vocab)
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    words = rng.choices(vocab, weights, k=n * WORDS_PER_LINE)
    return [
        " ".join(words[i : i + WORDS_PER_LINE]).encode()
        for i in range(0, len(words), WORDS_PER_LINE)
    ]


def _dumps(obj: Any) -> bytes:
    # stdlib json, not orjson, for the pre-loaded input (see w1_events)
    return json.dumps(obj, separators=(",", ":")).encode()


def w3_events(n: int) -> list[tuple[bytes, bytes, int]]:
    """``n`` (key, value, timestamp) triples over ``W3_KEYS`` keys, event times spread evenly
    (in order) over ``W3_SPAN_MS``; values ``{"user","amount","kind"}`` with integer cents."""
    rng = random.Random(SEED + 3)
    out = []
    for i in range(n):
        user = f"u{rng.randrange(W3_KEYS)}"
        event = {"user": user, "amount": rng.randrange(1, 100_000), "kind": rng.choice(KINDS)}
        out.append((user.encode(), _dumps(event), T0 + i * W3_SPAN_MS // n))
    return out


def w3_expected(events: list[tuple[bytes, bytes, int]]) -> dict[tuple[str, int], list[int]]:
    """``(key, window start) -> [count, sum of amounts]``."""
    out: dict[tuple[str, int], list[int]] = {}
    for k, v, ts in events:
        agg = out.setdefault((k.decode(), ts - ts % W3_WINDOW_MS), [0, 0])
        agg[0] += 1
        agg[1] += json.loads(v)["amount"]
    return out


def w3_init() -> dict[str, int]:
    return {"count": 0, "sum": 0}


def w3_add(agg: dict[str, int], event: dict[str, Any]) -> dict[str, int]:
    """W3's aggregation step: a new aggregate (the same function for every system)."""
    return {"count": agg["count"] + 1, "sum": agg["sum"] + event["amount"]}


def w4_table() -> list[tuple[bytes, bytes]]:
    """W4's table: ``W4_KEYS`` customers ``c0..``, value ``{"name","tier","region"}``."""
    rng = random.Random(SEED + 4)
    return [
        (
            f"c{i}".encode(),
            _dumps(
                {
                    "name": f"customer {i}",
                    "tier": rng.choice(W4_TIERS),
                    "region": rng.choice(W4_REGIONS),
                }
            ),
        )
        for i in range(W4_KEYS)
    ]


def w4_events(n: int) -> list[tuple[bytes, bytes]]:
    """``n`` orders keyed by a customer of the table: ``{"order","amount","kind"}``."""
    rng = random.Random(SEED + 5)
    out = []
    for i in range(n):
        customer = f"c{rng.randrange(W4_KEYS)}"
        order = {"order": i, "amount": rng.randrange(1, 100_000), "kind": rng.choice(KINDS)}
        out.append((customer.encode(), _dumps(order)))
    return out


def w4_join(order: dict[str, Any], customer: dict[str, Any]) -> dict[str, Any]:
    """W4's joiner: the order enriched with the customer's tier and region."""
    return {
        "order": order["order"],
        "amount": order["amount"],
        "kind": order["kind"],
        "customer": customer["name"],
        "tier": customer["tier"],
        "region": customer["region"],
    }


def w4_expected(
    table: list[tuple[bytes, bytes]], events: list[tuple[bytes, bytes]]
) -> list[tuple[str, str]]:
    """Every joined output as ``(key, canonical JSON)``, sorted."""
    rows = {k: json.loads(v) for k, v in table}
    return sorted(
        (k.decode(), json.dumps(w4_join(json.loads(v), rows[k]), sort_keys=True)) for k, v in events
    )


def w5_events(n: int) -> list[tuple[bytes, bytes, int]]:
    """``n`` page views of ``W5_USERS`` users, (key, value, timestamp) in event-time order.

    Each user's views come in sessions: ``W5_WITHIN_MS`` apart inside a session and
    ``W5_BETWEEN_MS`` apart between sessions, both far from the ``W5_GAP_MS`` gap, so every
    system must find the same sessions."""
    rng = random.Random(SEED + 6)
    timed = []
    for u in range(W5_USERS):
        ts = T0 + rng.randrange(60_000)
        for j in range(n // W5_USERS + (u < n % W5_USERS)):
            if j:
                between = rng.random() < W5_NEW_SESSION
                ts += rng.randint(*(W5_BETWEEN_MS if between else W5_WITHIN_MS))
            timed.append((ts, u, rng.randrange(W5_PAGES)))
    timed.sort()
    return [
        (f"u{u}".encode(), _dumps({"user": f"u{u}", "page": f"/p{page}"}), ts)
        for ts, u, page in timed
    ]


def w5_expected(events: list[tuple[bytes, bytes, int]]) -> dict[tuple[str, int, int], int]:
    """``(user, session start, session end) -> views`` (both bounds inclusive event times)."""
    open_: dict[str, list[int]] = {}  # user -> [start, end, count] of the current session
    out: dict[tuple[str, int, int], int] = {}
    for k, _v, ts in events:
        user = k.decode()
        s = open_.get(user)
        if s is not None and ts - s[1] <= W5_GAP_MS:
            s[1], s[2] = ts, s[2] + 1
            continue
        if s is not None:
            out[(user, s[0], s[1])] = s[2]
        open_[user] = [ts, ts, 1]
    for user, (start, end, count) in open_.items():
        out[(user, start, end)] = count
    return out


# ---------------------------------------------------------------------------------------------
# measuring helpers (child side)
# ---------------------------------------------------------------------------------------------


def rss_mb() -> float:
    """Current resident set size of this process, MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def lifetime_peak_rss_mb() -> float:
    """The process's peak RSS since it started (pre-load included), MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark (VmHWM) so that the peak of the timed section alone
    can be read afterwards; False where that is not possible (then ru_maxrss is used)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb(reset_ok: bool) -> float:
    """Peak RSS since :func:`reset_peak_rss` (or since the start of the process), MB."""
    if reset_ok:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return lifetime_peak_rss_mb()


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


class Profiling:
    """Optional profiler around the timed section: ``cprofile`` (pstats file) or
    ``pyinstrument`` (a wall-clock sampling profiler; text report)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.out = spec.get("profile")
        self.kind = spec.get("profiler", "cprofile")
        self.p: Any = None
        if not self.out:
            return
        if self.kind == "pyinstrument":
            try:
                from pyinstrument import Profiler
            except ImportError:
                sys.exit("--profiler pyinstrument needs pyinstrument (pip install pyinstrument)")
            self.p = Profiler(interval=0.0005)
        else:
            import cProfile

            self.p = cProfile.Profile()

    def start(self) -> None:
        if self.p is not None:
            (self.p.start if self.kind == "pyinstrument" else self.p.enable)()

    def stop(self) -> None:
        if self.p is not None:
            (self.p.stop if self.kind == "pyinstrument" else self.p.disable)()

    def save(self) -> None:
        if self.p is None:
            return
        if self.kind == "pyinstrument":
            Path(self.out).write_text(self.p.output_text(unicode=False, color=False))
        else:
            self.p.dump_stats(self.out)


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


# ---------------------------------------------------------------------------------------------
# parent: the matrix, subprocesses, the table
# ---------------------------------------------------------------------------------------------


def child_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    result = run_strom(spec) if spec["system"] == "strom" else run_bytewax(spec)
    print("RESULT " + json.dumps(result), flush=True)


def measure(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(
        f"measurement {spec} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    )


def label(spec: dict[str, Any]) -> str:
    if spec["system"] == "bytewax":
        return f"bytewax ({spec['variant']})" if spec.get("variant") else "bytewax"
    return "strom" if spec["store"] == "rocksDB" else f"strom ({spec['store']})"


def fmt_int(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def fmt_mb(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 0.1 else f"{x:.2f}"


#: Bytewax dataflows per workload (the fastest is the baseline).
BYTEWAX_VARIANTS: dict[str, list[str | None]] = {
    "W1": [None],
    "W2": ["stateful_map", "count_final"],
    "W3": ["fold_window", "fold_window, ordered=False"],
    "W5": ["count_window"],
}


def build_matrix(args: argparse.Namespace) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    for workload in args.workloads:
        n = args.records or DEFAULT_RECORDS[workload]
        if "bytewax" in args.baseline and workload in BYTEWAX_WORKLOADS:
            for variant in BYTEWAX_VARIANTS[workload]:
                specs.append(
                    {
                        "system": "bytewax",
                        "workload": workload,
                        "records": n,
                        "variant": variant,
                        "backend": "-",
                        "guarantee": "-",
                        "batch_size": args.bytewax_batch_size,
                    }
                )
        for backend in args.backends:
            for guarantee in args.guarantees or DEFAULT_GUARANTEES[workload]:
                for store in args.stores:
                    specs.append(
                        {
                            "system": "strom",
                            "workload": workload,
                            "records": n,
                            "backend": backend,
                            "guarantee": guarantee,
                            "store": store,
                            "partitions": args.partitions,
                            "commit_interval_ms": args.commit_interval_ms,
                        }
                    )
    return specs


def run_matrix(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    specs = build_matrix(args)
    for i, spec in enumerate(specs, 1):
        runs = []
        for _ in range(args.repeat):
            r = measure(spec, args.timeout)
            runs.append(r)
        # the median run by elapsed time (its memory numbers go with it)
        runs.sort(key=lambda r: r["elapsed"])
        r = runs[len(runs) // 2]
        row = {**spec, **r, "label": label(spec), "runs": [x["elapsed"] for x in runs]}
        row["rps"] = r["records"] / r["elapsed"]
        row["wps"] = r["words"] / r["elapsed"] if r["words"] else None
        rows.append(row)
        print(
            f"[{i}/{len(specs)}] {spec['workload']} {row['label']:<22} {spec['backend']:<6} "
            f"{spec['guarantee']:<15} {row['rps']:>10,.0f} rec/s  "
            f"{r['elapsed']:.2f}s  peak {r['peak_rss_mb']:.0f} MB  ok={r['ok']}"
            + (f"  (table load {r['table_load_s']:.2f}s)" if r.get("table_load_s") else ""),
            file=sys.stderr,
            flush=True,
        )
    # ratio to the Bytewax baseline: the fastest Bytewax variant of the same workload
    for row in rows:
        base = [
            b["rps"] for b in rows if b["system"] == "bytewax" and b["workload"] == row["workload"]
        ]
        row["ratio"] = row["rps"] / max(base) if base else None
    return rows


HEADERS = (
    "workload",
    "system",
    "backend",
    "guarantee",
    "records/s",
    "words/s",
    "peak RSS MB",
    "RSS delta MB",
    "log MB",
    "x Bytewax",
    "outputs",
    "runs s",
    "ok",
)


def table_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for r in rows:
        out.append(
            [
                r["workload"],
                r["label"],
                r["backend"],
                r["guarantee"],
                fmt_int(r["rps"]),
                fmt_int(r["wps"]),
                fmt_mb(r["peak_rss_mb"]),
                fmt_mb(r["peak_rss_mb"] - r["rss_before_mb"]),
                fmt_mb(r["log_mb"]),
                fmt_ratio(r["ratio"]),
                fmt_int(r["outputs"]),
                "/".join(f"{x:.2f}" for x in r["runs"]),
                "yes" if r["ok"] else "NO",
            ]
        )
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    body = table_rows(rows)
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(HEADERS)]
    right = {4, 5, 6, 7, 8, 9, 10}

    def line(cells: list[str] | tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )

    print(line(HEADERS))
    print("  ".join("-" * w for w in widths))
    for b in body:
        print(line(b))


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for pkg in ("strom", "bytewax", "orjson", "rocksdict"):
        try:
            parts.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            parts.append(f"{pkg} (not installed)")
    import sqlite3

    parts.append(f"SQLite {sqlite3.sqlite_version}")
    return ", ".join(parts)


def write_markdown(path: Path, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    m = machine()
    lines = [
        f"Run {getattr(args, 'started_at', m['date'])} on {m['cores']} cores ({m['cpu']}), "
        f"Python {m['python']}, "
        f"{m['platform']}; {versions()}; 1-minute load average {args.load[0]:.2f} before the "
        f"run and {args.load[1]:.2f} after it.",
        "",
        f"Command: `python bench/run.py {' '.join(sys.argv[1:])}` "
        f"(median of {args.repeat} run(s) per row).",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---:" if 4 <= i <= 10 else "---" for i in range(len(HEADERS))) + "|",
    ]
    for b in table_rows(rows):
        lines.append("| " + " | ".join(b) + " |")
    path.write_text("\n".join(lines) + "\n")


PROFILE_OUT = {
    "py-spy": "bench-profile.collapsed",
    "cprofile": "bench-profile.pstats",
    "pyinstrument": "bench-profile.txt",
}
#: Frames that start the timed section of a strom child (what a py-spy profile is cut down to).
TIMED_FRAMES = ("StreamWorker.run_once ", "StreamWorker.commit ", "drained ")


def summarize_collapsed(path: Path, top: int) -> None:
    """Self and inclusive shares per function from py-spy's collapsed stacks, counting only
    samples inside the timed loop (pre-load, start and checks are left out)."""
    import re
    from collections import Counter

    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        start = next((i for i, f in enumerate(frames) if f.startswith(TIMED_FRAMES)), None)
        if start is None or not any(f.startswith("run_strom ") for f in frames[:start]):
            continue
        if any(f.startswith("load_table ") for f in frames[:start]):
            continue  # W4's table load, before the clock starts
        n = int(count)
        names = [re.sub(r":\d+\)$", ")", f) for f in frames[start:]]
        total += n
        own[names[-1]] += n
        for name in set(names):
            incl[name] += n
    if not total:
        sys.exit(f"no samples of the timed loop in {path}")
    print(f"{total} samples in the timed loop\n\nself time (the function's own code):")
    for name, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\ninclusive time (the function and what it calls):")
    for name, n in incl.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {name}")


def profile(args: argparse.Namespace) -> None:
    """Profile the first strom measurement of the selection (one run, in a subprocess)."""
    import pstats

    specs = [s for s in build_matrix(args) if s["system"] == "strom"][:1]
    if not specs:
        sys.exit("--profile needs a strom measurement in the selection")
    spec = specs[0]
    out = Path(args.profile_out or PROFILE_OUT[args.profiler]).resolve()
    what = (
        f"{spec['workload']} strom {spec['backend']} {spec['guarantee']} "
        f"({spec['records']} records)"
    )
    if args.profiler == "py-spy":
        exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which(
            "py-spy"
        )
        if exe is None:
            sys.exit("--profiler py-spy needs py-spy (pip install py-spy)")
        cmd = [
            exe,
            "record",
            "--nonblocking",
            "--format",
            "raw",
            "--rate",
            "1000",
            "--output",
            str(out),
            "--",
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            json.dumps(spec),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        result = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not result:
            sys.exit(f"py-spy run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        r = json.loads(result[0][len("RESULT ") :])
        print(f"profiled {what}: {r['records'] / r['elapsed']:,.0f} records/s under py-spy")
        summarize_collapsed(out, args.profile_top)
        return
    spec["profile"] = str(out)
    spec["profiler"] = args.profiler
    r = measure(spec, args.timeout)
    print(
        f"profiled {what}: {r['records'] / r['elapsed']:,.0f} records/s "
        f"under {args.profiler}; output in {out}"
    )
    if args.profiler == "pyinstrument":
        print(out.read_text())
        return
    stats = pstats.Stats(str(out))
    stats.sort_stats("tottime").print_stats(args.profile_top)
    stats.sort_stats("cumulative").print_stats(args.profile_top)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child_main(sys.argv[2])
        return

    def csv(choices: tuple[str, ...]) -> Any:
        def parse(s: str) -> list[str]:
            items = [x.strip() for x in s.split(",") if x.strip()]
            bad = [x for x in items if x not in choices]
            if bad:
                raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {choices}")
            return items

        return parse

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--records",
        type=int,
        default=None,
        help=f"input records per measurement (default: {DEFAULT_RECORDS})",
    )
    p.add_argument(
        "--workloads",
        type=csv(WORKLOADS),
        default=list(WORKLOADS),
        help="comma-separated subset of W1,W2,W3,W4,W5 (default: all)",
    )
    p.add_argument("--backends", type=csv(("memory", "local")), default=["memory", "local"])
    p.add_argument(
        "--guarantees",
        type=csv(("at_least_once", "exactly_once_v2")),
        default=None,
        help="processing.guarantee values (default: both for W1 and W2, at_least_once for W3-W5)",
    )
    p.add_argument(
        "--stores",
        type=csv(("rocksDB", "in_memory")),
        default=["rocksDB"],
        help="default.dsl.store for the DSL's stores (W2's count, W3's and W5's window stores, "
        "W4's table; default: rocksDB, strom's default)",
    )
    p.add_argument("--baseline", type=csv(("bytewax", "none")), default=["bytewax"])
    p.add_argument("--bytewax-batch-size", type=int, default=1000)
    p.add_argument("--partitions", type=int, default=1, help="input/output topic partitions")
    p.add_argument(
        "--commit-interval-ms",
        type=int,
        default=None,
        help="override commit.interval.ms (default: strom's, 30000 / 100 under EOS)",
    )
    p.add_argument("--repeat", type=int, default=3, help="runs per row; the median is shown")
    p.add_argument("--timeout", type=float, default=600, help="seconds per measurement")
    p.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    p.add_argument("--json", type=Path, default=None, help="also write raw results as JSON")
    p.add_argument(
        "--profile",
        action="store_true",
        help="profile the first strom measurement of the selection instead of the matrix",
    )
    p.add_argument(
        "--profiler",
        choices=tuple(PROFILE_OUT),
        default="py-spy",
        help="py-spy (sampling, least distortion; default), cprofile or pyinstrument",
    )
    p.add_argument(
        "--profile-out", default=None, help=f"where the profile goes (default: {PROFILE_OUT})"
    )
    p.add_argument("--profile-top", type=int, default=25)
    args = p.parse_args()
    if "none" in args.baseline:
        args.baseline = []

    if args.profile:
        profile(args)
        return
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    args.started_at = time.strftime("%Y-%m-%d %H:%M %Z")
    rows = run_matrix(args)
    args.load = (load_before, os.getloadavg()[0])
    print()
    print_table(rows)
    m = machine()
    print(
        f"\n{m['cores']} cores, {m['cpu']}, Python {m['python']}; {versions()}; "
        f"load average {args.load[0]:.2f} before, {args.load[1]:.2f} after; "
        f"total {time.perf_counter() - started:.0f}s"
    )
    if args.markdown:
        write_markdown(args.markdown, rows, args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    if not all(r["ok"] for r in rows):
        sys.exit("some measurement produced wrong output (ok=NO)")


if __name__ == "__main__":
    main()
