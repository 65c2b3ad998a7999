"""``-`` as a path: stdin for an input, stdout for an output, so convlearn fits in shell pipes.

This module moves bytes; :mod:`convlearn.images.stdio` decodes and encodes images through it.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from pathlib import Path

from convlearn.errors import OutputError
from convlearn.files.atomic import write_bytes

__all__ = ["STDIO", "CheckedStream", "write_encoded"]

#: The path that means stdin for inputs and stdout for outputs.
STDIO = "-"


def write_encoded(target: str | os.PathLike, data: bytes) -> str:
    """Write encoded bytes to ``target`` (atomically), or to stdout when it is ``-``; returns the target as text."""
    if str(target) != STDIO:
        write_bytes(target, data)  # as given: a FreshName is published without replacing
        return str(Path(target))
    stream = getattr(sys.stdout, "buffer", sys.stdout)
    try:
        stream.write(data)
        stream.flush()
    except BrokenPipeError:
        raise OutputError("stdout was closed before the image was written (a broken pipe)") from None
    except OutputError:
        raise  # a checked stdout has said what went wrong
    except OSError as e:
        raise OutputError(f"Cannot write to stdout: {e.strerror or e}") from None
    return STDIO


def _write_all(fd: int, data: bytes, name: str) -> None:
    """Every byte of ``data`` to ``fd``, or an error: a short write (a file-size limit) is a failure, not success."""
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BrokenPipeError:
            raise  # the reader has gone (``| head``): the boundary stays quiet
        except OSError as e:
            raise OutputError(f"Cannot write to {name}: {_stream_reason(e)}") from None
        if n <= 0:
            raise OutputError(f"Cannot write to {name}: the write stopped after {len(data) - len(view)} bytes")
        view = view[n:]


def _stream_reason(e: OSError) -> str:
    from convlearn.files.atomic import _reason

    return "it is closed" if e.errno == errno.EBADF else _reason(e)


class _CheckedBytes(io.RawIOBase):
    """The binary side of :class:`CheckedStream`: each write goes out whole, or raises."""

    def __init__(self, fd: int, name: str):
        super().__init__()
        self._fd, self._name = fd, name

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data) -> int:
        data = bytes(data)
        _write_all(self._fd, data, self._name)
        return len(data)


class CheckedStream(io.TextIOBase):
    """stdout (or stderr) whose every write is checked: text through Rich and print, bytes through ``.buffer``.

    Python's own buffered stdout takes a short write under a file-size limit
    (``ulimit -f``) as success; here each write goes to the file descriptor
    whole, or raises :class:`~convlearn.errors.OutputError` (BrokenPipeError
    when the reader has gone, as ``| head`` does).
    """

    def __init__(self, fd: int = 1, name: str = "stdout", encoding: str = "utf-8", errors: str = "strict"):
        super().__init__()
        self.buffer = _CheckedBytes(fd, name)
        self._encoding, self._errors = encoding, errors

    @property
    def encoding(self) -> str:
        return self._encoding

    @property
    def errors(self) -> str:
        return self._errors

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.buffer.fileno()

    def isatty(self) -> bool:
        return self.buffer.isatty()

    def write(self, text: str) -> int:
        self.buffer.write(text.encode(self._encoding, self._errors))
        return len(text)
