"""Many files through one command: collect the inputs and name their outputs.

- :func:`collect_inputs` turns files, directories (``recursive``) and globs into
  :class:`Source` items, each with the name it keeps under ``--output DIR``;
- :func:`plan_outputs` names every output and refuses collisions and outputs
  that would overwrite an input.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from convlearn.errors import InputError, invalid_choice
from convlearn.images.encode import IMAGE_SUFFIXES, OUTPUT_FORMATS
from convlearn.images.files import check_not_input, make_output_dir
from convlearn.images.stdio import STDIO

__all__ = ["INPUT_SUFFIXES", "Source", "collect_inputs", "plan_outputs"]

#: Files picked up from a directory (a file named on the command line is read whatever its suffix).
INPUT_SUFFIXES = (*IMAGE_SUFFIXES, ".npy")
#: The characters that make a spec a glob.
_MAGIC = re.compile(r"[*?[]")


@dataclass(frozen=True)
class Source:
    """One input: where to read it, and the name its result keeps under ``--output DIR``."""

    path: str  # as given or found; "-" is stdin
    name: Path  # e.g. "a.png", or "sub/a.png" under a directory read with --recursive


def _files_in(directory: Path, recursive: bool) -> list[Path]:
    found = directory.rglob("*") if recursive else directory.iterdir()
    keep = []
    for f in found:
        rel = f.relative_to(directory)
        if any(part.startswith(".") for part in rel.parts):  # hidden files and folders, e.g. .git
            continue
        if f.suffix.lower() in INPUT_SUFFIXES and f.is_file():
            keep.append(f)
    return sorted(keep)


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
            sources += [Source(str(f), f.relative_to(p)) for f in files]
        elif not p.exists() and _MAGIC.search(spec):
            root = _glob_root(spec)
            matches = sorted(glob.glob(spec, recursive=recursive))
            files = [Path(m) for m in matches if Path(m).is_file()]
            if not files:
                raise InputError(f"No files match {spec!r}")
            sources += [Source(str(f), Path(os.path.relpath(f, root))) for f in files]
        else:
            sources.append(Source(spec, Path(p.name)))
    unique: dict[str, Source] = {}
    for s in sources:
        key = s.path if s.path == STDIO else os.path.realpath(s.path)
        unique.setdefault(key, s)
    return list(unique.values())


def plan_outputs(
    sources: Sequence[Source],
    output: str | os.PathLike | None,
    *,
    fmt: str = "png",
    default_tag: str | None = None,
    as_directory: bool | None = None,
    what: str = "--output",
) -> list[str | None]:
    """Name the output of every input.

    Args:
        sources: from :func:`collect_inputs`.
        output: ``-`` (stdout, one input only), a file (one input), or a
            directory, which keeps each input's name with the ``fmt`` suffix.
            None: ``STEM_TAG.FMT`` in the current directory when ``default_tag``
            is given, else no output.
        fmt: one of :data:`~convlearn.images.OUTPUT_FORMATS`.
        default_tag: see ``output``.
        as_directory: force ``output`` to be read as a directory (True) or a
            file (False); None decides: a directory when it is one already, ends
            with a separator, or there are several inputs.
        what: the option's name, for messages.

    Returns:
        One path (or ``-``, or None) per source. Directories are created.

    Raises:
        InputError: ``-`` or a file for several inputs, two inputs with one
            output, or an output that is one of the inputs.
    """
    if fmt not in OUTPUT_FORMATS:
        raise invalid_choice("format", fmt, OUTPUT_FORMATS)
    n = len(sources)
    if output is None:
        if default_tag is None:
            return [None] * n
        tag = re.sub(r"[^A-Za-z0-9_.-]+", "_", default_tag).strip("_.") or "out"
        targets = [f"{s.name.stem}_{tag}.{fmt}" if s.path != STDIO else STDIO for s in sources]
    elif str(output) == STDIO:
        if n > 1:
            raise InputError(f"{what} - writes one image to stdout, but there are {n} inputs. Give a directory")
        targets = [STDIO]
    else:
        out = Path(output)
        directory = as_directory
        if directory is None:
            directory = out.is_dir() or str(output).endswith(("/", os.sep)) or n > 1
        if directory:
            targets = _targets_in(out, sources, fmt)
        elif n > 1:
            raise InputError(f"{what} {str(output)!r} is a file, but there are {n} inputs. Give a directory")
        elif not out.suffix:
            raise InputError(
                f"{what} {str(output)!r} has no suffix and is not a directory. Name a file such as "
                f"'{output}.png' (.png, .tif, .npy, .jpg or .bmp), or write '{output}/' for a directory"
            )
        else:
            targets = [str(out)]
    _check_targets(sources, targets)
    return targets


def _targets_in(directory: Path, sources: Sequence[Source], fmt: str) -> list[str]:
    """Each input's name with the ``fmt`` suffix inside ``directory``, which is created with its subfolders."""
    make_output_dir(directory)
    targets = [str(directory / s.name.with_suffix(f".{fmt}")) for s in sources]
    for sub in sorted({Path(t).parent for t in targets} - {directory}):  # --recursive keeps subfolders
        make_output_dir(sub)
    return targets


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _check_targets(sources: Sequence[Source], targets: Sequence[str | None]) -> None:
    """Refuse two inputs with one output, and an output that is an input (in one pass, not n²)."""
    inputs_by_path = {os.path.realpath(s.path): s.path for s in sources if s.path != STDIO}
    inputs_by_id = {_file_id(p): p for p in inputs_by_path.values()}
    inputs_by_id.pop(None, None)
    seen: dict[str, str] = {}
    for s, t in zip(sources, targets, strict=True):
        if t is None or t == STDIO:
            continue
        key = os.path.realpath(t)
        if key in seen:
            raise InputError(
                f"Inputs {seen[key]!r} and {s.path!r} would both be written to {t!r}. "
                "Rename one, or write them to separate directories"
            )
        seen[key] = s.path
        clash = inputs_by_path.get(key) or inputs_by_id.get(_file_id(t))
        if clash is not None:
            check_not_input(t, [clash])  # raises, with the one message for this mistake
