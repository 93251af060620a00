"""The physical topology: sources, processors, sinks and stores, described and built per task."""

from strom.topology.description import (
    NodeDescription,
    SubtopologyDescription,
    TopologyDescription,
)
from strom.topology.topology import Topology

__all__ = ["NodeDescription", "SubtopologyDescription", "Topology", "TopologyDescription"]
