"""``-`` as a path: stdin for an input, stdout for an output, so convlearn fits in shell pipes.

This module moves bytes; :mod:`convlearn.images.stdio` decodes and encodes images through it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from convlearn.errors import OutputError
from convlearn.files.atomic import write_bytes

__all__ = ["STDIO", "write_encoded"]

#: The path that means stdin for inputs and stdout for outputs.
STDIO = "-"


def write_encoded(target: str | os.PathLike, data: bytes) -> str:
    """Write encoded bytes to ``target`` (atomically), or to stdout when it is ``-``; returns the target as text."""
    if str(target) != STDIO:
        write_bytes(Path(target), data)
        return str(Path(target))
    stream = getattr(sys.stdout, "buffer", sys.stdout)
    try:
        stream.write(data)
        stream.flush()
    except BrokenPipeError:
        raise OutputError("stdout was closed before the image was written (a broken pipe)") from None
    except OSError as e:
        raise OutputError(f"Cannot write to stdout: {e.strerror or e}") from None
    return STDIO
