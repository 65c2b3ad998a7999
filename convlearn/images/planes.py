"""Arrays to float planes: which dtypes and shapes are images, and values the working dtype can hold.

Used by the decoder for ``.npy`` arrays and 32-bit float TIFFs, read exactly as stored.
"""

from __future__ import annotations

import numpy as np

from convlearn.errors import ImageReadError

__all__ = ["LUMA", "check_finite", "exact_plane", "one_plane"]

#: ITU-R BT.601 luma weights, the ones Pillow's ``convert("L")`` uses.
LUMA = (0.299, 0.587, 0.114)


#: Why an array of each non-numeric dtype kind is not an image.
_NOT_VALUES = {
    "c": "complex numbers; save their real part or magnitude (np.real(a), np.abs(a)) as float",
    "M": "dates (datetime64), not pixel values",
    "m": "durations (timedelta64), not pixel values",
    "U": "text, not pixel values",
    "S": "bytes, not pixel values",
    "V": "structured records, not pixel values; save one numeric field",
    "O": "Python objects; convlearn never unpickles objects",
}


def exact_plane(array: np.ndarray, name: str, channels: str, dtype=np.float32) -> np.ndarray:
    """An array's values as ``dtype``: luma of (H, W, 3) or its three planes, (H, W) as it is.

    Args:
        array: a numeric array, :math:`(H, W)` or :math:`(H, W, 3)`.
        name: the input, for messages.
        channels: ``luma`` or ``each``.
        dtype: the working dtype.

    Returns:
        A writable C-ordered array (the input itself when it already is one of ``dtype``).

    Raises:
        ImageReadError: a dtype that is not real numbers, another shape, NaN or inf,
            or values beyond ``dtype``'s range, each named as such.

    >>> exact_plane(np.array([[1, 2]], np.uint8), "x.npy", "luma").tolist()
    [[1.0, 2.0]]
    """
    if array.dtype.kind not in "biuf":
        why = _NOT_VALUES.get(array.dtype.kind, "not numeric")
        raise ImageReadError(f"{name}: dtype {array.dtype} holds {why}")
    if array.ndim == 3 and array.shape[-1] == 3 and channels == "luma":
        array = array.astype(np.float64) @ np.array(LUMA)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] != 3):
        alpha = " (RGBA? drop the fourth plane: a[..., :3])" if array.ndim == 3 and array.shape[-1] == 4 else ""
        raise ImageReadError(f"{name}: expected a 2-D array (H, W) or (H, W, 3), got shape {array.shape}{alpha}")
    if array.ndim == 2 and channels == "each":
        raise one_plane(name)
    check_finite(array, name, dtype)
    out = np.asarray(array, dtype=dtype, order="C")
    return out if out is not array or out.flags.writeable else out.copy()  # Pillow's arrays are read-only


def check_finite(array: np.ndarray, name: str, dtype) -> None:
    """Refuse NaN and inf, and finite values that ``dtype`` cannot hold, each by its own name.

    >>> try:
    ...     check_finite(np.array([1e300]), "x.npy", np.float32)
    ... except ImageReadError as e:
    ...     print(str(e)[:60])
    x.npy: holds values up to 1e+300 in magnitude, beyond the ra
    """
    if array.dtype.kind != "f":
        return
    if not np.isfinite(array).all():
        raise ImageReadError(f"{name}: contains NaN or inf; every value must be finite")
    top = float(np.finfo(dtype).max)
    if np.finfo(array.dtype).max > top and float(np.abs(array).max()) > top:
        raise ImageReadError(
            f"{name}: holds values up to {float(np.abs(array).max()):.3g} in magnitude, beyond the range of "
            f"{np.dtype(dtype).name} (about {top:.3g}) that convlearn computes in. Scale the array down"
        )


def one_plane(name: str) -> ImageReadError:
    """The error for a grey image where R, G and B planes were asked for."""
    return ImageReadError(
        f"{name}: a single-plane (grey) image, but R, G and B planes were asked for (--channels each or full "
        "needs colour). Use --channels luma"
    )
