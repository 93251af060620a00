"""A word-count worker for the crash tests.

``python crash_app.py BROKER STATE_DIR [STORE [SESSION_MS]]``
"""

from __future__ import annotations

import logging
import os
import sys

import strom
from strom import serdes

S, L = serdes.String(), serdes.Long()


def main() -> None:
    if level := os.environ.get("STROM_CRASH_APP_LOG"):  # e.g. INFO, to debug a test
        logging.basicConfig(level=level, format="%(asctime)s %(process)d %(name)s %(message)s")
    broker, state_dir = sys.argv[1], sys.argv[2]
    store = sys.argv[3] if len(sys.argv) > 3 else "rocksDB"
    session_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 1500
    app = strom.App(
        "crash",
        broker=broker,
        state_dir=state_dir,
        processing_guarantee="exactly_once_v2",
        commit_interval_ms=30,
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=100,
        default_dsl_store=store,
    )
    (
        app.stream("lines", key_serde=S, value_serde=S)
        .flat_map_values(str.split)
        .group_by(lambda _, w: w, key_serde=S)
        .count(store="counts")
        .to_stream()
        .to("counts-out", key_serde=S, value_serde=L)
    )
    print("ready", flush=True)
    app.run()


if __name__ == "__main__":
    main()
