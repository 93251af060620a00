"""strom vs Quix Streams, Faust and Kafka Streams on one real Apache Kafka broker: W1 (JSON
filter + map) and W2 (word count), the same records for every system, in the same run.

Usage (from the repo root)::

    .venv/bin/python bench/kafka/run.py                         # W1 100k events, W2 10k lines
    .venv/bin/python bench/kafka/run.py --records 5000          # a quick check
    .venv/bin/python bench/kafka/run.py --workloads W2 --systems strom,kafka-streams
    .venv/bin/python bench/kafka/run.py --markdown results.md --json results.json

One broker (scripts/kafka_broker.py, Kafka 4.4.0) for the whole run. For each workload the
input topic is pre-loaded once (bench_data's generators, the same bytes as bench/run.py); then
each system runs the job as a separate process that consumes the input from the beginning with
its own group/application id and writes to its own output topic, while this process reads that
topic back (confluent-kafka, read_committed) until it holds the expected final result. The clock
runs from the job's first input record (Python jobs print the moment their code first sees a
record; Kafka Streams from its state transition to RUNNING) to that moment, so interpreter and
JVM start-up, group join and topic set-up are left out. CPU seconds (utime + stime of the
process, /proc/PID/stat) are taken over the same span; peak RSS is the process's VmHWM.

Method, settings and results: docs/benchmarks.md, section "On Apache Kafka"."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for extra in (HERE, HERE.parent, ROOT / "scripts"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from bench_data import w1_events, w1_expected, w2_lines  # noqa: E402
from common import FIRST_MARKER  # noqa: E402
from kafka_broker import KAFKA_VERSION, KafkaBroker  # noqa: E402
from server_process import die_with_parent, terminate  # noqa: E402
from systems import DEMO_INPUT, DEMO_OUTPUT, JAVA_RUNNING, SYSTEMS, command, prepare  # noqa: E402
from systems import versions as system_versions  # noqa: E402

#: W2 is 10,000 lines here (bench/run.py: 20,000): Faust counts ~100 lines per CPU-second, and
#: the whole default run must stay under 10 minutes on 2 cores
DEFAULT_RECORDS = {"W1": 100_000, "W2": 10_000}
WORKLOADS = tuple(DEFAULT_RECORDS)
#: commit.interval.ms given to every system (see --commit-interval-ms)
DEFAULT_COMMIT_MS = {"at_least_once": 1000, "exactly_once_v2": 100}
CLK_TCK = os.sysconf("SC_CLK_TCK")

# ---------------------------------------------------------------------------------------------
# the broker side: topics, pre-load, reading the output back
# ---------------------------------------------------------------------------------------------


def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=30).topics)
    new = [NewTopic(n, partitions, 1) for n in names if n not in existing]
    if not new:
        return
    for _name, fut in admin.create_topics(new, request_timeout=30).items():
        fut.result(30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until metadata shows every topic
        topics = admin.list_topics(timeout=30).topics
        if all(
            n in topics
            and len(topics[n].partitions) == partitions
            and all(p.leader >= 0 for p in topics[n].partitions.values())
            for n in names
        ):
            return
        time.sleep(0.1)
    raise RuntimeError(f"topics {names} did not appear")


def preload(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]], parts: int
) -> None:
    """Write ``records`` to ``topic``, record ``i`` to partition ``i % parts`` (as bench/run.py
    does); broker timestamps are the producer's clock."""
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 20, "acks": "all", "enable.idempotence": True}
    )
    for i, (key, value) in enumerate(records):
        while True:
            try:
                producer.produce(topic, value, key, partition=i % parts)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 10_000 == 0:
            producer.poll(0)
    if producer.flush(60):
        raise RuntimeError(f"pre-loading {topic}: records left unsent")


