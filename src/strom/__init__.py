"""strom: Kafka Streams for Python.

>>> import strom
>>> from strom import serdes
>>> builder = strom.StreamsBuilder()
>>> counts = (builder.stream("text-input", value_serde=serdes.String())
...     .flat_map_values(lambda line: line.lower().split())
...     .group_by(lambda _key, word: word, key_serde=serdes.String())
...     .count(store="word-counts"))
>>> counts.to_stream().to("word-counts", value_serde=serdes.Long())
"""

from strom.app import App
from strom.client import Client
from strom.dsl import GlobalKTable, KStream, KTable, StreamsBuilder
from strom.model import Model
from strom.topology.topology import Topology
from strom.windows import (
    JoinWindows,
    SessionWindows,
    SlidingWindows,
    Suppressed,
    TimeWindows,
    Window,
    Windowed,
)

#: Faust's name for a model: ``class Order(strom.Record): ...`` reads the same as with Faust.
Record = Model

__version__ = "0.1.0"

__all__ = [
    "App",
    "Client",
    "GlobalKTable",
    "JoinWindows",
    "KStream",
    "KTable",
    "Model",
    "Record",
    "SessionWindows",
    "SlidingWindows",
    "StreamsBuilder",
    "Suppressed",
    "TimeWindows",
    "Topology",
    "Window",
    "Windowed",
]
