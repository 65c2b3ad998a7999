"""convlearn's exception types.

The library raises only these (plus Python's own errors for programming
mistakes). The CLI turns them into one line on stderr and the exit code held
by the class, at a single boundary in :mod:`convlearn.cli.app`.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ConvlearnError",
    "DeviceError",
    "ImageReadError",
    "InputError",
    "KernelSpecError",
    "OutputError",
    "TrainingError",
    "invalid_choice",
]


class ConvlearnError(Exception):
    """Base of every error convlearn raises on purpose.

    ``exit_code`` is what the CLI exits with: 2 for bad usage or input, 1 for a
    failure at run time.
    """

    exit_code = 1


class InputError(ConvlearnError, ValueError):
    """The user gave something convlearn cannot use (exit code 2)."""

    exit_code = 2


class KernelSpecError(InputError):
    """A kernel spec that is not a known name, a valid matrix or a kernel file."""


class ImageReadError(InputError):
    """An image file that is missing, unreadable, empty or of an unknown kind."""


class DeviceError(InputError):
    """A device was asked for that this machine does not have."""


class OutputError(ConvlearnError, OSError):
    """An output could not be written (exit code 1). Nothing was left half-written."""

    exit_code = 1


class TrainingError(ConvlearnError, RuntimeError):
    """Training failed at run time, for example a diverging loss (exit code 1)."""

    exit_code = 1


def invalid_choice(what: str, value: object, choices: Iterable[str]) -> InputError:
    """Build the one message used for every bad choice.

    >>> str(invalid_choice("border", "x", ["zero", "reflect"]))
    "Invalid border 'x'. Expected one of: zero, reflect"
    """
    return InputError(f"Invalid {what} {value!r}. Expected one of: {', '.join(choices)}")
