"""What several subcommands share: the broker URL, ``KEY=VALUE`` options, serdes by name,
and how values are printed."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import orjson

from strom.app import DEFAULT_BROKER
from strom.core.errors import StromError
from strom.serdes import Bytes, Double, Integer, Json, Long, Serde, String

#: The environment variable that sets the default broker of every subcommand.
BROKER_ENV = "STROM_BROKER"

#: Serdes the ``--key-serde``/``--value-serde`` options accept, by name.
SERDES: dict[str, type[Serde[Any]]] = {
    "bytes": Bytes,
    "string": String,
    "long": Long,
    "integer": Integer,
    "double": Double,
    "json": Json,
}


class CliError(StromError):
    """A command used wrongly (bad target, missing App, bad input line): exit code 1."""


def default_broker() -> str:
    """``$STROM_BROKER``, else the App's default (``local://.strom``)."""
    return os.environ.get(BROKER_ENV) or DEFAULT_BROKER


def add_broker_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--broker",
        metavar="URL",
        help=f"memory://NAME, local://PATH or kafka://HOST:PORT "
        f"(default: ${BROKER_ENV}, else {DEFAULT_BROKER})",
    )


def key_value(text: str) -> tuple[str, str]:
    """argparse type for ``KEY=VALUE``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def add_config_option(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument(
        "--config",
        metavar="KEY=VALUE",
        type=key_value,
        action="append",
        default=[],
        help=help,
    )


def serde(name: str) -> Serde[Any]:
    return SERDES[name]()


def show(obj: Any) -> str:
    """A key or value as one line of text: strings as they are, bytes as UTF-8 (invalid bytes
    escaped), ``None`` as ``null``, anything else as JSON."""
    if obj is None:
        return "null"
    if isinstance(obj, str):
        return obj
    if isinstance(obj, bytes):
        return obj.decode("utf-8", errors="backslashreplace")
    return show_json(obj)


def show_json(obj: Any) -> str:
    """A value read with the Json serde, as JSON again (a string keeps its quotes), so that
    ``consume --value-serde json`` output feeds ``produce --json``."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return str(obj)


def printer(serde_name: str) -> Callable[[Any], str]:
    """How ``consume`` prints keys or values read with the serde ``serde_name``."""
    return show_json if serde_name == "json" else show
