"""Will an image fit? Its decoding's memory, estimated from the header, against what the machine has free.

An image within ``--max-pixels`` (raised on purpose) may still need more memory
than the machine has; the kernel's OOM killer would then end the run without a
word (exit 137). :func:`check_memory` refuses it first, with advice, from the
header alone: nothing is decoded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convlearn.errors import OutOfMemoryError

__all__ = ["available_memory", "check_memory", "decoding_bytes"]

#: Below this many bytes, decoding is not weighed against the free memory.
_ALWAYS_FITS = 1 << 26
#: Bytes per stored sample of Pillow's modes (8-bit unless named here).
_SAMPLE_BYTES = {"I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2, "I": 4, "F": 4}
#: Where Linux tells the memory free to this process: the machine, then its cgroup (v2, v1).
_MEMINFO = Path("/proc/meminfo")
_CGROUP_LIMITS = (
    (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory.current")),
    (Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"), Path("/sys/fs/cgroup/memory/memory.usage_in_bytes")),
)


def decoding_bytes(height: int, width: int, mode: str, dtype=np.float32) -> int:
    """The most memory decoding an image of this size and Pillow ``mode`` holds at once, in bytes.

    The stored samples, the float64 plane(s) the levels are divided in, and the result.

    >>> decoding_bytes(1000, 1000, "L")  # 1 byte stored, 8 of float64, 4 of float32
    13000000
    """
    pixels = height * width
    bands = len(mode) if mode in ("RGB", "RGBA", "CMYK", "LA", "YCbCr", "LAB", "HSV") else 1
    stored = pixels * bands * _SAMPLE_BYTES.get(mode, 1)
    planes = min(bands, 3)
    return stored + pixels * planes * (8 + np.dtype(dtype).itemsize)


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max": no limit


def available_memory() -> int | None:
    """Bytes this process may still use: the machine's MemAvailable, or its cgroup's room if less; None if unknown."""
    free = None
    try:
        for line in _MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        free = None
    for limit_path, usage_path in _CGROUP_LIMITS:
        limit, usage = _read_int(limit_path), _read_int(usage_path)
        if limit is not None and usage is not None and limit < 1 << 60:
            room = max(limit - usage, 0)
            free = room if free is None else min(free, room)
            break
    return free


def check_memory(height: int, width: int, mode: str, name: str, dtype=np.float32) -> None:
    """Refuse an image whose decoding cannot fit in the memory free now (nothing is decoded).

    Raises:
        OutOfMemoryError: with the estimate, what is free, and what to do (exit 1).
    """
    need = decoding_bytes(height, width, mode, dtype)
    if need < _ALWAYS_FITS:
        return  # not worth reading /proc for each of 50,000 small images
    free = available_memory()
    if free is None or need <= free:
        return
    raise OutOfMemoryError(
        f"{name}: decoding this {height}x{width} image needs about {need / 2**30:.1f} GiB, but only "
        f"{free / 2**30:.1f} GiB of memory is free. Use a smaller image (crop or downscale it), "
        "or free memory and run again"
    )
