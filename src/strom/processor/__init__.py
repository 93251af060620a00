"""The Processor API: write processors by hand and wire them into a :class:`strom.Topology`."""

from strom.processor.api import (
    Cancellable,
    Processor,
    ProcessorContext,
    ProcessorSupplier,
    PunctuationType,
    RecordMetadata,
)
from strom.processor.record import Record

__all__ = [
    "Cancellable",
    "Processor",
    "ProcessorContext",
    "ProcessorSupplier",
    "PunctuationType",
    "Record",
    "RecordMetadata",
]
