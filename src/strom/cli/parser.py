"""``main``: the ``strom`` command's argument parser, logging and error handling."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from strom import __version__
from strom.cli import consume, describe, produce, query, reset, run, topics
from strom.core.errors import StromError

COMMANDS = (run, describe, topics, produce, consume, query, reset)


def build_parser() -> argparse.ArgumentParser:
    # --debug is accepted before and after the subcommand; SUPPRESS keeps a subcommand's
    # default from overwriting a --debug given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log at DEBUG level and show tracebacks",
    )
    parser = argparse.ArgumentParser(
        prog="strom",
        parents=[common],
        description="Kafka Streams for Python: run applications and work with topics. "
        "Every command that talks to a broker takes --broker URL "
        "(default: $STROM_BROKER, else local://.strom).",
    )
    parser.add_argument("--version", action="version", version=f"strom {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(commands, common)
    return parser


def _setup_logging(debug: bool) -> None:
    """--debug logs everything to stderr; otherwise logging is left to the App's own module
    (a ``logging.basicConfig`` there still works) and Python prints warnings and errors."""
    if debug:
        logging.basicConfig(
            level=logging.DEBUG,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )


def _quiet_broken_pipe() -> None:
    """``strom consume ... | head``: stop quietly when the reader goes away."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``strom`` command; returns the exit code (0 ok, 1 error, 2 usage, 130 Ctrl-C)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    debug = getattr(args, "debug", False)
    _setup_logging(debug)
    try:
        return int(args.func(args))
    except StromError as e:
        if debug:
            traceback.print_exc()
        print(f"strom {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_broken_pipe()
        return 0
