"""Kernel specs: built-in names, inline matrices, ImageMagick strings and kernel files, all read by one parser.

Every command reads its ``--kernel`` through :func:`parse_kernel`, so a spec
means the same thing everywhere.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import numpy as np

from convlearn.errors import KernelSpecError
from convlearn.kernels.kernel import MAX_KERNEL_SIDE, Kernel, check_weight, shown
from convlearn.kernels.kernel_file import KERNEL_FILE_SUFFIXES, load_kernel_file
from convlearn.kernels.table import KERNELS

__all__ = ["kernel_file_of", "parse_kernel", "parse_matrix"]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_MAGICK = re.compile(r"^\s*(\d+)(?:x(\d+))?([-+]\d+[-+]\d+)?\s*:(.*)$", re.S)
#: ImageMagick's marks for "not part of the kernel": a weight of 0 in a correlation.
_MAGICK_MISSING = {"nan", "-"}
_NAMED = re.compile(r"^([a-z][a-z0-9_-]*)(?::(.*))?$", re.I)


def _numbers(text: str, what: str) -> list[float]:
    tokens = [t for t in re.split(r"[\s,]+", text.strip()) if t]
    values = []
    for token in tokens:
        if not re.fullmatch(_NUMBER, token) and token.lower() not in {"nan", "inf", "-inf", "+inf"}:
            raise KernelSpecError(f"Invalid number {shown(token)} in {what}")
        values.append(float(token))
    return values


def _params(text: str | None, spec: str) -> list[float]:
    """A built-in's parameters; ``sSIGMA`` alone is ``0,SIGMA``: the size from sigma (``gaussian:s1.5``)."""
    if not text:
        return []
    sigma_only = re.fullmatch(rf"\s*s({_NUMBER})\s*", text, re.I)
    if sigma_only:
        return [0.0, float(sigma_only.group(1))]
    return _numbers(text, f"kernel {shown(spec)}")


def parse_matrix(text: str) -> np.ndarray:
    """Parse an inline matrix: values split by commas or spaces, rows by ``;``.

    Args:
        text: e.g. ``"1,-1"`` (1x2), ``"1;-1"`` (2x1) or ``"1,0,-1;2,0,-2;1,0,-1"``.

    Returns:
        float64 array of shape :math:`(rows, cols)`.

    Raises:
        KernelSpecError: empty values (``"1,,2"``), non-numbers, ragged rows, NaN or inf.

    >>> parse_matrix("1,0,-1;2,0,-2").tolist()
    [[1.0, 0.0, -1.0], [2.0, 0.0, -2.0]]
    """
    if not text.strip():
        raise KernelSpecError(
            "Empty kernel spec. Give a name (see `convlearn kernels`), a matrix such as '1,-1', or a file"
        )
    if re.search(r",\s*,|^\s*,|,\s*(;|$)", text):
        raise KernelSpecError(f"Empty value in kernel {shown(text)}: two separators in a row")
    rows = [_numbers(row, f"kernel {shown(text)}") for row in text.split(";")]
    if any(not row for row in rows):
        raise KernelSpecError(f"Empty row in kernel {shown(text)}")
    widths = sorted({len(row) for row in rows})
    if len(widths) > 1:
        raise KernelSpecError(
            f"Ragged kernel {shown(text)}: rows have {', '.join(map(str, widths))} values; "
            "every row needs the same count"
        )
    return check_weight(np.array(rows, dtype=np.float64), text)


def _parse_magick(match: re.Match, spec: str) -> Kernel:
    """``WxH[+X+Y]: v v v ...`` (rows in order, ``nan`` or ``-`` for "not in the kernel")."""
    # Sides and origins are bounded by MAX_KERNEL_SIDE: more digits than it has are out of range already.
    digits = len(str(MAX_KERNEL_SIDE))
    if any(len(n.lstrip("+-")) > digits for n in re.findall(r"[-+]?\d+", _text_before_colon(match))):
        raise KernelSpecError(f"Invalid ImageMagick kernel size in {shown(spec)}: sides are 1 to {MAX_KERNEL_SIDE}")
    w = int(match.group(1))
    h = int(match.group(2) or w)  # "3: ..." is 3x3, as in ImageMagick
    if not (0 < w <= MAX_KERNEL_SIDE and 0 < h <= MAX_KERNEL_SIDE):
        raise KernelSpecError(f"Invalid ImageMagick kernel size in {shown(spec)}: sides are 1 to {MAX_KERNEL_SIDE}")
    body = match.group(4)
    if ";" in body:
        raise KernelSpecError(
            f"ImageMagick kernel {shown(spec)} holds ';': convlearn takes one kernel, its rows in order after the ':'"
        )
    tokens = [t for t in re.split(r"[\s,]+", body.strip()) if t]
    # ImageMagick leaves nan/"-" cells out of the sum, which is a weight of 0 here.
    values = _numbers(
        " ".join("0" if t.lower() in _MAGICK_MISSING else t for t in tokens), f"ImageMagick kernel {shown(spec)}"
    )
    if len(values) != w * h:
        raise KernelSpecError(
            f"ImageMagick kernel {shown(spec)} declares {w}x{h} = {w * h} values but has {len(values)}"
        )
    if match.group(3):
        x, y = (int(v) for v in re.findall(r"[-+]\d+", match.group(3)))
        if not (0 <= x < w and 0 <= y < h):
            raise KernelSpecError(f"Origin +{x}+{y} lies outside the {w}x{h} kernel in {shown(spec)}")
    else:
        # ImageMagick's default origin, ((w-1)/2, (h-1)/2) rounded down: the centre
        # for odd sizes, the cell up-left of it for even ones (OpenCV picks w//2).
        x, y = (w - 1) // 2, (h - 1) // 2
    weight = check_weight(np.array(values, dtype=np.float64).reshape(h, w), spec)
    return Kernel(weight, None, spec.strip(), (y, x))


