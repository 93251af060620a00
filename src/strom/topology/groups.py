"""What the runtime needs to know of each sub-topology: the topics it reads and writes, and
the changelogs of its stores, with internal names decorated by the application id."""

from __future__ import annotations

from dataclasses import dataclass, field

from strom.topology.topology import Topology


@dataclass
class TopicGroup:
    """One sub-topology seen from the log: one task per partition of its source topics."""

    id: int
    sources: list[str] = field(default_factory=list)  # every topic it reads (decorated)
    internal_sources: list[str] = field(default_factory=list)  # repartition topics it reads
    sinks: list[str] = field(default_factory=list)  # fixed topics it writes (decorated)
    internal_sinks: list[str] = field(default_factory=list)
    changelogs: dict[str, str] = field(default_factory=dict)  # store -> changelog topic


def topic_groups(topology: Topology, application_id: str) -> list[TopicGroup]:
    """One :class:`TopicGroup` per sub-topology, in sub-topology order."""
    internal = topology.internal_topics

    def decorate(topic: str) -> str:
        return f"{application_id}-{topic}" if topic in internal else topic

    groups = []
    for i, names in topology.subtopologies().items():
        g = TopicGroup(i)
        for name in names:
            d = topology.nodes[name]
            if d.kind == "source":
                for t in d.topics:
                    g.sources.append(decorate(t))
                    if t in internal:
                        g.internal_sources.append(decorate(t))
            elif d.kind == "sink" and d.topic:
                g.sinks.append(decorate(d.topic))
                if d.topic in internal:
                    g.internal_sinks.append(decorate(d.topic))
            for s in d.stores:
                builder = topology.stores[s].builder
                if builder.logging_enabled and s not in g.changelogs:
                    g.changelogs[s] = f"{application_id}-{s}-changelog"
        groups.append(g)
    return groups
