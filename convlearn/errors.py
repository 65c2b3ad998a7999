"""convlearn's exception types.

The library raises only these (plus Python's own errors for programming
mistakes). The CLI turns them into one line on stderr and the exit code held
by the class, at a single boundary in :mod:`convlearn.cli.app`:

==================  =====  ==============================================
class               exit   for
==================  =====  ==============================================
InputError           2     bad usage or input (and its subclasses below)
KernelSpecError      2     a kernel spec or kernel file that cannot be used
ImageReadError       2     an image that is missing, damaged or too large
DeviceError          2     a device this machine does not have
OutputError          1     an output that could not be written
TrainingError        1     training that failed at run time (divergence)
OutOfMemoryError     1     a job too large for the device's memory
Interrupted        130     Ctrl-C, with a summary of what was left undone
==================  =====  ==============================================
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ConvlearnError",
    "DeviceError",
    "ImageReadError",
    "InputError",
    "Interrupted",
    "KernelSpecError",
    "OutOfMemoryError",
    "OutputError",
    "TrainingError",
    "invalid_choice",
    "is_device_out_of_memory",
    "is_out_of_memory",
]


class ConvlearnError(Exception):
    """Base of every error convlearn raises on purpose.

    ``exit_code`` is what the CLI exits with: 2 for bad usage or input, 1 for a
    failure at run time, 130 for an interrupted run. The message is the whole
    story for a user: it names the input and says what to do.
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


class OutOfMemoryError(ConvlearnError, MemoryError):
    """A job did not fit in the device's memory (exit code 1).

    The message says what to lower: the image size, the kernel size, the batch
    or the tile size, or to run on another device.
    """

    exit_code = 1


class Interrupted(ConvlearnError):
    """The user pressed Ctrl-C (exit code 130, as a shell reports SIGINT).

    Raise it from an ``except KeyboardInterrupt`` once the work done so far is
    safe, with a message that says what was finished and what was not, e.g.
    ``Interrupted after 3 of 10 images; not done: d.png, e.png, ...``.
    """

    exit_code = 130


def invalid_choice(what: str, value: object, choices: Iterable[str]) -> InputError:
    """Build the one message used for every bad choice.

    >>> str(invalid_choice("border", "x", ["zero", "reflect"]))
    "Invalid border 'x'. Expected one of: zero, reflect"
    """
    return InputError(f"Invalid {what} {value!r}. Expected one of: {', '.join(choices)}")


def is_device_out_of_memory(e: BaseException) -> bool:
    """torch's out-of-memory error (``torch.OutOfMemoryError``, CUDA's among them).

    Matched by class name, so that this module does not import torch.
    """
    return any(c.__name__ == "OutOfMemoryError" for c in type(e).__mro__)


def is_out_of_memory(e: BaseException) -> bool:
    """Any out-of-memory failure: Python's MemoryError, torch's, or the CPU allocator's RuntimeError."""
    if isinstance(e, MemoryError) or is_device_out_of_memory(e):
        return True
    text = str(e)
    return isinstance(e, RuntimeError) and ("out of memory" in text.lower() or "can't allocate memory" in text)
