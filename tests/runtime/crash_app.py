"""A word-count worker for the crash tests (local:// and Kafka).

``python crash_app.py BROKER STATE_DIR [STORE [SESSION_MS [PREFIX [STANDBYS [GUARANTEE]]]]]``

PREFIX (default none) is put before the application id and the topic names (``lines``,
``counts-out``), so tests sharing one Kafka broker do not meet.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import sys

import strom
from strom import serdes

S, L = serdes.String(), serdes.Long()


def main() -> None:
    if level := os.environ.get("STROM_CRASH_APP_LOG"):  # e.g. INFO, to debug a test
        logging.basicConfig(
            level=level,
            format="%(asctime)s %(process)d %(name)s %(message)s",
            # a directory to write one log per worker process to (instead of stderr)
            filename=(d := os.environ.get("STROM_CRASH_APP_LOG_DIR")) and f"{d}/{os.getpid()}.log",
        )
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints every thread's stack
    broker, state_dir = sys.argv[1], sys.argv[2]
    if debug := os.environ.get("STROM_CRASH_APP_KAFKA_DEBUG"):  # librdkafka's debug contexts
        broker += ("&" if "?" in broker else "?") + f"consumer.debug={debug}"
        logging.getLogger("strom.kafka.librdkafka").filters.clear()  # every line, repeats too
    store = sys.argv[3] if len(sys.argv) > 3 else "rocksDB"
    session_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 1500
    prefix = sys.argv[5] if len(sys.argv) > 5 else ""
    standbys = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    guarantee = sys.argv[7] if len(sys.argv) > 7 else "exactly_once_v2"
    app = strom.App(
        f"{prefix}crash",
        broker=broker,
        state_dir=state_dir,
        processing_guarantee=guarantee,
        commit_interval_ms=30,
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=100,
        default_dsl_store=store,
        num_standby_replicas=standbys,
    )
    (
        app.stream(f"{prefix}lines", key_serde=S, value_serde=S)
        .flat_map_values(str.split)
        .group_by(lambda _, w: w, key_serde=S)
        .count(store="counts")
        .to_stream()
        .to(f"{prefix}counts-out", key_serde=S, value_serde=L)
    )
    signal.signal(signal.SIGUSR2, lambda *_: dump_state(app))  # the worker's and fetcher's
    print("ready", flush=True)
    app.run()


def dump_state(app: strom.App) -> None:
    """Print the worker's tasks and the Kafka fetcher's state to stderr (to debug a stall)."""
    worker = app._running
    if worker is None:
        return
    out = [f"generation {worker.generation} assigned {sorted(worker.assigned)}"]
    for tid, owned in sorted(worker.tasks.items()):
        queued = {tp: owned.task.queued(tp) for tp in owned.next_offsets}
        out.append(f"task {tid}: next {owned.next_offsets} queued {queued}")
    for tid, standby in sorted(worker.standbys.items()):
        out.append(f"standby {tid}: positions {standby.state.positions}")
    get_fetcher = getattr(worker.backend, "_fetcher", None)
    if get_fetcher is not None:
        f = get_fetcher()
        for tp in sorted(f.assigned):
            out.append(
                f"fetcher {tp}: cursor {f.cursor.get(tp)} expected {f.expected.get(tp)} "
                f"buffered {len(f.buffers.get(tp, []))} eof {f.eof.get(tp)} "
                f"paused {tp in f.paused} error {f.errors.get(tp)} oor {tp in f.out_of_range}"
            )
    print("STATE " + "\nSTATE ".join(out), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