class OutputWatcher:
    """Reads a job's output topic from where it ended before the job started (read_committed)
    and tells when it holds the expected final result.

    W1: as many records as events above the threshold. W2: the last count of every word equals
    the true count (and no other key appears)."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        workload: str,
        expected: Any,
        value_format: str,
    ) -> None:
        from confluent_kafka import Consumer, KafkaException, TopicPartition

        self.workload, self.expected, self.value_format = workload, expected, value_format
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-watch-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 20,
            }
        )
        meta = self.consumer.list_topics(topic, timeout=30).topics[topic]
        start = []
        for p in sorted(meta.partitions):
            for attempt in range(50):  # a new topic's leaders may take a moment
                try:
                    _lo, hi = self.consumer.get_watermark_offsets(
                        TopicPartition(topic, p), timeout=30
                    )
                    break
                except KafkaException:
                    if attempt == 49:
                        raise
                    time.sleep(0.2)
            start.append(TopicPartition(topic, p, hi))
        self.consumer.assign(start)
        self.outputs = 0
        self.t_first_output: float | None = None  # wall clock of the first output read
        self.last: dict[str, int | None] = {}
        self.wrong: set[str] = set(expected) if workload == "W2" else set()

    def poll(self, timeout: float) -> int:
        msgs = self.consumer.consume(10_000, timeout)
        if msgs and self.t_first_output is None:
            self.t_first_output = time.time()
        n = 0
        long = self.value_format == "long"
        for m in msgs:
            if m.error():
                continue
            n += 1
            if self.workload != "W2":
                continue
            word = m.key().decode()
            v = m.value()
            count = (
                None if v is None else (int.from_bytes(v, "big", signed=True) if long else int(v))
            )
            self.last[word] = count
            if self.expected.get(word) == count:
                self.wrong.discard(word)
            else:
                self.wrong.add(word)
        self.outputs += n
        return n

    def complete(self) -> bool:
        if self.workload == "W1":
            return self.outputs >= self.expected
        return not self.wrong

    def drain(self, idle: float = 1.5, limit: float = 15.0) -> None:
        """Read on until nothing arrived for ``idle`` seconds (late or duplicate outputs)."""
        t_end = time.monotonic() + limit
        quiet_since = time.monotonic()
        while time.monotonic() < t_end and time.monotonic() - quiet_since < idle:
            if self.poll(0.2):
                quiet_since = time.monotonic()

    def ok(self) -> bool:
        if self.workload == "W1":
            return self.outputs == self.expected
        return self.last == self.expected

    def close(self) -> None:
        self.consumer.close()


# ---------------------------------------------------------------------------------------------
# one measurement: a job process, timed from its first record to the complete output
# ---------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` (all its threads), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def vm_hwm_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of process ``pid``, MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class JobOutput(threading.Thread):
    """Drains the job's stdout+stderr, keeps its tail and notes the start of processing: the
    time in a Python job's FIRST marker, or the arrival of Kafka Streams' RUNNING transition,
    with the process's CPU seconds at that moment."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.tail: deque[str] = deque(maxlen=60)
        self.cpu_first: float | None = None
        self.t_first: float | None = None

    def run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            now = time.time()
            self.tail.append(line)
            if self.t_first is not None:
                continue
            # Faust routes a job's stdout through its logging: the marker may not start the line
            marker = line.find(FIRST_MARKER)
            if marker >= 0 or JAVA_RUNNING in line:
                with contextlib.suppress(OSError):
                    self.cpu_first = cpu_seconds(self.proc.pid)
                if marker >= 0:
                    now = float(line[marker + len(FIRST_MARKER) :].split()[0])
                self.t_first = now


