"""Safe file writing: a temporary name in the same directory, then ``os.replace``.

A crash, a full disk or Ctrl-C in the middle of a write leaves either the old
file or the complete new one, never half of either: ``os.replace`` within one
directory is atomic on POSIX and Windows. The temporary file is hidden
(``.NAME.convlearn-PID-HEX.part``, within 255 bytes) and removed on every failure;
one left by a killed run is removed by the next run that writes into its folder
(:mod:`~convlearn.files.publish`). A name convlearn made up (:class:`FreshName`)
is published only where nothing is, at that moment: it never replaces a file.

An output that is a symbolic link is written through the link: the file it points
to is replaced, the link stays. The checks before the run follow the link too.

What is never replaced: a read-only file (no owner write bit), and anything
that is not a regular file. A FIFO or a character device (``/dev/null``, a
terminal) is written into as a stream; a socket or a block device is refused.
:func:`check_outputs` applies these rules, and the refusal of outputs that are
inputs, to every output of a command before the first is written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from convlearn.errors import InputError, OutputError
from convlearn.files.publish import NAME_MAX, FreshName, publish_new, remove_stale, temporary_name

__all__ = [
    "atomic_write",
    "check_name_length",
    "check_not_input",
    "check_output",
    "check_output_dir",
    "check_outputs",
    "make_output_dir",
    "write_bytes",
    "write_text",
]

#: What to tell the user for the write errors they can do something about.
_ADVICE = {
    errno.ENOSPC: "no space left on device (the disk is full); free some space or write elsewhere",
    errno.EDQUOT: "disk quota exceeded; free some space or write elsewhere",
    errno.EFBIG: "the file is too large for this file system or for the process's file-size limit",
    errno.EACCES: "permission denied; choose another --output or fix the directory's permissions",
    errno.EPERM: "operation not permitted; choose another --output",
    errno.EROFS: "the file system is read-only; choose another --output",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.ENAMETOOLONG: "the file name is too long",
}


def _reason(e: OSError) -> str:
    return _ADVICE.get(e.errno) or (e.strerror or str(e)).lower()


def _cannot_write(target: Path, reason: str, existed: bool) -> OutputError:
    left = f"{str(target)!r} was left as it was" if existed else "nothing was written"
    return OutputError(f"Cannot write {str(target)!r}: {reason}; {left}")


def _existing_mode(target: Path) -> int:
    """The target's current permission bits, or 0666 minus the umask for a new file."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _check_directory(target: Path, directory: Path) -> None:
    if directory.is_dir():
        return
    # Walk up to the first part that exists, to say exactly what is wrong.
    for part in (directory, *directory.parents):
        if part.exists() or part.is_symlink():
            if not part.is_dir():
                raise OutputError(
                    f"Cannot write {str(target)!r}: {str(part)!r} is a file, not a directory. Choose another --output"
                )
            break
    raise OutputError(
        f"Cannot write {str(target)!r}: the directory {str(directory)!r} does not exist. "
        "Create it first or choose another --output"
    )


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every OS or file system allows it)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", *, exclusive: bool | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success move it into place.

    On any exception (including KeyboardInterrupt) the temporary file is
    removed and the target is untouched; an OSError becomes an
    :class:`~convlearn.errors.OutputError` that names the path and says what to do.

    Args:
        path: the file to write. Its directory must exist.
        mode: ``"wb"`` or ``"w"`` (text, UTF-8).
        exclusive: never replace an existing file (the default for a :class:`FreshName`).

    Raises:
        OutputError: the directory is missing or not writable, the target is a
            directory, or the write failed (disk full, file too large, ...).

    >>> import tempfile, os; p = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> with atomic_write(p, "w") as f:
    ...     _ = f.write("hello")
    >>> open(p).read()
    'hello'
    """
    exclusive = isinstance(path, FreshName) if exclusive is None else exclusive
    check_name_length(Path(path))
    target = _through_link(Path(path))
    if _kind(target) == "stream":
        with _stream(target, mode) as handle:
            yield handle
        return
    directory = _check_target(target)
    existed = target.exists()
    # The temporary name is chosen before the file is created, so that a Ctrl-C at any
    # point after the creation finds it in the handler below and removes it.
    remove_stale(directory)
    tmp = temporary_name(target)
    created = False
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        created = True
        try:
            handle = os.fdopen(fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {}))
        except Exception:
            os.close(fd)  # no file object owns it. After a signal one may: it closes fd itself, once
            raise
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _put_in_place(tmp, target, exclusive)
    except BaseException as e:
        if created or not isinstance(e, OSError):  # a signal may land between os.open and `created = True`
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, OutputError):
            raise _cannot_write(target, _reason(e), existed) from None
        raise
    _sync_directory(directory)


def _put_in_place(tmp: Path, target: Path, exclusive: bool) -> None:
    """Move the written temporary file to ``target``, with the mode a plain open() would give it."""
    # The temporary file is 0600; give the result the mode a plain open() would.
    os.chmod(tmp, _existing_mode(target))
    if exclusive:
        publish_new(tmp, target)
    else:
        os.replace(tmp, target)


def _through_link(target: Path) -> Path:
    """The file a symbolic link points to (the link itself stays); any other path as it is."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def check_name_length(target: Path) -> None:
    """Refuse a file name longer than the file system allows, before any work."""
    if len(os.fsencode(target.name)) > NAME_MAX:
        raise InputError(
            f"Cannot write {str(target)[:60]!r}...: its file name is {len(os.fsencode(target.name))} bytes long, "
            f"more than the {NAME_MAX} a file system allows. Choose a shorter --output"
        )


