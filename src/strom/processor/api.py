"""Processor, ProcessorContext and punctuation: the Processor API (Kafka's ``processor.api``)."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from strom.core.types import TaskId
from strom.processor.record import Record

KIn = TypeVar("KIn")
VIn = TypeVar("VIn")


class PunctuationType(enum.Enum):
    """What drives a punctuation: the task's stream time or the wall clock."""

    STREAM_TIME = "STREAM_TIME"
    WALL_CLOCK_TIME = "WALL_CLOCK_TIME"


class Cancellable(Protocol):
    """Returned by :meth:`ProcessorContext.schedule`; ``cancel()`` stops the punctuation."""

    def cancel(self) -> None: ...


class RecordMetadata(NamedTuple):
    """Where the record being processed came from."""

    topic: str
    partition: int
    offset: int


class ProcessorContext(ABC):
    """What a processor can do: forward records, schedule punctuations, reach its stores."""

    @property
    @abstractmethod
    def application_id(self) -> str: ...

    @property
    @abstractmethod
    def task_id(self) -> TaskId: ...

    @property
    @abstractmethod
    def app_configs(self) -> Mapping[str, Any]: ...

    @property
    @abstractmethod
    def state_dir(self) -> Path | None: ...

    @abstractmethod
    def record_metadata(self) -> RecordMetadata | None:
        """Topic, partition and offset of the input record, or None inside a punctuation."""

    @abstractmethod
    def current_stream_time_ms(self) -> int: ...

    @abstractmethod
    def current_system_time_ms(self) -> int: ...

    @abstractmethod
    def forward(self, record: Record[Any, Any], child_name: str | None = None) -> None:
        """Send ``record`` to every child of the current node, or to the child named."""

    @abstractmethod
    def schedule(
        self,
        interval: int | timedelta,
        punctuation_type: PunctuationType,
        callback: Callable[[int], None],
    ) -> Cancellable:
        """Call ``callback(timestamp)`` every ``interval`` of stream time or wall-clock time."""

    @abstractmethod
    def get_state_store(self, name: str) -> Any:
        """The store ``name``, which must be connected to this processor."""

    @abstractmethod
    def commit(self) -> None:
        """Ask for a commit as soon as possible (after the current record)."""


class Processor(ABC, Generic[KIn, VIn]):
    """Base class for user processors; override :meth:`process`, optionally init/close.

    >>> from strom.processor import Processor, Record
    >>> class Upper(Processor):
    ...     def init(self, context):
    ...         self.context = context
    ...     def process(self, record: Record) -> None:
    ...         self.context.forward(record.with_value(record.value.upper()))
    """

    def init(self, context: ProcessorContext) -> None:
        """Called once before the first record, with the processor's context."""

    @abstractmethod
    def process(self, record: Record[KIn, VIn]) -> None:
        """Process one record."""

    def close(self) -> None:
        """Called once when the task closes."""


#: Anything that makes a new Processor when called with no arguments (a class works).
ProcessorSupplier = Callable[[], Processor[Any, Any]]