def measure(
    spec: dict[str, Any], expected: Any, records: int, timeout: float, tmp: Path
) -> dict[str, Any]:
    system = SYSTEMS[spec["system"]]
    workdir = Path(tempfile.mkdtemp(prefix=f"{spec['system']}-", dir=tmp))
    spec = {**spec, "state_dir": str(workdir / "state")}
    watcher = OutputWatcher(
        spec["bootstrap"], spec["out_topic"], spec["workload"], expected, system.value_format
    )
    cmd = command(spec["system"], spec, workdir)
    t_launch = time.time()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        cwd=workdir,
        preexec_fn=die_with_parent,
    )
    out = JobOutput(proc)
    out.start()
    error = None
    t_end = cpu_end = peak = None
    deadline = time.monotonic() + timeout
    try:
        while True:
            watcher.poll(0.05)
            if watcher.complete():
                t_end = time.time()
                cpu_end = cpu_seconds(proc.pid)
                peak = vm_hwm_mb(proc.pid)
                break
            if proc.poll() is not None:
                error = f"the job exited with {proc.returncode} before its output was complete"
                break
            if time.monotonic() > deadline:
                error = f"the output was not complete after {timeout:.0f}s"
                with contextlib.suppress(OSError):
                    peak = vm_hwm_mb(proc.pid)
                break
    finally:
        t_stop = time.monotonic()
        terminate(proc, 30.0)
        stop_s = time.monotonic() - t_stop
        out.join(5)
        watcher.drain()
        watcher.close()
    ok = error is None and watcher.ok()
    if error is None and not ok:
        error = "wrong output after the job stopped (duplicates or extra keys)"
    if error is None and out.t_first is None:
        error = "no start marker in the job's output"
    result: dict[str, Any] = {
        **{k: spec[k] for k in ("system", "workload", "guarantee", "commit_interval_ms")},
        "label": system.label,
        "records": records,
        "ok": ok and out.t_first is not None,
        "error": error,
        "outputs": watcher.outputs,
        "peak_rss_mb": peak,
        "startup_s": None if out.t_first is None else out.t_first - t_launch,
        "elapsed": None,
        "cpu_s": None,
        "cpu_total_s": cpu_end,
        "stop_s": stop_s,
        "exit_code": proc.returncode,
    }
    if t_end is not None and out.t_first is not None and out.cpu_first is not None:
        result["elapsed"] = t_end - out.t_first
        if watcher.t_first_output is not None:  # a diagnostic: the start marker's lead
            result["first_output_s"] = watcher.t_first_output - out.t_first
        result["cpu_s"] = round(cpu_end - out.cpu_first, 3)
    if error:
        result["log_tail"] = "".join(out.tail)[-3000:]
    return result


# ---------------------------------------------------------------------------------------------
# the run: broker, data, matrix, table
# ---------------------------------------------------------------------------------------------


def workload_input(workload: str, n: int) -> tuple[list[tuple[bytes | None, bytes]], Any]:
    if workload == "W1":
        events = w1_events(n)
        return [(k, v) for k, v in events], w1_expected(events)
    lines = w2_lines(n)
    expected = Counter(w for line in lines for w in line.decode().split())
    return [(None, line) for line in lines], dict(expected)


