"""The DSL: StreamsBuilder, KStream, KTable and friends, compiled into a Topology."""

from strom.dsl.branched import BranchedKStream
from strom.dsl.builder import StreamsBuilder
from strom.dsl.grouped import KGroupedStream, KGroupedTable
from strom.dsl.kstream import KStream
from strom.dsl.ktable import GlobalKTable, KTable

__all__ = [
    "BranchedKStream",
    "GlobalKTable",
    "KGroupedStream",
    "KGroupedTable",
    "KStream",
    "KTable",
    "StreamsBuilder",
]