def _check_target(target: Path) -> Path:
    """The directory ``target`` goes in, once it and the target itself may be written; else an OutputError."""
    directory = target.parent if str(target.parent) else Path(".")
    _check_directory(target, directory)
    if target.is_dir():
        raise OutputError(f"Cannot write {str(target)!r}: it is a directory. Give a file name")
    _refuse_special(target)
    return directory


#: The kinds of file an output may already be, by stat's test, and what is done with each.
_KINDS = (
    (stat.S_ISREG, "file"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "stream"),
    (stat.S_ISCHR, "stream"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


def _kind(target: Path) -> str | None:
    """What ``target`` is now (following symlinks): "file", "directory", "stream", ...; None when it does not exist."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return None
    return next((name for test, name in _KINDS if test(mode)), "special file")


def _refuse_special(target: Path) -> None:
    """Refuse to replace what is not a regular file, and a read-only file (the user protected it)."""
    kind = _kind(target)
    if kind in (None, "file", "stream", "directory"):
        if kind == "file" and not os.stat(target).st_mode & stat.S_IWUSR:
            raise InputError(f"Output {str(target)!r} is read-only; remove it or chmod u+w")
        return
    raise InputError(f"Output {str(target)!r} is a {kind}, not a regular file; refusing to replace it")


@contextlib.contextmanager
def _stream(target: Path, mode: str) -> Iterator[IO]:
    """Write into an existing FIFO or character device (``/dev/null``, a terminal) as a stream."""
    try:
        with open(target, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as handle:
            yield handle
    except OSError as e:
        raise OutputError(f"Cannot write {str(target)!r}: {_reason(e)}") from None


def check_output(path: str | os.PathLike, *, overwrite: bool = True, directory_made: bool = False) -> None:
    """Refuse an output that cannot or must not be written, before anything is written.

    Args:
        path: the output; ``-`` (stdout) is always fine.
        overwrite: False refuses an existing file (for names convlearn chose itself).
        directory_made: its directory is created later (``--output DIR``), so it need not exist yet.

    Raises:
        InputError: an existing file without ``overwrite``, a read-only file, a
            directory, or what is not a regular file (a socket, a block device).
        OutputError: a missing directory (as when the file is written).

    >>> check_output("-")  # stdout: fine
    """
    if str(path) == "-":
        return
    check_name_length(Path(path))
    target = _through_link(Path(path))
    kind = _kind(target)
    if kind == "directory":
        raise InputError(f"Cannot write {str(target)!r}: it is a directory. Give a file name")
    _refuse_special(target)
    if kind == "file" and not overwrite:
        raise InputError(
            f"Output {str(target)!r} already exists; refusing to replace it. "
            "Give --overwrite to replace it, or choose another --output"
        )
    if not directory_made and kind is None:
        _check_directory(target, target.parent if str(target.parent) else Path("."))


def check_outputs(
    outputs: Iterable[tuple[str, str | os.PathLike | None]],
    inputs: Iterable[str | os.PathLike | None],
    *,
    overwrite: bool = True,
) -> None:
    """Check every output of a command before the first is written: each writable, none an input, no two alike.

    Args:
        outputs: ``(option, path)`` pairs such as ``("--plot", "loss.png")``; a None path is skipped.
        inputs: every file the command reads (images, kernel files, references); None is skipped.
        overwrite: see :func:`check_output`.

    Raises:
        InputError: an output that is an input, two outputs with one path, or see :func:`check_output`.

    >>> check_outputs([("--output", "k.json"), ("--plot", "loss.png")], ["in.png"])
    """
    read = [p for p in inputs if p is not None]
    seen: dict[str, str] = {}
    for what, path in outputs:
        if path is None or str(path) == "-":
            continue
        check_name_length(Path(path))
        key = os.path.realpath(path)
        if key in seen:
            raise InputError(f"{seen[key]} and {what} both name {str(path)!r}; give them different paths")
        seen[key] = what
        check_not_input(path, read)
        check_output(path, overwrite=overwrite)


def write_bytes(path: str | os.PathLike, data: bytes, *, exclusive: bool | None = None) -> None:
    """Atomically write ``data`` to ``path`` (see :func:`atomic_write`; ``exclusive``: never replace a file).

    >>> import tempfile, os; p = os.path.join(tempfile.mkdtemp(), "a.bin")
    >>> write_bytes(p, b"abc"); open(p, "rb").read()
    b'abc'
    """
    with atomic_write(path, "wb", exclusive=exclusive) as handle:
        handle.write(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically write UTF-8 ``text`` to ``path`` (see :func:`atomic_write`)."""
    write_bytes(path, text.encode("utf-8"))


def make_output_dir(path: str | os.PathLike) -> Path:
    """Create an output directory (and its parents) or say clearly why not.

    Raises:
        OutputError: ``path`` or one of its parents is a file, or it cannot be created.

    >>> import tempfile, os; d = os.path.join(tempfile.mkdtemp(), "a", "b")
    >>> make_output_dir(d).is_dir()
    True
    """
    p = check_output_dir(path)
    if p.is_dir():
        return p
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"Cannot create the output directory {str(p)!r}: {_reason(e)}") from None
    return p


def check_output_dir(path: str | os.PathLike) -> Path:
    """An output directory that exists or can be made: no part of it is a file. Nothing is created.

    Raises:
        OutputError: ``path`` or one of its parents is a file.
    """
    p = Path(path)
    for part in (p, *p.parents):
        if part.exists() or part.is_symlink():
            if not part.is_dir():
                what = "is a file" if part == p else f"is inside {str(part)!r}, which is a file"
                raise OutputError(f"Cannot use {str(p)!r} as the output directory: it {what}. Choose another --output")
            break
    return p


def check_not_input(output: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output path that is one of the inputs: writing it would destroy that input.

    Two spellings of one file (``./a.png``, a symlink, a hard link) count as the same.

    Raises:
        InputError: ``output`` is one of ``inputs``.

    >>> check_not_input("out.png", ["in.png"])  # fine: nothing raised
    """
    out = Path(output)
    if str(out) == "-":
        return
    for item in inputs:
        src = Path(item)
        if str(src) == "-":
            continue
        try:
            same = os.path.samefile(out, src)
        except OSError:  # one of them does not exist (yet)
            same = False
        if same or out.resolve() == src.resolve():
            alias = "" if str(out) == str(src) else f" (the same file as {str(src)!r})"
            raise InputError(
                f"Output {str(out)!r} is also an input{alias}; refusing to overwrite it. Choose another --output"
            )
