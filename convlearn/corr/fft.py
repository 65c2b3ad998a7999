"""The FFT engine: corr2d in overlap-save row strips, the path for large kernels.

A valid correlation equals a circular one as long as the FFT is at least as
long as the image, so no padding for the kernel is needed: a strip of ``T``
input rows gives ``T - h + 1`` valid output rows. The strips overlap by
``h - 1`` rows; their FFT length along rows is a fast size (only factors 2, 3,
5), along columns the image width rounded up to one (a very wide image is cut
into blocks of columns too, overlapping by ``w - 1``). Working strip by strip
keeps the spectra small (a few MB on the CPU), so memory does not grow with the
image beyond its output.

Error bound. Each output differs from the exact correlation by at most about::

    |Y_fft - Y| <= u * log2(n) * sum(|K|) * max(|X|)

with ``u`` the unit roundoff of the dtype (``2**-24`` for float32), ``n`` the
number of points in one strip's FFT (``T * Wf``). The direct sum's worst case
is ``h * w * u * sum(|K|) * max(|X|)``, so for a 31x31 kernel (961 taps against
``log2(n)`` of about 20) the FFT's bound is the smaller one. Unlike the direct
sum, the FFT's error does not shrink where the output is small: it is an
absolute error on the scale of the whole strip. :func:`fft_error_bound` returns
the bound; ``tests/corr/test_fft.py`` checks it against a float64 reference
(on the 2-core CPU sandbox the error reached at most 0.12 of the bound there,
0.32 over 60 random shapes and tile sizes).
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache

import torch

__all__ = ["FftPlan", "fast_size", "fft_corr2d_differentiable", "fft_error_bound", "fft_rows"]

#: Prime factors that pocketfft, MKL and cuFFT all handle at full speed.
FAST_FACTORS = (2, 3, 5)
#: Strips are at least this many rows tall, and about ``STRIP_PER_TAP * (h - 1)``:
#: the overlap then wastes at most 1/8 of each FFT. 8 and 64 were the fastest on
#: the 2-core CPU sandbox at 2048² and 4096², kernels 7x7 to 31x31.
STRIP_PER_TAP = 8
MIN_STRIP = 64


@lru_cache(maxsize=512)
def fast_size(n: int) -> int:
    """The smallest ``m >= n`` whose only prime factors are 2, 3 and 5.

    >>> fast_size(4096), fast_size(4097), fast_size(97)
    (4096, 4320, 100)
    """
    if n < 1:
        raise ValueError(f"fast_size needs n >= 1, got {n}")
    best = 1 << max(0, (n - 1).bit_length())  # a power of two always qualifies
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:  # the smallest power-of-two multiple that reaches n
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def fft_rows(h: int, H: int) -> int:
    """Output rows per strip for a kernel ``h`` rows tall on an image ``H`` rows tall.

    The strip's FFT length ``rows + h - 1`` is a fast size near ``8 (h - 1)``
    (at least 64), or the whole image when that is shorter.
    """
    T = fast_size(max(MIN_STRIP, STRIP_PER_TAP * (h - 1)))
    T = min(T, fast_size(H))
    return T - h + 1


def fft_error_bound(X: torch.Tensor, K: torch.Tensor, n: int) -> float:
    """The documented bound on ``|Y_fft - Y|`` for one output (see the module docstring).

    Args:
        X: the image(s).
        K: the kernel.
        n: the number of points in one strip's 2-D FFT.

    Returns:
        ``u * log2(n) * sum(|K|) * max(|X|)``, with ``u`` the unit roundoff of X's dtype.

    >>> fft_error_bound(torch.ones(4, 4), torch.ones(2, 2), 16)
    9.5367431640625e-07
    """
    u = torch.finfo(X.dtype).eps / 2
    scale = float(K.abs().sum()) * float(X.abs().max())
    return u * math.log2(max(n, 2)) * scale


class FftPlan:
    """Correlates row strips with one kernel; the kernel's spectrum is computed once.

    Args:
        K: kernel :math:`(h, w)`, already in the image's dtype and device.
        rows: output rows per strip; the FFT length along rows is
            ``fast_size(rows + h - 1)``.
        W: the image width; the FFT length along columns is ``fast_size(W)``.

    Shape:
        - strip: :math:`(N, r + h - 1, W)` with ``r <= rows``
        - out: :math:`(N, r, W - w + 1)`
    """

    def __init__(self, K: torch.Tensor, rows: int, W: int) -> None:
        h, w = K.shape
        self.h, self.w = h, w
        self.K = K
        self.T = fast_size(rows + h - 1)  # FFT length along rows
        self.Wf = fast_size(W)  # FFT length along columns
        self._spectrum: torch.Tensor | None = None
        self._lock = threading.Lock()

    @property
    def spectrum(self) -> torch.Tensor:
        """The kernel's conjugate spectrum :math:`(T, Wf // 2 + 1)`, made by the first strip that needs it."""
        with self._lock:
            if self._spectrum is None:
                # Correlation is convolution with the conjugate spectrum.
                self._spectrum = torch.fft.rfft2(self.K, s=(self.T, self.Wf)).conj()
            return self._spectrum

    def whole(self, x: torch.Tensor) -> torch.Tensor:
        """The valid correlation of planes :math:`(N, H, W)` in one strip, as a view of the inverse transform."""
        r, Wo = x.shape[-2] - self.h + 1, x.shape[-1] - self.w + 1
        spec = torch.fft.rfft2(x, s=(self.T, self.Wf))  # (N, T, Wf // 2 + 1)
        spec.mul_(self.spectrum)
        return torch.fft.irfft2(spec, s=(self.T, self.Wf))[..., :r, :Wo]  # (N, r, Wo)

    def __call__(self, strip: torch.Tensor, out: torch.Tensor) -> None:
        r, Wo = out.shape[-2:]
        s = (self.T, self.Wf)
        spec = torch.fft.rfft2(strip, s=s)  # (N, T, Wf // 2 + 1), the strip zero-padded to s
        spec.mul_(self.spectrum)
        # rfft2/irfft2 measured as fast as, or faster than, 1-D passes that skip the h - 1 overlap rows.
        out.copy_(torch.fft.irfft2(spec, s=s)[..., :r, :Wo])  # (N, r, Wo)


def fft_corr2d_differentiable(Xb: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The whole-image FFT correlation, with autograd (no strips, no in-place writes).

    Shape:
        - Xb: :math:`(N, H, W)`
        - Output: :math:`(N, H - h + 1, W - w + 1)`
    """
    h, w = K.shape
    H, W = Xb.shape[-2:]
    s = (fast_size(H), fast_size(W))
    spec = torch.fft.rfft2(Xb, s=s) * torch.fft.rfft2(K, s=s).conj()  # (N, Hf, Wf // 2 + 1)
    return torch.fft.irfft2(spec, s=s)[..., : H - h + 1, : W - w + 1]
