"""The ``strom`` command: run, describe, topics, produce, consume, reset.

>>> from strom.cli import main
>>> main(["--version"])  # doctest: +ELLIPSIS
strom ...
0
"""

from strom.cli.parser import main

__all__ = ["main"]
