"""Many files into one command: files, directories (``recursive``) and globs become
:class:`Source` items, each with the name its result keeps under ``--output DIR``.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from convlearn.errors import InputError
from convlearn.files.stdio import STDIO
from convlearn.files.suffixes import IMAGE_SUFFIXES

__all__ = ["INPUT_SUFFIXES", "STDIO", "Source", "collect_inputs"]

#: Files picked up from a directory (a file named on the command line is read whatever its suffix).
INPUT_SUFFIXES = (*IMAGE_SUFFIXES, ".npy")
#: The characters that make a spec a glob.
_MAGIC = re.compile(r"[*?[]")


@dataclass(frozen=True)
class Source:
    """One input: where to read it, and the name its result keeps under ``--output DIR``."""

    path: str  # as given or found; "-" is stdin
    name: Path  # e.g. "a.png", or "sub/a.png" under a directory read with --recursive
    expanded: bool = False  # found in a directory or by a glob: its output goes in an --output directory


def _walk(directory: Path, recursive: bool) -> Iterator[Path]:
    """Every file under ``directory`` (one level without ``recursive``), hidden ones left out.

    Symlinks to directories are not followed, so a link loop cannot make the walk endless.
    """
    for top, dirs, files in os.walk(directory, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        yield from (Path(top) / f for f in sorted(files) if not f.startswith("."))


def _files_in(directory: Path, recursive: bool) -> list[Path]:
    return sorted(f for f in _walk(directory, recursive) if f.suffix.lower() in INPUT_SUFFIXES and f.is_file())


def _part_regex(part: str) -> str:
    """One folder level of a glob as a regex: ``*`` and ``?`` stay inside the level, ``[...]`` is a class."""
    out, i = [], 0
    while i < len(part):
        c, close = part[i], part.find("]", i + 2)
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and close != -1:
            body = part[i + 1 : close]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = close
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _glob(pattern: str, recursive: bool) -> list[Path]:
    """The files a glob matches; ``**`` (with ``recursive``) spans folders without following directory symlinks."""
    if not (recursive and "**" in pattern):
        return [Path(m) for m in sorted(glob.glob(pattern)) if Path(m).is_file()]
    root = _glob_root(pattern)
    parts = Path(pattern).parts[len(root.parts) if str(root) != "." else 0 :]
    pieces = ["(?:[^/]+/)*" if p == "**" else _part_regex(p) + "/" for p in parts]
    text = "".join(pieces)
    text = text + "[^/]+" if parts[-1] == "**" else text[:-1]
    regex = re.compile(text + r"\Z", re.S)
    found = [f for f in _walk(root, recursive=True) if regex.match(Path(os.path.relpath(f, root)).as_posix())]
    return sorted(Path(os.path.normpath(f)) for f in found if f.is_file())


def _glob_root(pattern: str) -> Path:
    """The leading folders of a glob that hold no wildcard: names are kept relative to them."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if _MAGIC.search(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def collect_inputs(specs: Sequence[str | os.PathLike], *, recursive: bool = False) -> list[Source]:
    """Expand files, directories and globs into the list of inputs.

    Args:
        specs: what the user gave. A directory gives its image files
            (:data:`INPUT_SUFFIXES`, hidden ones skipped), in name order; a
            pattern with ``*``, ``?`` or ``[`` that is not itself a file is a glob
            (``**`` spans folders with ``recursive``); anything else is one file,
            read later, so a missing one fails on its own. ``-`` is stdin and
            must come alone.
        recursive: also look in subdirectories.

    Returns:
        The inputs, each once, in the order given.

    Raises:
        InputError: no specs, ``-`` among others, a directory without images or
            a glob that matches nothing.

    >>> [s.path for s in collect_inputs(["-"])]
    ['-']
    """
    specs = [str(s) for s in specs]
    if not specs:
        raise InputError("No input given. Name image files, directories or globs, or '-' for stdin")
    if STDIO in specs and len(specs) > 1:
        raise InputError("'-' (stdin) must be the only input")
    sources: list[Source] = []
    for spec in specs:
        p = Path(spec)
        if spec == STDIO:
            sources.append(Source(STDIO, Path("stdin")))
        elif p.is_dir():
            files = _files_in(p, recursive)
            if not files:
                hint = "" if recursive else " (add --recursive to look in its subdirectories)"
                raise InputError(f"No images ({', '.join(INPUT_SUFFIXES)}) in directory {spec!r}{hint}")
            sources += [Source(str(f), f.relative_to(p), expanded=True) for f in files]
        elif not p.exists() and _MAGIC.search(spec):
            root = _glob_root(spec)
            files = _glob(spec, recursive)
            if not files:
                raise InputError(f"No files match {spec!r}")
            sources += [Source(str(f), Path(os.path.relpath(f, root)), expanded=True) for f in files]
        else:
            sources.append(Source(spec, Path(p.name)))
    unique: dict[str, Source] = {}
    for s in sources:
        key = s.path if s.path == STDIO else os.path.realpath(s.path)
        unique.setdefault(key, s)
    return list(unique.values())
