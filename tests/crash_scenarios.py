"""The crash scenarios of the runtime's acceptance tests, on any broker URL.

Each scenario runs word-count workers (tests/runtime/crash_app.py) as separate processes under
exactly_once_v2, disturbs them (SIGKILL, a new worker, a broker restart) and checks that the
output topic ends with the exact counts and holds no update twice. tests/runtime runs them on
local://, tests/kafka on a real Kafka broker.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import strom
from strom import serdes
from strom.backends import ProducerRecord

S, L = serdes.String(), serdes.Long()
APP = Path(__file__).resolve().parent / "runtime" / "crash_app.py"
WORDS = [f"w{i}" for i in range(20)]


def lines(n: int, seed: int) -> list[str]:
    """``n`` lines of 5 of 20 words."""
    return [
        " ".join(WORDS[(i * 7 + j * 3 + seed) % len(WORDS)] for j in range(5)) for i in range(n)
    ]


def wait_for(
    predicate: Callable[[], bool],
    timeout: float = 60.0,
    procs: Sequence[subprocess.Popen[str]] = (),
    what: str = "the condition",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"worker exited {p.returncode}: {p.stderr.read()}")
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class WordCount:
    """One word-count application (its topics and workers) on ``broker``.

    ``prefix`` keeps applications apart on a shared broker (local:// tests get a log of
    their own and need none).
    """

    broker: str
    state: Path
    partitions: int = 2
    store: str = "rocksDB"
    session_ms: int = 1500
    prefix: str = ""
    standbys: int = 0
    guarantee: str = "exactly_once_v2"
    expected: collections.Counter[str] = field(default_factory=collections.Counter)
    workers: list[subprocess.Popen[str]] = field(default_factory=list)

    @classmethod
    def unique(cls, broker: str, state: Path, **kw: object) -> WordCount:
        return cls(broker, state, prefix=f"t{uuid.uuid4().hex[:8]}-", **kw)  # type: ignore[arg-type]

    @property
    def lines_topic(self) -> str:
        return f"{self.prefix}lines"

    @property
    def out_topic(self) -> str:
        return f"{self.prefix}counts-out"

    def create_topics(self, client: strom.Client) -> None:
        # the records carry small timestamps (1970): with the broker's default time retention
        # they would be deleted under the workers at its next retention check
        keep = {"retention.ms": "-1"}
        client.create_topic(self.lines_topic, partitions=self.partitions, config=keep)
        client.create_topic(self.out_topic, partitions=self.partitions, config=keep)

    def produce(self, client: strom.Client, data: list[str], key: str = "", ts: int = 0) -> None:
        """Append ``data`` in one batch (fast: a worker cannot finish it meanwhile)."""
        client.backend.produce(
            [
                ProducerRecord(self.lines_topic, f"{key}{i}".encode(), line.encode(), ts + i)
                for i, line in enumerate(data)
            ]
        )
        self.expected.update(w for line in data for w in line.split())

    def start(self, name: str) -> subprocess.Popen[str]:
        args = [self.broker, str(self.state / name), self.store, str(self.session_ms), self.prefix]
        args += [str(self.standbys), self.guarantee]
        proc = subprocess.Popen(
            [sys.executable, str(APP), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.workers.append(proc)
        return proc

    def task_dirs(self, name: str) -> list[str]:
        app_dir = self.state / name / f"{self.prefix}crash"
        if not app_dir.exists():
            return []
        return sorted(p.name for p in app_dir.iterdir() if p.is_dir() and "_" in p.name)

    def updates(self, client: strom.Client) -> dict[str, list[int]]:
        out: dict[str, list[int]] = collections.defaultdict(list)
        for r in client.read(self.out_topic, S, L):
            out[r.key].append(r.value)
        return out

    def n_updates(self, client: strom.Client) -> int:
        return sum(len(v) for v in self.updates(client).values())

    def done(self, client: strom.Client) -> bool:
        return {k: v[-1] for k, v in self.updates(client).items()} == dict(self.expected)

    def nothing_lost(self, client: strom.Client) -> bool:
        """Every word's last count is at least its count in the input (at_least_once may count
        a record twice after a failure, never miss one)."""
        last = {k: v[-1] for k, v in self.updates(client).items()}
        return all(last.get(w, 0) >= n for w, n in self.expected.items())

    def wait_done(
        self, client: strom.Client, procs: Sequence[subprocess.Popen[str]], timeout: float = 60
    ) -> None:
        try:
            wait_for(lambda: self.done(client), timeout, procs, "the exact final counts")
        except AssertionError as e:  # what the workers said, to see why
            for p in self.workers:
                if p.poll() is None:
                    p.send_signal(signal.SIGUSR2)  # their tasks' and fetcher's state
                    time.sleep(0.5)
                    p.send_signal(signal.SIGUSR1)  # their stacks
                    time.sleep(0.5)
                    p.kill()
            logs = "\n".join(
                f"--- worker {p.pid}:\n{p.stderr.read()[-8000:]}" for p in self.workers
            )
            ups = {k: v[-1] for k, v in self.updates(client).items()}
            wrong = {k: (v, self.expected[k]) for k, v in ups.items() if v != self.expected[k]}
            raise AssertionError(f"{e}; (got, expected): {wrong}\n{logs}") from None

    def assert_exactly_once(self, client: strom.Client) -> None:
        ups = self.updates(client)
        assert {k: v[-1] for k, v in ups.items()} == dict(self.expected)
        for word, values in ups.items():
            assert values == sorted(set(values)), f"{word}: an update appears twice: {values}"

    def stop_all(self) -> None:
        """SIGTERM every live worker: it commits, writes checkpoints, leaves and exits 0."""
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        failures = []
        for proc in self.workers:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGUSR1)  # its stacks, for the failure message
                time.sleep(1)
                proc.kill()
                proc.wait()
                failures.append(f"a worker did not stop on SIGTERM: {proc.stderr.read()}")
                continue
            if proc.returncode not in (0, -signal.SIGKILL):
                failures.append(f"a worker exited {proc.returncode}: {proc.stderr.read()}")
        assert not failures, failures


def two_instances(app: WordCount, n_lines: int = 600) -> None:
    """Two instances (separate processes) share the partitions: exact counts, each update
    once, and both ran tasks."""
    with strom.Client(app.broker) as client:
        app.create_topics(client)
        a, b = app.start("a"), app.start("b")
        try:
            for p in (a, b):
                assert p.stdout.readline().strip() == "ready"
            app.produce(client, lines(n_lines, 0), ts=1_000)
            app.wait_done(client, [a, b], timeout=90)
        finally:
            app.stop_all()
        app.assert_exactly_once(client)
    assert app.task_dirs("a") and app.task_dirs("b")


def kill_9_then_restart(app: WordCount, n_lines: int = 4000) -> None:
    """A worker killed with SIGKILL mid-stream and restarted: exact counts, each update once."""
    data = lines(n_lines, 1)
    half = n_lines // 2
    with strom.Client(app.broker) as client:
        app.create_topics(client)
        app.produce(client, data[:half])
        worker = app.start("state")
        try:
            wait_for(lambda: app.n_updates(client) > 40, procs=[worker], what="first updates")
            app.produce(client, data[half:], ts=half)  # the kill lands while it works on these
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
            assert not app.done(client), (
                "the worker finished before it was killed; the test proves nothing"
            )
            worker = app.start("state")
            app.wait_done(client, [worker])
        finally:
            app.stop_all()
        app.assert_exactly_once(client)


def one_of_two_killed(app: WordCount, n_lines: int = 2000) -> None:
    """Two workers share the partitions; one is killed, the other takes its tasks over."""
    with strom.Client(app.broker) as client:
        app.create_topics(client)
        a, b = app.start("a"), app.start("b")
        try:
            for p in (a, b):
                assert p.stdout.readline().strip() == "ready"
            time.sleep(app.session_ms / 1000)  # both have joined
            app.produce(client, lines(n_lines, 2))
            wait_for(lambda: app.n_updates(client) > 20, procs=[a, b], what="first updates")
            if app.standbys:  # a keeps standby copies of b's tasks (task directories of both)
                every = [f"1_{p}" for p in range(app.partitions)]
                wait_for(
                    lambda: set(every) <= set(app.task_dirs("a")), procs=[a, b], what="standbys"
                )
            os.kill(b.pid, signal.SIGKILL)
            b.wait()
            app.produce(client, lines(n_lines, 3), key="x", ts=10_000)
            app.wait_done(client, [a])
        finally:
            app.stop_all()
        app.assert_exactly_once(client)


def worker_added_under_load(app: WordCount, n_lines: int = 6000) -> None:
    """A second worker joins while the first is busy: the first gives up half the partitions
    (committing first), the second starts them only after that: nothing lost or doubled."""
    data = lines(n_lines, 4)
    half = n_lines // 2
    with strom.Client(app.broker) as client:
        app.create_topics(client)
        app.produce(client, data[:half])
        a = app.start("a")
        try:
            wait_for(lambda: app.n_updates(client) > 20, procs=[a], what="first updates")
            b = app.start("b")
            # b must have joined (and taken partitions) before the rest arrives: a fast a
            # could otherwise finish everything while b is still starting up
            wait_for(lambda: app.task_dirs("b"), procs=[a, b], what="b's first tasks")
            app.produce(client, data[half:], ts=half)
            app.wait_done(client, [a, b])
        finally:
            app.stop_all()
        app.assert_exactly_once(client)
    # b ran tasks (it also takes a's partitions over when a stops first, at the end)
    assert app.task_dirs("b")


def broker_restarted(app: WordCount, stop: Callable[[], None], start: Callable[[], None]) -> None:
    """The broker goes away for a few seconds mid-stream (``stop``) and comes back with its data
    (``start``): the worker recovers by itself (it is never restarted). Under exactly_once_v2
    the counts are exact and each update appears once; under at_least_once nothing is lost."""
    with strom.Client(app.broker) as client:
        app.create_topics(client)
        app.produce(client, lines(2000, 5))
    worker = app.start("a")
    try:
        with strom.Client(app.broker) as client:
            wait_for(lambda: app.n_updates(client) > 20, procs=[worker], what="updates")
        stop()
        time.sleep(5)
        assert worker.poll() is None, worker.stderr.read()
        start()
        with strom.Client(app.broker) as client:
            app.produce(client, lines(2000, 6), key="x", ts=10_000)
            if app.guarantee == "exactly_once_v2":
                app.wait_done(client, [worker], timeout=120)
            else:
                wait_for(lambda: app.nothing_lost(client), 120, [worker], "every word counted")
            assert worker.poll() is None
            app.stop_all()
            if app.guarantee == "exactly_once_v2":
                app.assert_exactly_once(client)
            else:
                assert app.nothing_lost(client)
    finally:
        app.stop_all()
