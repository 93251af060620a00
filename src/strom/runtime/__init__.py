"""The runtime: tasks over partitions, with stream time, punctuation and commits."""

from strom.runtime.task import StreamTask

__all__ = ["StreamTask"]
