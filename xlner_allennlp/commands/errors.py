"""Turning library errors into a one-line message and a non-zero exit status for the subcommands."""
import argparse
import functools
import logging
import sys
from typing import Callable

logger = logging.getLogger(__name__)


def exit_on_error(command: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
    """Run ``command``; a ``ValueError`` (every alignment-library error is one) or a missing file
    is printed as ``error: <message>`` on stderr, without a traceback, and the process exits with 1."""

    @functools.wraps(command)
    def wrapped(args: argparse.Namespace) -> None:
        try:
            command(args)
        except (ValueError, FileNotFoundError, KeyError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            print(f"error: {message}", file=sys.stderr)
            sys.exit(1)

    return wrapped