def build_matrix(args: argparse.Namespace) -> list[dict[str, Any]]:
    specs = []
    for workload in args.workloads:
        for name in args.systems:
            system = SYSTEMS[name]
            if workload not in system.workloads:
                continue
            guarantees = system.guarantees
            if args.guarantees is not None:
                guarantees = tuple(g for g in args.guarantees if g in system.guarantees)
            for guarantee in guarantees:
                specs.append({"system": name, "workload": workload, "guarantee": guarantee})
    return specs


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    specs = build_matrix(args)
    prepare(sorted({s["system"] for s in specs}))
    run_id = uuid.uuid4().hex[:6]
    rows = []
    with (
        KafkaBroker().start() as broker,
        tempfile.TemporaryDirectory(prefix="strom-bench-kafka-") as tmp_dir,
    ):
        broker.warm_up()
        bootstrap = broker.bootstrap
        tmp = Path(tmp_dir)
        print(f"broker {KAFKA_VERSION} on {bootstrap}", file=sys.stderr, flush=True)
        done = 0
        for workload in args.workloads:
            wspecs = [s for s in specs if s["workload"] == workload]
            if not wspecs:
                continue
            n = args.records or DEFAULT_RECORDS[workload]
            data, expected = workload_input(workload, n)
            in_topic = f"bench-{workload.lower()}-input"
            inputs = [in_topic]
            if any(s["system"].startswith("kafka-streams") for s in wspecs):
                inputs.append(DEMO_INPUT)  # the demo's fixed input topic: the same lines
            t = time.perf_counter()
            create_topics(bootstrap, inputs, args.partitions)
            for topic in inputs:
                preload(bootstrap, topic, data, args.partitions)
            del data
            print(
                f"{workload}: pre-loaded {n:,} records into {', '.join(inputs)} "
                f"({time.perf_counter() - t:.1f}s)",
                file=sys.stderr,
                flush=True,
            )
            for spec in wspecs:
                runs = []
                for rep in range(args.repeat):
                    tag = f"{run_id}-{workload}-{spec['system']}-{spec['guarantee']}-{rep}".lower()
                    if spec["system"].startswith("kafka-streams"):
                        out_topic = DEMO_OUTPUT  # fixed; read on from its end offsets
                    else:
                        out_topic = f"bench-out-{tag}".replace("_", "-")
                    create_topics(bootstrap, [out_topic], args.partitions)
                    commit_ms = args.commit_interval_ms or DEFAULT_COMMIT_MS[spec["guarantee"]]
                    full = {
                        **spec,
                        "bootstrap": bootstrap,
                        "app_id": f"bench-{tag}".replace("_", "-"),
                        "in_topic": in_topic,
                        "out_topic": out_topic,
                        "partitions": args.partitions,
                        "commit_interval_ms": commit_ms,
                    }
                    r = measure(full, expected, n, args.timeout, tmp)
                    runs.append(r)
                    if r["error"]:
                        print(f"  {r['label']}: {r['error']}", file=sys.stderr, flush=True)
                        print(r.get("log_tail", ""), file=sys.stderr, flush=True)
                done += 1
                rows.append(summarize(runs))
                log_row(rows[-1], done, len(specs))
    return rows


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median run by elapsed time (failed runs sort last); every run's time is kept."""
    timed = sorted((r for r in runs if r["elapsed"] is not None), key=lambda r: r["elapsed"])
    row = dict(timed[len(timed) // 2] if timed else runs[0])
    row["runs"] = [r["elapsed"] for r in runs]
    row["ok"] = all(r["ok"] for r in runs)
    if row["elapsed"]:
        row["rps"] = row["records"] / row["elapsed"]
        row["rpcs"] = row["records"] / row["cpu_s"] if row["cpu_s"] else None
        row["cores"] = row["cpu_s"] / row["elapsed"]
    else:
        row["rps"] = row["rpcs"] = row["cores"] = None
    return row


def log_row(row: dict[str, Any], i: int, total: int) -> None:
    print(
        f"[{i}/{total}] {row['workload']} {row['label']:<33} {row['guarantee']:<15} "
        f"{fmt_int(row['rps']):>9} rec/s  {fmt_int(row['rpcs']):>9} rec/CPU-s  "
        f"peak {fmt_mb(row['peak_rss_mb'])} MB  start {fmt_s(row['startup_s'])}s  "
        f"ok={row['ok']}",
        file=sys.stderr,
        flush=True,
    )


def fmt_int(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def fmt_mb(x: float | None) -> str:
    return "-" if x is None else f"{x:.0f}"


def fmt_s(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


HEADERS = (
    "workload",
    "system",
    "guarantee",
    "records/s",
    "records/CPU-s",
    "CPU cores",
    "peak RSS MB",
    "start-up s",
    "outputs",
    "runs s",
    "ok",
)
RIGHT = {3, 4, 5, 6, 7, 8}


def table_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            r["workload"],
            r["label"],
            r["guarantee"],
            fmt_int(r["rps"]),
            fmt_int(r["rpcs"]),
            "-" if r["cores"] is None else f"{r['cores']:.2f}",
            fmt_mb(r["peak_rss_mb"]),
            fmt_s(r["startup_s"]),
            fmt_int(r["outputs"]),
            "/".join("-" if x is None else f"{x:.2f}" for x in r["runs"]),
            "yes" if r["ok"] else "NO",
        ]
        for r in rows
    ]


def targets(rows: list[dict[str, Any]]) -> list[str]:
    """Issue 6's targets: strom (at_least_once) >= 2x Quix Streams and >= 5x Faust on W1 and
    W2, and W2 >= 0.5x Kafka Streams (one stream thread); records/s and records per CPU-s."""
    out = []
    for workload in WORKLOADS:
        strom = next(
            (
                r
                for r in rows
                if r["system"] == "strom"
                and r["workload"] == workload
                and r["guarantee"] == "at_least_once"
            ),
            None,
        )
        if strom is None or not strom["rps"]:
            continue
        for peer, goal in (
            ("quixstreams", 2.0),
            ("faust", 5.0),
            ("kafka-streams", 0.5),
            ("kafka-streams-cache", 0.5),
        ):
            other = next(
                (r for r in rows if r["system"] == peer and r["workload"] == workload), None
            )
            if other is None or not other["rps"]:
                continue
            x = strom["rps"] / other["rps"]
            per_cpu = (
                f"{strom['rpcs'] / other['rpcs']:.2f}x" if strom["rpcs"] and other["rpcs"] else "-"
            )
            verdict = "met" if x >= goal else "NOT met"
            out.append(
                f"{workload}: strom / {other['label']} = {x:.2f}x records/s, {per_cpu} records "
                f"per CPU-s (target >= {goal:g}x: {verdict})"
            )
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    body = table_rows(rows)
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(HEADERS)]

    def line(cells: list[str] | tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in RIGHT else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )

    print(line(HEADERS))
    print("  ".join("-" * w for w in widths))
    for b in body:
        print(line(b))


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": str(os.cpu_count()), "platform": platform.platform()}


def describe(args: argparse.Namespace, vers: dict[str, str]) -> str:
    m = machine()
    v = ", ".join(f"{k} {val}" for k, val in vers.items())
    return (
        f"Run {args.started_at} on {m['cores']} cores ({m['cpu']}), {m['platform']}; "
        f"Apache Kafka {KAFKA_VERSION} broker (one node, on the same machine); {v}; "
        f"{args.partitions} partition(s); 1-minute load average {args.load[0]:.2f} before the "
        f"run and {args.load[1]:.2f} after it."
    )


def write_markdown(
    path: Path, rows: list[dict[str, Any]], args: argparse.Namespace, vers: dict[str, str]
) -> None:
    lines = [
        describe(args, vers),
        "",
        f"Command: `python bench/kafka/run.py {' '.join(sys.argv[1:])}` "
        f"(median of {args.repeat} run(s) per row).",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---:" if i in RIGHT else "---" for i in range(len(HEADERS))) + "|",
    ]
    lines += ["| " + " | ".join(b) + " |" for b in table_rows(rows)]
    if t := targets(rows):
        lines += ["", *(f"- {x}" for x in t)]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    def csv(choices: tuple[str, ...]) -> Any:
        def parse(s: str) -> list[str]:
            items = [x.strip() for x in s.split(",") if x.strip()]
            bad = [x for x in items if x not in choices]
            if bad:
                raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {choices}")
            return items

        return parse

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--records",
        type=int,
        default=None,
        help=f"input records per workload (default: {DEFAULT_RECORDS}; W2: lines of 10 words)",
    )
    p.add_argument("--workloads", type=csv(WORKLOADS), default=list(WORKLOADS))
    p.add_argument(
        "--systems",
        type=csv(tuple(SYSTEMS)),
        default=list(SYSTEMS),
        help=f"comma-separated subset of {','.join(SYSTEMS)} (default: all)",
    )
    p.add_argument(
        "--guarantees",
        type=csv(("at_least_once", "exactly_once_v2")),
        default=None,
        help="strom's processing.guarantee values (default: both; the peers run at-least-once)",
    )
    p.add_argument("--partitions", type=int, default=1, help="partitions of every topic made")
    p.add_argument(
        "--commit-interval-ms",
        type=int,
        default=None,
        help="commit interval given to every system (default: 1000 under at-least-once, "
        "100 under exactly_once_v2)",
    )
    p.add_argument("--repeat", type=int, default=1, help="runs per row; the median is shown")
    p.add_argument("--timeout", type=float, default=600, help="seconds per run before giving up")
    p.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    p.add_argument("--json", type=Path, default=None, help="also write every number as JSON")
    p.add_argument(
        "--setup-only",
        action="store_true",
        help="only create the peers' virtualenvs and resolve Kafka Streams, then exit",
    )
    args = p.parse_args()
    if args.setup_only:
        prepare(args.systems)
        return

    started = time.perf_counter()
    args.started_at = time.strftime("%Y-%m-%d %H:%M %Z")
    load_before = os.getloadavg()[0]
    rows = run(args)
    args.load = (load_before, os.getloadavg()[0])
    vers = system_versions(sorted({r["system"] for r in rows}))
    print()
    print_table(rows)
    for t in targets(rows):
        print(t)
    print(f"\n{describe(args, vers)} Total {time.perf_counter() - started:.0f}s.")
    if args.markdown:
        write_markdown(args.markdown, rows, args, vers)
    if args.json:
        payload = {"machine": machine(), "versions": vers, "args": sys.argv[1:], "rows": rows}
        args.json.write_text(json.dumps(payload, indent=2))
    if not all(r["ok"] for r in rows):
        sys.exit("some measurement produced wrong or incomplete output (ok=NO)")


if __name__ == "__main__":
    main()
