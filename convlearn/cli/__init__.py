"""The command-line interface: a thin layer over the library.

Each command parses its options, calls one library function and prints the
result; see :mod:`convlearn.cli.app` for the error boundary.
"""

from convlearn.cli import commands as _commands  # noqa: F401  (registers the commands)
from convlearn.cli.app import app, main

__all__ = ["app", "main"]
