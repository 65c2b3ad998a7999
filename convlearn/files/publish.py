"""Temporary names and publication: how a finished temporary file takes its final name.

- :func:`temporary_name`: ``.NAME.convlearn-PID-HEX.part`` beside the target, the
  name cut so the whole stays within 255 bytes (a legal 255-byte output still works);
- :func:`publish_new`: the temporary file takes a name convlearn chose only where
  nothing is there *at that moment* (``renameat2(RENAME_NOREPLACE)``, else a hard
  link then unlink), so a file made by someone else meanwhile is never replaced;
- :func:`remove_stale`: a run that writes into a folder removes the ``.part`` files
  an earlier run left there when it was killed (SIGKILL, a power cut): those whose
  process id no longer runs. :func:`take_stale_report` says what was removed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import re
import secrets
from pathlib import Path

from convlearn.errors import OutputError

__all__ = ["NAME_MAX", "FreshName", "publish_new", "remove_stale", "take_stale_report", "temporary_name"]

#: The longest file name (one path component) in bytes on the usual file systems.
NAME_MAX = 255
#: The mark of convlearn's temporary files: the writing process's id and a random part.
_TAG = re.compile(r"\.convlearn-(\d+)-[0-9a-f]{8}\.part$")
#: renameat2's flag: fail with EEXIST when the new name exists (Linux >= 3.15).
_RENAME_NOREPLACE = 1
_AT_FDCWD = -100
#: Folders already cleaned in this process, and what was removed: (path, bytes).
_cleaned: set[str] = set()
_removed: list[tuple[str, int]] = []


class FreshName(str):
    """An output name convlearn made up (``STEM_TAG.png``): it must never replace a file that is there.

    >>> FreshName("a_canny.png") == "a_canny.png"
    True
    """

    __slots__ = ()


def temporary_name(target: Path) -> Path:
    """A hidden temporary name beside ``target``, at most :data:`NAME_MAX` bytes, marked with this process's id.

    >>> name = temporary_name(Path("d") / ("x" * 255)).name
    >>> len(name.encode()) <= 255, name.endswith(".part")
    (True, True)
    """
    tag = f".convlearn-{os.getpid()}-{secrets.token_hex(4)}.part"
    room = NAME_MAX - 1 - len(tag.encode())
    stem = os.fsencode(target.name)[:room].decode("utf-8", "ignore")  # never half a character
    return target.parent / f".{stem}{tag}"


def _renameat2(src: Path, dst: Path) -> bool:
    """Rename without replacing (raises FileExistsError); False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(libc_name, use_errno=True) if libc_name else None
    function = getattr(libc, "renameat2", None)
    if function is None:
        return False
    result = function(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # this file system or kernel has no RENAME_NOREPLACE
    raise OSError(code, os.strerror(code), str(dst))


def publish_new(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the name ``target`` only if nothing has that name; else an OutputError saying it exists.

    The check and the naming are one step (no window for another writer): renameat2
    with RENAME_NOREPLACE, else a hard link (which fails on an existing name) and
    the temporary name's removal. ``tmp`` is left for the caller to remove on failure.
    """
    try:
        if _renameat2(tmp, target):
            return
        try:
            os.link(tmp, target)
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            if os.path.lexists(target):  # no hard links here (FAT, some network file systems)
                raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
            os.rename(tmp, target)
            return
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    except FileExistsError:
        raise OutputError(
            f"Cannot write {str(target)!r}: it already exists (made while this run was working); "
            "it was left as it was. Give --overwrite to replace it, or choose another --output"
        ) from None


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: it runs
        return True
    return True


def remove_stale(directory: Path) -> None:
    """Remove the temporary files that convlearn runs now ended left in ``directory`` (once per process)."""
    key = os.path.abspath(directory)
    if key in _cleaned:
        return
    _cleaned.add(key)
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        match = _TAG.search(entry.name) if entry.name.startswith(".") else None
        if match is None or _running(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            size = entry.stat(follow_symlinks=False).st_size
            os.unlink(entry.path)
            _removed.append((entry.path, size))


def take_stale_report() -> str | None:
    """One line about the stale temporary files removed so far (then forgotten); None when there were none.

    >>> take_stale_report() is None
    True
    """
    if not _removed:
        return None
    count, total = len(_removed), sum(size for _, size in _removed)
    folders = sorted({str(Path(path).parent) for path, _ in _removed})
    _removed.clear()
    where = ", ".join(repr(f) for f in folders[:3]) + (" ..." if len(folders) > 3 else "")
    return f"removed {count} temporary .part file(s) ({total} bytes) that a killed earlier run left in {where}"
