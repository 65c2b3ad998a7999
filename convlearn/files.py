"""Safe file writing: temporary name in the same directory, then ``os.replace``.

A crash, a full disk or Ctrl-C in the middle of a write leaves either the old
file or the complete new one, never half of it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from convlearn.errors import InputError, OutputError

__all__ = ["atomic_write", "check_not_input", "write_bytes", "write_text"]


def _existing_mode(target: Path) -> int:
    """The target's current permission bits, or 0666 minus the umask for a new file."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success move it into place.

    On any exception (including KeyboardInterrupt) the temporary file is
    removed, the target is untouched, and an OSError becomes an OutputError that
    names the path.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"Cannot write {str(target)!r}: the directory {str(directory)!r} does not exist")
    if target.is_dir():
        raise OutputError(f"Cannot write {str(target)!r}: it is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    except OSError as e:
        raise OutputError(f"Cannot write {str(target)!r}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes 0600 files; give the result the mode a plain open() would.
        os.chmod(tmp, _existing_mode(target))
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, OutputError):
            raise OutputError(f"Cannot write {str(target)!r}: {e.strerror or e}; nothing was written") from None
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Atomically write ``data`` to ``path``."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically write UTF-8 ``text`` to ``path``."""
    write_bytes(path, text.encode("utf-8"))


def check_not_input(output: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output path that is one of the inputs: it would destroy the input."""
    out = Path(output)
    for item in inputs:
        src = Path(item)
        if str(src) == "-" or str(out) == "-":
            continue
        same = out.exists() and src.exists() and os.path.samefile(out, src)
        if same or out.resolve() == src.resolve():
            raise InputError(f"Output {str(out)!r} is also an input; refusing to overwrite it. Choose another --output")