def _text_before_colon(match: re.Match) -> str:
    """The size and origin of an ImageMagick match, ``WxH+X+Y``."""
    return "".join(g for g in match.groups()[:3] if g)


def _suggest(word: str, params: str | None = None) -> str:
    """ " Did you mean 'sobel-x'?" for the built-in closest to ``word``, keeping any parameters."""
    word = word.lower()
    squashed = re.sub(r"[-_ ]", "", word)
    names = list(KERNELS)  # table order breaks ties: x before y
    # A prefix ("sobel", "rob") or a stray separator ("sobel_x") first, then spelling.
    close = [n for n in names if n.startswith(word) or n.replace("-", "") == squashed]
    if not close:
        scores = [(difflib.SequenceMatcher(None, word, n).ratio(), -i) for i, n in enumerate(names)]
        score, i = max(scores)
        close = [names[-i]] if score >= 0.5 else []
    if not close:
        return " Run `convlearn kernels` to list them."
    guess = close[0] + (f":{params}" if params and KERNELS[close[0]].usage else "")
    return f" Did you mean {guess!r}?"


def parse_kernel(spec: str) -> Kernel:
    """Turn any kernel spec into a :class:`Kernel`.

    A spec is, tried in this order:

    1. an ImageMagick kernel string, ``"WxH[+X+Y]: v v v ..."``;
    2. a built-in name, with parameters after a colon: ``sobel-x``, ``box:5``,
       ``gaussian:5,1.2`` (see :data:`KERNELS`);
    3. the path of a ``.json`` or ``.npy`` kernel file;
    4. an inline matrix, see :func:`parse_matrix`.

    Args:
        spec: the text the user gave.

    Returns:
        The kernel, with ``weight`` as float64 of shape :math:`(h, w)`.

    Raises:
        KernelSpecError: with a message that names the spec and, for an unknown
            name, the closest built-in.

    >>> parse_kernel("edge").weight.tolist()
    [[1.0, -1.0]]
    >>> parse_kernel("1;-1").shape
    (2, 1)
    """
    if not isinstance(spec, str):
        raise KernelSpecError(f"Kernel spec must be text, got {type(spec).__name__}")
    text = spec.strip()
    magick = _MAGICK.match(text)
    if magick:
        return _parse_magick(magick, spec)
    named = _NAMED.match(text)
    if named and named.group(1).lower() in KERNELS:
        info = KERNELS[named.group(1).lower()]
        params = _params(named.group(2), spec)
        try:
            weight = info.make(params)
        except ValueError as e:
            usage = f" Usage: {info.usage}" if info.usage else ""
            raise KernelSpecError(f"Invalid parameters for kernel {info.name!r}: {e}.{usage}") from None
        return Kernel(check_weight(weight, spec), None, text.lower())
    if kernel_file_of(spec) is not None:
        return load_kernel_file(text)
    if named and not re.fullmatch(r"(?i)[-+]?(nan|inf)", text):
        raise KernelSpecError(f"Unknown kernel {shown(text)}.{_suggest(named.group(1), named.group(2))}")
    return Kernel(parse_matrix(text), None, "inline")


def kernel_file_of(spec: str) -> str | None:
    """The file :func:`parse_kernel` reads for ``spec``, or None when the spec is not a file.

    A built-in name wins over a file or folder of that name; write ``./edge`` for the file.

    >>> kernel_file_of("k.json"), kernel_file_of("edge"), kernel_file_of("1,-1")
    ('k.json', None, None)
    """
    if not isinstance(spec, str):
        return None
    text = spec.strip()
    if _MAGICK.match(text):
        return None
    named = _NAMED.match(text)
    if named and named.group(1).lower() in KERNELS:
        return None
    if Path(text).suffix.lower() in KERNEL_FILE_SUFFIXES or (text and os.path.exists(text)):
        return text
    return None
