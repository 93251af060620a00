"""``App``: one object to build a topology (it is a StreamsBuilder) and to run it."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping
from typing import Any

from strom.agents import FaustMixin
from strom.backends.api import DEFAULT_BROKER
from strom.core.errors import ConfigError, StromError
from strom.dsl.builder import StreamsBuilder
from strom.runtime.config import client_config, streams_config
from strom.runtime.worker import StreamWorker
from strom.topology.topology import Topology

log = logging.getLogger("strom.app")

REPLACE = frozenset({"replace_thread", "replace_worker"})
SHUTDOWN = frozenset({"shutdown_client", "shutdown_application"})


def options_to_config(options: Mapping[str, Any]) -> dict[str, Any]:
    """``processing_guarantee=...`` -> ``{"processing.guarantee": ...}``."""
    return {k.replace("_", "."): v for k, v in options.items()}


class App(FaustMixin, StreamsBuilder):
    """A stream-processing application: build with the DSL, then ``run()``.

    >>> import strom
    >>> from strom import serdes
    >>> app = strom.App("wordcount", broker="memory://", commit_interval_ms=100)
    >>> app.config["commit.interval.ms"]
    100
    >>> lines = app.stream("text-input", value_serde=serdes.String())
    """

    def __init__(
        self,
        application_id: str,
        broker: str | None = None,
        config: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if not isinstance(application_id, str) or not application_id:
            raise ConfigError(f"application_id must be a non-empty string, got {application_id!r}")
        cfg = dict(config or {})
        cfg.update(options_to_config(options))
        if cfg.setdefault("application.id", application_id) != application_id:
            raise ConfigError(
                f"application.id {cfg['application.id']!r} in config differs from "
                f"the App's {application_id!r}"
            )
        super().__init__(cfg)
        self.application_id = application_id
        self.broker = broker or DEFAULT_BROKER
        self._topology: Topology | None = None
        self._running: StreamWorker | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._uncaught: Callable[[BaseException], str] | None = None

    @property
    def topology(self) -> Topology:
        """The built topology (built once, on first use)."""
        if self._topology is None:
            self._topology = self.build()
        return self._topology

    # ---- running -------------------------------------------------------------------------------
    def _worker(self) -> StreamWorker:
        from strom.backends.registry import open_backend

        config = dict(self.config)
        if "state.dir" not in config and self.broker.startswith("local://"):
            from strom.backends.local.backend import parse_local_url

            config["state.dir"] = str(parse_local_url(self.broker)[0] / "state")
        cfg = streams_config(config)
        backend = open_backend(self.broker, client_config(cfg))
        try:
            self._create_agent_topics(backend)
            worker = StreamWorker(self.topology, cfg, backend)
            worker.start()
        except BaseException:
            backend.close()
            raise
        return worker

    def run(self) -> None:
        """Run until SIGINT/SIGTERM (or :meth:`close` from another thread), then shut down
        cleanly: commit, write checkpoints, leave the group."""
        worker = self._worker()
        self._running = worker
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: self._stop_running())
        try:
            self._start_agents(worker)
            self._run_replacing(worker)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._running = None
            self._stop_agents(raise_error=True)

    def start(self) -> None:
        """Run in a background thread (for embedding); :meth:`close` stops it."""
        if self._thread is not None:
            raise StromError(f"App {self.application_id!r} is already started")
        worker = self._worker()
        self._start_agents(worker)
        self._running = worker
        self._error = None

        def target() -> None:
            try:
                self._run_replacing(worker)
            except BaseException as e:
                self._error = e
                log.exception("App %s stopped with an error", self.application_id)

        self._thread = threading.Thread(
            target=target, name=f"strom-{self.application_id}", daemon=True
        )
        self._thread.start()

    def _stop_running(self) -> None:
        """Stop the current worker (a replaced worker's successor too)."""
        if self._running is not None:
            self._running.stop()

    # ---- interactive queries ------------------------------------------------------------
    def store(self, name: str, stale: bool = False) -> Any:
        """A read-only view of state store ``name`` on this instance, across its tasks:
        key-value ``get/range/all``, window ``fetch(key, time_from, time_to)``, session
        ``fetch(key)`` (Kafka's ``KafkaStreams.store``). ``stale=True`` also reads the
        standby copies this instance keeps (``num.standby.replicas``; Kafka's
        ``enableStaleStores``): they may lag the active task by a moment."""
        worker = self._running
        if worker is None:
            raise StromError(f"App {self.application_id!r} is not running: start() it first")
        return worker.store(name, stale)

    def query_metadata_for_key(self, store: str, key: Any) -> Any:
        """Which instance holds ``key`` of ``store``: ``KeyQueryMetadata(active_host
        (its application.server), partition, member, standby_hosts)``."""
        worker = self._running
        if worker is None:
            raise StromError(f"App {self.application_id!r} is not running: start() it first")
        return worker.key_metadata(store, key)

    def set_uncaught_exception_handler(self, handler: Callable[[BaseException], str]) -> None:
        """What to do when processing fails: ``handler(error)`` returns ``"replace_thread"``
        (start a fresh worker from the last commit; Kafka's REPLACE_THREAD) or
        ``"shutdown_client"`` / ``"shutdown_application"`` (stop with the error, the default).
        """
        if not callable(handler):
            raise ConfigError(f"the uncaught exception handler must be callable, got {handler!r}")
        self._uncaught = handler

    def _run_replacing(self, worker: StreamWorker) -> None:
        """Run ``worker``; on an error, replace it if the handler says so, else re-raise."""
        while True:
            try:
                worker.run()
                return
            except Exception as e:
                decision = self._uncaught(e) if self._uncaught is not None else "shutdown_client"
                if decision not in REPLACE | SHUTDOWN:
                    raise ConfigError(
                        f"the uncaught exception handler returned {decision!r}; return one of "
                        f"{sorted(REPLACE | SHUTDOWN)}"
                    ) from e
                if decision in SHUTDOWN or worker.stopping:
                    raise
                log.warning(
                    "App %s: replacing the worker after an error: %s", self.application_id, e
                )
            finally:
                worker.backend.close()
            worker = self._worker()  # starts again from the last commit
            self._running = worker

    def close(self, timeout: float | None = 30.0) -> None:
        """Stop processing, commit and close; re-raises an error that stopped the app."""
        worker, thread = self._running, self._thread
        if worker is not None:
            worker.stop()
        if thread is not None:
            thread.join(timeout)
            self._thread = None
        self._running = None
        self._stop_agents(raise_error=False)
        if self._error is not None:
            error, self._error = self._error, None
            raise StromError(f"App {self.application_id!r} failed: {error}") from error

    @property
    def is_running(self) -> bool:
        """True while processing (False once stopped, or after an error stopped it)."""
        if self._thread is not None and not self._thread.is_alive():
            return False
        return self._running is not None and not self._running.stopping

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
