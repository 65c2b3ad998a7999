"""The header of a ``.npy`` file, read without loading its array.

Images and kernel files are both read from ``.npy``; each refuses a file whose
header claims more than its limits allow, or more data than the file holds,
before NumPy allocates the array (a 100-byte file may claim terabytes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

__all__ = ["NpyHeader", "read_npy_header"]


@dataclass(frozen=True)
class NpyHeader:
    """What a ``.npy`` header says: the array's shape and dtype, and where its data starts."""

    shape: tuple[int, ...]
    dtype: np.dtype
    offset: int  # bytes before the data

    def claims_more_than(self, held: int) -> bool:
        """Whether a numeric array of this shape needs more than ``held`` bytes of data (a damaged file).

        >>> NpyHeader((2, 3), np.dtype("<f4"), 128).claims_more_than(20)
        True
        """
        return self.dtype.kind in "biuf" and math.prod(self.shape) * self.dtype.itemsize > held


def read_npy_header(stream: BinaryIO) -> NpyHeader:
    """The header at the start of ``stream``, which is left just after it.

    Raises:
        ValueError, EOFError, SyntaxError, tokenize.TokenError: a damaged header (as NumPy raises them).

    >>> import io
    >>> data = io.BytesIO(); np.save(data, np.zeros((2, 3), np.float32)); _ = data.seek(0)
    >>> read_npy_header(data).shape
    (2, 3)
    """
    fmt = np.lib.format
    major, _ = fmt.read_magic(stream)
    shape, _, dtype = (fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0)(stream)
    return NpyHeader(tuple(shape), dtype, stream.tell())
