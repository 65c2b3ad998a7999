"""Kernel files: the one reader and the one writer of convlearn's ``.json`` kernels, and ``.npy`` arrays.

A JSON kernel file holds an object::

    {"kernel": [[...], ...], "bias": 0.1 or null, "anchor": [row, col], ...}

A colour kernel nests its planes: ``"kernel"`` is (3, h, w) (one plane per
channel) or (3, 3, h, w) (output, input channel), and ``"bias"`` may be a list
with one value per output channel.

``"anchor"`` is there only when the kernel has one (an ImageMagick ``+X+Y``
origin, or a file that had one); any further keys (``learn``'s fit report) are
kept in :attr:`Kernel.meta`. A bare list of rows is read too. ``learn --output``,
``kernels NAME --json`` and ``export --to json`` all write through
:func:`format_kernel_file`, so each reads back the same kernel, anchor included.
"""

from __future__ import annotations

import json
import math
import os
import tokenize
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from convlearn.errors import KernelSpecError, invalid_choice
from convlearn.files.npy import read_npy_header
from convlearn.kernels.kernel import MAX_KERNEL_SIDE, Kernel, check_weight
from convlearn.kernels.numbers import py_literal, round_value

__all__ = ["KERNEL_FILE_SUFFIXES", "LAYOUTS", "format_kernel_file", "kernel_to_json", "load_kernel_file"]

#: The kernel files convlearn reads; it never loads pickles.
KERNEL_FILE_SUFFIXES = (".json", ".npy")
#: How :func:`format_kernel_file` lays the JSON out; both read back the same.
LAYOUTS = ("indented", "rows")
#: The keys a kernel file gives a meaning to; any others are kept as metadata.
_KERNEL_KEYS = {"kernel", "bias", "anchor"}
#: Largest kernel file read: the largest kernel, MAX_KERNEL_SIDE squared values, at 32 characters each.
MAX_KERNEL_FILE_BYTES = 32 * MAX_KERNEL_SIDE**2 + 65536
#: Largest bias: float32's, the type the filters compute in.
_MAX_BIAS = float(np.finfo(np.float32).max)


def _check_npy_header(p: Path) -> None:
    """Refuse a .npy whose header claims more values than a kernel has, or than the file holds (before loading)."""
    with p.open("rb") as f:
        header = read_npy_header(f)
    shape, data_bytes = header.shape, p.stat().st_size - header.offset
    if any(side > MAX_KERNEL_SIDE for side in shape):
        raise KernelSpecError(
            f"Kernel file {str(p)!r} holds an array of shape {shape}; the largest side allowed is {MAX_KERNEL_SIDE}"
        )
    if header.claims_more_than(data_bytes):
        raise KernelSpecError(
            f"Kernel file {str(p)!r} is damaged or truncated: its header claims shape {shape}, "
            f"but the file holds {data_bytes} bytes of data"
        )


def _read_npy(p: Path) -> np.ndarray:
    try:
        _check_npy_header(p)
        weight = np.load(p, allow_pickle=False)
    except (ValueError, EOFError, SyntaxError, tokenize.TokenError) as e:  # a damaged header
        raise KernelSpecError(f"Kernel file {str(p)!r} is not a plain numeric .npy array ({e})") from None
    if weight.dtype.kind not in "biuf":
        raise KernelSpecError(f"Kernel file {str(p)!r} has dtype {weight.dtype}; a numeric array is needed")
    weight = np.asarray(weight, dtype=np.float64)
    return weight[None, :] if weight.ndim == 1 else weight


def _is_rows(rows: object) -> bool:
    """A non-empty list of lists of numbers (booleans are not numbers here), or three of such (colour planes)."""
    if (
        isinstance(rows, list)
        and len(rows) == 3
        and all(isinstance(r, list) and r and isinstance(r[0], list) for r in rows)
    ):
        return all(_is_rows(r) for r in rows)
    return (
        isinstance(rows, list)
        and bool(rows)
        and all(
            isinstance(r, list) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in r) for r in rows
        )
    )


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _check_bias(bias: object, weight: np.ndarray, p: Path) -> float | tuple[float, ...] | None:
    """A number or null; for a colour kernel also a list of one number per output channel."""
    if isinstance(bias, list) and weight.ndim > 2:
        if len(bias) != weight.shape[0] or not all(_is_number(v) for v in bias):
            raise KernelSpecError(
                f'Kernel file {str(p)!r}: "bias" must be a number, null or a list of {weight.shape[0]} numbers '
                "(one per output channel)"
            )
        values = tuple(bias)
    elif bias is None or _is_number(bias):
        values = bias
    else:
        raise KernelSpecError(f'Kernel file {str(p)!r}: "bias" must be a number or null')
    try:
        numbers = () if values is None else [float(v) for v in (values if isinstance(values, tuple) else (values,))]
    except OverflowError:  # an integer too large for a float
        numbers = [math.inf]
    if not all(math.isfinite(v) and abs(v) <= _MAX_BIAS for v in numbers):
        raise KernelSpecError(f"Kernel file {str(p)!r}: bias must be finite, of magnitude at most {_MAX_BIAS:.3g}")
    return values


