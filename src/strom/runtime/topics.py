"""Topics at start: user topics must exist; repartition and changelog topics are created with
the right partition counts and settings (Kafka Streams' InternalTopicManager)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strom.backends.api import Backend
from strom.core.errors import TopologyError, UnknownTopicError
from strom.topology.groups import TopicGroup, topic_groups
from strom.topology.topology import Topology

REPARTITION_CONFIG = {"cleanup.policy": "delete", "retention.ms": "-1"}
CHANGELOG_CONFIG = {"cleanup.policy": "compact"}


@dataclass
class GroupPlan:
    id: int
    partitions: int
    topics: TopicGroup


@dataclass
class TopicPlan:
    """Tasks per sub-topology and the partition count of every topic the app touches."""

    groups: list[GroupPlan] = field(default_factory=list)
    partitions: dict[str, int] = field(default_factory=dict)

    @property
    def max_partitions(self) -> int:
        return max((g.partitions for g in self.groups), default=0)


def plan_topics(
    topology: Topology, application_id: str, backend: Backend, config: Mapping[str, Any]
) -> TopicPlan:
    groups = topic_groups(topology, application_id)
    existing = {name: info.partitions for name, info in backend.list_topics().items()}
    internal = {f"{application_id}-{t}": spec for t, spec in topology.internal_topics.items()}
    missing = sorted(
        {t for g in groups for t in g.sources if t not in internal and t not in existing}
    )
    if missing:
        raise UnknownTopicError(
            f"the topology reads topics that do not exist: {missing}; create them first "
            "(strom topics create NAME --partitions N, or strom.Client(url).create_topic)"
        )
    dlq = config.get("errors.dead.letter.queue.topic.name")
    outputs = sorted(
        {t for g in groups for t in g.sinks if t not in internal and t not in existing}
        | ({dlq} if dlq and dlq not in existing else set())
    )
    if outputs:
        raise UnknownTopicError(
            f"the topology writes to topics that do not exist: {outputs}; create them first "
            "(strom topics create NAME --partitions N)"
        )
    counts: dict[str, int] = dict(existing)
    for name, spec in internal.items():
        if spec.partitions:
            counts[name] = spec.partitions
    # repartition topics take the partition count of the sub-topology that writes them
    for _ in range(len(groups) + 1):
        changed = False
        for g in groups:
            known = [counts[t] for t in g.sources if t in counts]
            if not known:
                continue
            n = max(known)
            for t in g.internal_sinks:
                if t not in counts:
                    counts[t] = n
                    changed = True
        if not changed:
            break
    copartition(topology, application_id, internal, counts)
    plan = TopicPlan(partitions=counts)
    for g in groups:
        known = [counts[t] for t in g.sources if t in counts]
        if not known:
            raise TopologyError(f"cannot tell how many partitions sub-topology {g.id} has")
        plan.groups.append(GroupPlan(g.id, max(known), g))
        for store, topic in g.changelogs.items():
            counts[topic] = max(known)
            _ensure(
                backend,
                topic,
                max(known),
                changelog_config(topology, store, config),
                existing,
                f"changelog of store {store!r}",
            )
    for name in internal:
        if name in counts:
            settings = {**REPARTITION_CONFIG, **internal_topic_overrides(config)}
            _ensure(backend, name, counts[name], settings, existing, "repartition topic")
    return plan


def copartition(
    topology: Topology, application_id: str, internal: Mapping[str, Any], counts: dict[str, int]
) -> None:
    """A join's inputs must have as many partitions as each other (Kafka checks it at start);
    repartition topics among them take that count."""
    for group in topology.copartition_groups:
        topics = {f"{application_id}-{t}" if t in topology.internal_topics else t for t in group}
        user = {t: counts[t] for t in sorted(topics) if t not in internal and t in counts}
        if len(set(user.values())) > 1:
            listed = ", ".join(f"{t} ({n} partitions)" for t, n in user.items())
            raise TopologyError(
                f"Following topics do not have the same number of partitions: [{listed}]; "
                "topics joined with each other must be co-partitioned"
            )
        target = next(iter(user.values()), None)
        if target is None:
            target = max((counts[t] for t in topics if t in counts), default=None)
        for t in topics:
            if t in internal and not internal[t].partitions and target is not None:
                counts[t] = target


def internal_topic_overrides(config: Mapping[str, Any]) -> dict[str, str]:
    """What the app's config says about every internal topic, as in Kafka Streams:
    ``topic.``-prefixed settings (``topic.min.insync.replicas=2``) and ``replication.factor``
    (-1: the broker's default)."""
    out = {k[len("topic.") :]: str(v) for k, v in config.items() if k.startswith("topic.")}
    factor = config.get("replication.factor", -1)
    if factor not in (None, "", -1, "-1"):
        out["replication.factor"] = str(factor)
    return out


def changelog_config(topology: Topology, store: str, config: Mapping[str, Any]) -> dict[str, str]:
    """A store's changelog settings: compacted (windowed stores: compact,delete with their
    retention plus ``windowstore.changelog.additional.retention.ms``), then the app's
    ``topic.*`` settings, then the builder's own."""
    builder = topology.stores[store].builder
    overrides = internal_topic_overrides(config)
    extra = getattr(builder, "changelog_config", None)
    if callable(extra):
        additional = int(config.get("windowstore.changelog.additional.retention.ms", 86_400_000))
        return {**overrides, **{k: str(v) for k, v in extra(additional).items()}}
    return {
        **CHANGELOG_CONFIG,
        **overrides,
        **{k: str(v) for k, v in builder.log_config.items()},
    }


def _ensure(
    backend: Backend,
    topic: str,
    partitions: int,
    config: Mapping[str, str],
    existing: Mapping[str, int],
    what: str,
) -> None:
    if topic in existing:
        if existing[topic] != partitions:
            raise TopologyError(
                f"{what} {topic!r} has {existing[topic]} partitions but the application needs "
                f"{partitions}; reset the application (strom reset) to recreate it"
            )
        return
    backend.create_topic(topic, partitions, dict(config), exist_ok=True)
