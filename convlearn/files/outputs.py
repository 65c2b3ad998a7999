"""Name the output of every input, refusing collisions and outputs that would overwrite an input.

Every output is checked before the first directory is made (:func:`make_output_dirs`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from convlearn.errors import InputError, invalid_choice
from convlearn.files.atomic import check_name_length, check_not_input, check_output, check_output_dir, make_output_dir
from convlearn.files.inputs import Source
from convlearn.files.publish import FreshName
from convlearn.files.stdio import STDIO
from convlearn.files.suffixes import IMAGE_SUFFIXES, OUTPUT_FORMATS

__all__ = ["OUTPUT_SUFFIXES", "check_image_suffix", "make_output_dirs", "plan_outputs"]

#: The suffixes an image output may have (its format), as ``encode_image`` writes them.
OUTPUT_SUFFIXES = (*IMAGE_SUFFIXES, ".npy")


def plan_outputs(
    sources: Sequence[Source],
    output: str | os.PathLike | None,
    *,
    fmt: str = "png",
    default_tag: str | None = None,
    as_directory: bool | None = None,
    what: str = "--output",
    overwrite: bool = False,
    create: bool = True,
) -> list[str | None]:
    """Name the output of every input.

    Args:
        sources: from :func:`collect_inputs`.
        output: ``-`` (stdout, one input only), a file (one input), or a
            directory, which keeps each input's name with the ``fmt`` suffix.
            None: ``STEM_TAG.FMT`` in the current directory when ``default_tag``
            is given (``stdin_TAG.FMT`` for stdin), else no output.
        fmt: one of :data:`~convlearn.images.OUTPUT_FORMATS`.
        default_tag: see ``output``.
        as_directory: force ``output`` to be read as a directory (True) or a
            file (False); None decides: a directory when it is one already, ends
            with a separator, there are several inputs, or an input was a
            directory or a glob.
        what: the option's name, for messages.
        overwrite: let the ``STEM_TAG.FMT`` names replace existing files
            (an ``output`` given by name always may, unless read-only).
        create: make the output directories now (False: :func:`make_output_dirs`, later).

    Returns:
        One path (or ``-``, or None) per source.

    Raises:
        InputError: ``-`` or a file for several inputs, two inputs with one
            output, an output that is one of the inputs, an existing file under
            a ``STEM_TAG`` name without ``overwrite``, a read-only output.
    """
    if fmt not in OUTPUT_FORMATS:
        raise invalid_choice("format", fmt, OUTPUT_FORMATS)
    if output is None and default_tag is None:
        return [None] * len(sources)
    targets, directory = _targets(sources, output, fmt, default_tag, as_directory, what)
    _check_targets(sources, targets)
    for t in targets:
        if t not in (None, STDIO):
            check_image_suffix(t)
            check_output(t, overwrite=overwrite or output is not None, directory_made=bool(directory))
    if create:
        make_output_dirs(targets)
    if output is None and not overwrite:  # names made up here: published only where nothing is
        return [None if t is None else FreshName(t) for t in targets]
    return targets


def _targets(
    sources: Sequence[Source],
    output: str | os.PathLike | None,
    fmt: str,
    default_tag: str | None,
    as_directory: bool | None,
    what: str,
) -> tuple[list[str], bool]:
    """Every target (see :func:`plan_outputs`), and whether ``output`` names a directory."""
    if output is None:
        tag = re.sub(r"[^A-Za-z0-9_.-]+", "_", default_tag).strip("_.") or "out"
        return [f"{s.name.stem}_{tag}.{fmt}" for s in sources], False
    n = len(sources)
    if str(output) == STDIO:
        if n > 1:
            raise InputError(f"{what} - writes one image to stdout, but there are {n} inputs. Give a directory")
        return [STDIO], False
    return _named_targets(sources, output, fmt, as_directory, what)


def _named_targets(
    sources: Sequence[Source], output: str | os.PathLike, fmt: str, as_directory: bool | None, what: str
) -> tuple[list[str], bool]:
    """The targets under an ``--output`` given by name, and whether it names a directory (see :func:`plan_outputs`)."""
    n, directory, out = len(sources), as_directory, Path(output)
    check_name_length(out)
    if directory is None:
        many = n > 1 or any(s.expanded for s in sources)
        directory = out.is_dir() or str(output).endswith(("/", os.sep)) or many
    if directory and out.exists() and not out.is_dir():
        why = f"there are {n} inputs" if n > 1 else "the input is a directory or a glob"
        raise InputError(f"{what} {str(output)!r} is a file, but {why}. Give a directory")
    if directory:
        return _targets_in(out, sources, fmt), True
    if n > 1:
        raise InputError(f"{what} {str(output)!r} is a file, but there are {n} inputs. Give a directory")
    if not out.suffix:
        raise InputError(
            f"{what} {str(output)!r} has no suffix and is not a directory. Name a file such as "
            f"'{output}.png' (.png, .tif, .npy, .jpg or .bmp), or write '{output}/' for a directory"
        )
    return [str(out)], False


def _targets_in(directory: Path, sources: Sequence[Source], fmt: str) -> list[str]:
    """Each input's name with the ``fmt`` suffix inside ``directory`` (checked, not yet created)."""
    targets = [str(directory / s.name.with_suffix(f".{fmt}")) for s in sources]
    for sub in sorted({Path(t).parent for t in targets}):  # --recursive keeps subfolders
        check_output_dir(sub)
    return targets


def check_image_suffix(path: str | os.PathLike) -> None:
    """Refuse an image output whose suffix names no format convlearn writes (``-`` is stdout: fine).

    >>> check_image_suffix("out.png")
    """
    p = Path(path)
    if str(p) == STDIO or p.suffix.lower() in OUTPUT_SUFFIXES:
        return
    raise InputError(f"Unknown output type {p.suffix or '(none)'!r} for {str(p)!r}. Use .png, .tif, .npy, .jpg or .bmp")


def make_output_dirs(targets: Sequence[str | None]) -> None:
    """Create the directories the planned outputs go in (after every output was checked)."""
    for d in sorted({Path(t).parent for t in targets if t not in (None, STDIO)}):
        if str(d) and not d.is_dir():
            make_output_dir(d)


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