class _DuplicateKey(Exception):
    """A JSON object that gives one key twice (json keeps the last without a word)."""


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def _read_json(p: Path) -> tuple[np.ndarray, float | None, object, dict]:
    """``(weight, bias, anchor as written, meta)`` of a JSON kernel file; the anchor is checked later."""
    if p.stat().st_size > MAX_KERNEL_FILE_BYTES:
        raise KernelSpecError(
            f"Kernel file {str(p)!r} is {p.stat().st_size} bytes, more than a {MAX_KERNEL_SIDE}x{MAX_KERNEL_SIDE} "
            "kernel needs; it is not a kernel file"
        )
    try:
        data = json.loads(p.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as e:
        raise KernelSpecError(f"Kernel file {str(p)!r} gives the key {str(e)!r} twice; keep one") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise KernelSpecError(f"Kernel file {str(p)!r} is not valid JSON ({e})") from None
    except RecursionError:
        raise KernelSpecError(f"Kernel file {str(p)!r} nests its JSON too deeply; a kernel is a list of rows") from None
    except ValueError as e:  # an integer literal longer than Python converts
        raise KernelSpecError(f"Kernel file {str(p)!r} holds a number out of range ({e})") from None
    rows, bias, anchor, meta = data, None, None, {}
    if isinstance(data, dict):
        if "kernel" not in data:
            raise KernelSpecError(f'Kernel file {str(p)!r} has no "kernel" key (a list of rows)')
        rows, bias, anchor = data["kernel"], data.get("bias"), data.get("anchor")
        meta = {k: v for k, v in data.items() if k not in _KERNEL_KEYS}
    if not _is_rows(rows):
        raise KernelSpecError(f'Kernel file {str(p)!r}: "kernel" must be a non-empty list of rows of numbers')
    try:
        weight = np.array(rows, dtype=np.float64)
    except ValueError:  # planes of different shapes
        weight = np.empty(0)
    except OverflowError:  # an integer too large for a float
        raise KernelSpecError(f"Kernel file {str(p)!r} holds a number too large for a float") from None
    if weight.dtype == object or weight.ndim < 2 or (weight.ndim == 2 and len({len(r) for r in rows}) != 1):
        raise KernelSpecError(f"Kernel file {str(p)!r}: ragged rows; every row needs the same count")
    return weight, _check_bias(bias, weight, p), anchor, meta


def _check_anchor(anchor: object, shape: tuple[int, int], p: Path) -> tuple[int, int] | None:
    if anchor is None:
        return None
    h, w = shape
    ok = isinstance(anchor, list) and len(anchor) == 2 and all(type(v) is int for v in anchor)
    if not ok or not (0 <= anchor[0] < h and 0 <= anchor[1] < w):
        raise KernelSpecError(f'Kernel file {str(p)!r}: "anchor" must be [row, col] inside the {h}x{w} kernel')
    return anchor[0], anchor[1]


def _not_a_file(p: Path) -> str:
    """What is at ``p`` instead of a regular file, in words."""
    if p.is_dir():
        return "is a directory"
    if not p.exists():
        return "is a broken symlink" if p.is_symlink() else "does not exist"
    return "is not a regular file (a FIFO, a device or a socket); give a .json or .npy file"


def load_kernel_file(path: str | os.PathLike) -> Kernel:
    """Load a kernel from ``.json`` (as :func:`format_kernel_file` writes it) or ``.npy``.

    JSON holds an object with ``"kernel"`` (a list of rows) and optionally
    ``"bias"`` (a number or null) and ``"anchor"`` (``[row, col]``), or a bare
    list of rows. ``.npy`` files are loaded with ``allow_pickle=False``;
    convlearn never unpickles.

    Args:
        path: the file.

    Returns:
        The kernel, named by the path, its other JSON keys in ``meta``.

    Raises:
        KernelSpecError: a missing or unreadable file, a wrong shape or type.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if p.exists() and not p.is_file():  # a folder, a FIFO, a device: say so whatever its name
        raise KernelSpecError(f"Kernel file {str(p)!r} {_not_a_file(p)}")
    if suffix not in KERNEL_FILE_SUFFIXES:
        raise KernelSpecError(
            f"Kernel file {str(p)!r} has an unsupported type {suffix or '(none)'!r}. "
            "Use .json or .npy; convlearn never loads pickles"
        )
    if not p.is_file():
        raise KernelSpecError(f"Kernel file {str(p)!r} {_not_a_file(p)}")
    try:
        if suffix == ".npy":
            weight, bias, anchor, meta = _read_npy(p), None, None, {}
        else:
            weight, bias, anchor, meta = _read_json(p)
    except OSError as e:
        raise KernelSpecError(f"Kernel file {str(p)!r} cannot be read: {e.strerror or e}") from None
    weight = check_weight(weight, str(p), colour=True)
    anchor = _check_anchor(anchor, weight.shape[-2:], p)
    return Kernel(weight, bias if bias is None or isinstance(bias, tuple) else float(bias), str(p), anchor, meta)


def _record(kernel: Kernel, decimals: int | None) -> dict:
    """The kernel file's object: weight, bias, and the anchor when the kernel has one."""
    weight = kernel.weight
    bias = list(kernel.bias) if isinstance(kernel.bias, tuple) else kernel.bias
    if decimals is not None:
        weight = np.vectorize(lambda v: round_value(v, decimals), otypes=[float])(weight)
        bias = None if bias is None else np.vectorize(lambda v: round_value(v, decimals), otypes=[float])(bias).tolist()
    data = {"kernel": weight.tolist(), "bias": bias}
    if kernel.anchor is not None:
        data["anchor"] = list(kernel.anchor)
    return data


def _nested_rows(values: list, indent: int) -> str:
    """A (h, w) list one row per line; colour planes nested in brackets around them."""
    pad = " " * indent
    if not isinstance(values[0][0], list):
        return ",\n".join(f"{pad}[{', '.join(py_literal(v, None) for v in row)}]" for row in values)
    return ",\n".join(f"{pad}[\n{_nested_rows(plane, indent + 2)}\n{pad}]" for plane in values)


def _rows_layout(data: dict) -> str:
    """One row per line, each value its shortest exact literal with ``-0.0`` written ``0.0``."""
    entries = [f'  "kernel": [\n{_nested_rows(data["kernel"], 4)}\n  ]']
    for key, value in data.items():
        if key == "bias" and isinstance(value, list):
            entries.append(f'  "bias": [{", ".join(py_literal(v, None) for v in value)}]')
        elif key == "bias" and value is not None:
            entries.append(f'  "bias": {py_literal(value, None)}')
        elif key != "kernel":
            entries.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(entries) + "\n}\n"


def format_kernel_file(
    kernel: Kernel, *, layout: str = "indented", decimals: int | None = None, meta: Mapping | None = None
) -> str:
    """The text of a JSON kernel file, which :func:`load_kernel_file` reads back as ``kernel``.

    Args:
        kernel: the kernel; its weight, bias and anchor (when it has one) are written.
        layout: ``"indented"``, ``json.dumps(indent=2)``'s one value per line,
            as ``learn --output`` writes; or ``"rows"``, one kernel row per line,
            as ``export --to json`` prints.
        decimals: round the values to this many places (``-0.0`` becomes ``0.0``);
            None writes them exactly.
        meta: further keys, written after the kernel's own.

    Returns:
        JSON text ending in a newline.

    Raises:
        InputError: an unknown layout.

    >>> print(format_kernel_file(Kernel(np.array([[1.0, -1.0]]), anchor=(0, 0)), layout="rows"), end="")
    {
      "kernel": [
        [1.0, -1.0]
      ],
      "bias": null,
      "anchor": [0, 0]
    }
    """
    if layout not in LAYOUTS:
        raise invalid_choice("layout", layout, LAYOUTS)
    data = {**_record(kernel, decimals), **(meta or {})}
    if layout == "rows":
        return _rows_layout(data)
    return json.dumps(data, indent=2) + "\n"


def kernel_to_json(kernel: Kernel, **meta: object) -> str:
    """Serialise a kernel, and ``meta`` after it, as the JSON that :func:`load_kernel_file` reads back.

    The indented layout of :func:`format_kernel_file`; an anchor (from an
    ImageMagick ``+X+Y`` origin) is kept as ``"anchor": [row, col]``.

    >>> print(kernel_to_json(Kernel(np.array([[1.0]]))), end="")
    {
      "kernel": [
        [
          1.0
        ]
      ],
      "bias": null
    }
    """
    return format_kernel_file(kernel, meta=meta)
