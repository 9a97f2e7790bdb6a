"""Turning errors into a one-line message and a non-zero exit status: the one error handling of
every `xlner-*` subcommand."""
import argparse
import functools
import sys
import zlib
from typing import Callable

from allennlp.common.checks import ConfigurationError

# What bad input raises: alignment-library and reader errors are ValueErrors (undecodable bytes
# included), unreadable or missing files OSErrors (a corrupt gzip file included), a truncated
# compressed stream EOFError or zlib.error, misconfigured components ConfigurationErrors, absent
# keys KeyErrors. The package's readers name the file and line themselves; these are the last net.
INPUT_ERRORS = (ValueError, OSError, EOFError, zlib.error, KeyError, ConfigurationError)


def exit_on_error(command: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
    """Run ``command``; an error of `INPUT_ERRORS` is printed as ``error: <message>`` on stderr,
    without a traceback, and the process exits with status 1."""

    @functools.wraps(command)
    def wrapped(args: argparse.Namespace) -> None:
        try:
            command(args)
        except INPUT_ERRORS as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            print(f"error: {message}", file=sys.stderr)
            sys.exit(1)

    return wrapped
