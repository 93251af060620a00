"""What the harness and the job processes share (stdlib only: the jobs of Quix Streams and Faust
import it from their own virtualenvs).

A job process gets its spec as one JSON argument (``job_*.py SPEC``) with the keys
``workload`` (``W1``/``W2``), ``bootstrap``, ``app_id``, ``in_topic``, ``out_topic``,
``partitions``, ``guarantee``, ``commit_interval_ms`` and ``state_dir``, and prints
:data:`FIRST_MARKER` with the wall-clock time when its first input record reaches the job's
code (the harness's start of processing).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1]
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from bench_data import THRESHOLD, w1_transform  # noqa: E402

__all__ = ["FIRST_MARKER", "THRESHOLD", "First", "job_spec", "w1_transform"]

#: ``FIRST_MARKER <epoch seconds>``: the first input record reached the job's code.
FIRST_MARKER = "STROM-BENCH FIRST"


class First:
    """Prints :data:`FIRST_MARKER` once, on the first ``mark()``; jobs call it as
    ``if first.pending: first.mark()`` (one attribute test per record)."""

    def __init__(self) -> None:
        self.pending = True

    def mark(self) -> None:
        self.pending = False
        print(f"{FIRST_MARKER} {time.time():.6f}", flush=True)


def job_spec() -> dict[str, Any]:
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} SPEC_JSON")
    return json.loads(sys.argv[1])
