"""Build a topology's nodes and stores for one task: fresh processor instances, fresh stores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strom.core.errors import TopologyError
from strom.processor.api import Processor
from strom.serdes import Json, serde_for
from strom.serdes.base import Serde
from strom.state.api import StateStore
from strom.topology.nodes import ProcessorNode, SinkNode, SourceNode
from strom.topology.topology import Topology


@dataclass
class ProcessorTopology:
    """The nodes and stores one task runs, with topic names as the runtime sees them."""

    nodes: list[ProcessorNode] = field(default_factory=list)
    sources: dict[str, SourceNode] = field(default_factory=dict)  # decorated topic -> source
    sinks: list[SinkNode] = field(default_factory=list)
    stores: dict[str, StateStore] = field(default_factory=dict)  # in topological order
    changelogs: dict[str, str] = field(default_factory=dict)  # store -> changelog topic
    repartition_topics: set[str] = field(default_factory=set)  # decorated internal topics read

    def source_for(self, topic: str) -> SourceNode:
        return self.sources[topic]


def default_serdes(config: Mapping[str, Any]) -> tuple[Serde[Any], Serde[Any]]:
    """The app's default key and value serdes (``default.key.serde``; Json unless set)."""
    return (
        serde_for(config.get("default.key.serde"), default=Json()),  # type: ignore[return-value]
        serde_for(config.get("default.value.serde"), default=Json()),
    )


def resolve(
    serde: Serde[Any] | None,
    default: Serde[Any],
    defaults: tuple[Serde[Any], Serde[Any]] | None = None,
) -> Serde[Any]:
    """``serde``, or the default; serdes that wrap "the default" get it (``with_default``),
    or both the key and value defaults (``with_defaults``)."""
    if serde is None:
        return default
    with_defaults = getattr(serde, "with_defaults", None)
    if with_defaults is not None and defaults is not None:
        return with_defaults(*defaults)
    with_default = getattr(serde, "with_default", None)
    return with_default(default) if with_default is not None else serde


def build_processor_topology(
    topology: Topology,
    application_id: str,
    config: Mapping[str, Any],
    subtopology: int | None,
    global_stores: bool = False,
) -> ProcessorTopology:
    topology.validate()
    groups = topology.global_groups() if global_stores else topology.subtopologies()
    if subtopology is None:
        names = [n for g in groups.values() for n in g]
    else:
        if subtopology not in groups:
            raise TopologyError(f"no sub-topology {subtopology}; there are {sorted(groups)}")
        names = groups[subtopology]
    selected = set(names)
    internal = topology.internal_topics

    def decorate(topic: str) -> str:
        return f"{application_id}-{topic}" if topic in internal else topic

    key_default, value_default = default_serdes(config)
    pt = ProcessorTopology()
    built: dict[str, ProcessorNode] = {}
    for name, d in topology.nodes.items():  # insertion order is topological: parents first
        if name not in selected:
            continue
        node: ProcessorNode
        if d.kind == "source":
            node = SourceNode(
                name,
                tuple(decorate(t) for t in d.topics),
                resolve(d.key_serde, key_default, (key_default, value_default)),
                resolve(d.value_serde, value_default, (key_default, value_default)),
                d.timestamp_extractor,
            )
            for t in node.topics:  # type: ignore[attr-defined]
                pt.sources[t] = node  # type: ignore[assignment]
                if (
                    t != t.removeprefix(f"{application_id}-")
                    and t.removeprefix(f"{application_id}-") in internal
                ):
                    pt.repartition_topics.add(t)
        elif d.kind == "sink":
            node = SinkNode(
                name,
                decorate(d.topic) if d.topic else None,
                d.topic_extractor,
                resolve(d.key_serde, key_default, (key_default, value_default)),
                resolve(d.value_serde, value_default, (key_default, value_default)),
                d.partitioner,
            )
            pt.sinks.append(node)
        else:
            processor = d.supplier()  # type: ignore[misc]
            if not isinstance(processor, Processor) and not callable(
                getattr(processor, "process", None)
            ):
                raise TopologyError(
                    f"the supplier of processor {name!r} returned {processor!r}, not a Processor"
                )
            node = ProcessorNode(name, processor, tuple(d.stores))
        built[name] = node
        pt.nodes.append(node)
        for p in d.parents:
            built[p].children.append(node)
        for s in d.stores:
            if s not in pt.stores:
                builder = topology.stores[s].builder
                pt.stores[s] = builder.build()
                if builder.logging_enabled:
                    pt.changelogs[s] = f"{application_id}-{s}-changelog"
    return pt
