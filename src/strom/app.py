"""``App``: one object to build a topology (it is a StreamsBuilder) and to run it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strom.core.errors import ConfigError, StromError
from strom.dsl.builder import StreamsBuilder
from strom.topology.topology import Topology

DEFAULT_BROKER = "local://.strom"


def options_to_config(options: Mapping[str, Any]) -> dict[str, Any]:
    """``processing_guarantee=...`` -> ``{"processing.guarantee": ...}``."""
    return {k.replace("_", "."): v for k, v in options.items()}


class App(StreamsBuilder):
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

    @property
    def topology(self) -> Topology:
        """The built topology (built once, on first use)."""
        if self._topology is None:
            self._topology = self.build()
        return self._topology

    def run(self) -> None:
        """Run until stopped (SIGINT/SIGTERM). Needs the runtime (the embedded log issue)."""
        raise StromError(
            "App.run() needs the runtime and a backend, which this version of strom does not "
            "have yet; test the topology with strom.testing.TopologyTestDriver(app.topology)"
        )
