"""The blur as a linear operator on one plane: the forward model, its adjoint, and its Fourier symbol.

The blurred plane ``b`` (H, W) is the valid correlation of a sharp plane ``x``:
with border ``unknown`` ``x`` is larger, ``(H + h - 1, W + w - 1)``, and the
pixels beyond the blurred frame are unknowns like any other; with one of
``detect``'s borders (``mode="same"`` only) ``x`` is (H, W) and is padded by
that rule first. The adjoint of a valid correlation is the full convolution:
the correlation of the zero-padded residual with the flipped kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from convlearn.corr import corr2d, pad_same
from convlearn.corr.fft import fast_size

__all__ = ["Blur", "gradient_axes", "gradient_symbol", "laplacian"]


@dataclass(frozen=True)
class Blur:
    """One (h, w) kernel applied to one plane, and where the restored frame lies in the unknowns.

    Attributes:
        K: the kernel (h, w), in the plane's dtype and device.
        shape: the blurred plane's ``(H, W)``.
        mode: ``same`` or ``valid``; border: ``unknown`` or a ``detect`` border.
        anchor: the kernel's ``(row, col)`` origin for ``same``.
    """

    K: torch.Tensor
    shape: tuple[int, int]
    mode: str
    border: str
    anchor: tuple[int, int]

    @property
    def unknowns(self) -> tuple[int, int]:
        """The sharp plane's shape: larger than the blurred one by the kernel, unless a border rule fills it."""
        (H, W), (h, w) = self.shape, self.K.shape
        return (H, W) if self.border != "unknown" else (H + h - 1, W + w - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``A x``: the sharp plane (Hx, Wx) blurred to (H, W)."""
        if self.border != "unknown":
            x = pad_same(x, tuple(self.K.shape), self.border, self.anchor)  # (H + h - 1, W + w - 1)
        return corr2d(x, self.K)  # (H, W)

    def adjoint(self, r: torch.Tensor) -> torch.Tensor:
        """``A^T r``: a blurred-size plane (H, W) spread back over the unknowns (Hx, Wx)."""
        return self._spread(self._pad(r))

    def gram(self, x: torch.Tensor) -> torch.Tensor:
        """``A^T A x``: ``adjoint(forward(x))``, the blurred plane freed once padded (a plane less at the peak)."""
        return self._spread(self._pad(self.forward(x)))

    def _pad(self, r: torch.Tensor) -> torch.Tensor:
        """A blurred-size plane (H, W) zero-padded by the kernel less one on every side, for the full convolution."""
        h, w = self.K.shape
        return F.pad(r, (w - 1, w - 1, h - 1, h - 1))  # (H + 2h - 2, W + 2w - 2)

    def _spread(self, padded: torch.Tensor) -> torch.Tensor:
        """The adjoint's second half: the full convolution of a padded plane, folded back by a border rule."""
        h, w = self.K.shape
        full = corr2d(padded, self.K.flip(-1, -2))  # (H + h - 1, W + w - 1)
        del padded  # the last reference when called by gram: freed before the fold
        if self.border == "unknown":
            return full
        # The padding is linear; its adjoint folds the border back onto the pixels it copied.
        x = torch.zeros(self.shape, dtype=full.dtype, device=full.device, requires_grad=True)
        with torch.enable_grad():
            same = pad_same(x, (h, w), self.border, self.anchor)
            (folded,) = torch.autograd.grad(same, x, grad_outputs=full)
        return folded

    def frame(self, x: torch.Tensor) -> torch.Tensor:
        """The restored image: for ``same`` the unknowns cut to the blurred frame at the anchor, else all of them."""
        if self.mode == "valid" or self.border != "unknown":
            return x
        (H, W), (ay, ax) = self.shape, self.anchor
        return x[..., ay : ay + H, ax : ax + W]

    def grid(self) -> tuple[int, int]:
        """The FFT grid of the preconditioner: the unknowns' shape rounded up to fast sizes."""
        Hx, Wx = self.unknowns
        return fast_size(Hx), fast_size(Wx)

    def symbol(self, grid: tuple[int, int]) -> torch.Tensor:
        """``|K^|^2`` on an rfft2 grid: the blur's power transfer, where the image is periodic."""
        spectrum = torch.fft.rfft2(self.K.to(torch.float64), s=grid)  # (Hg, Wg // 2 + 1)
        return spectrum.abs().square()


def gradient_axes(grid: tuple[int, int], device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """The periodic Laplacian's symbol along rows (Hg, 1) and columns (1, Wg // 2 + 1): their sum is ``|D^|^2``."""
    Hg, Wg = grid
    fy = torch.fft.fftfreq(Hg, dtype=torch.float64, device=device)  # (Hg,)
    fx = torch.fft.rfftfreq(Wg, dtype=torch.float64, device=device)  # (Wg // 2 + 1,)
    wy = 2.0 - 2.0 * torch.cos(2 * torch.pi * fy)
    wx = 2.0 - 2.0 * torch.cos(2 * torch.pi * fx)
    return wy[:, None], wx[None, :]


def gradient_symbol(grid: tuple[int, int], device: torch.device | str = "cpu") -> torch.Tensor:
    """``|D^|^2``: the Fourier symbol of the periodic Laplacian ``D^T D`` on an rfft2 grid, 0 at DC."""
    wy, wx = gradient_axes(grid, device)
    return wy + wx  # (Hg, Wg // 2 + 1)


def laplacian(q: torch.Tensor, p: torch.Tensor, weight: float) -> torch.Tensor:
    """``q += weight * D^T D p`` in place, D the forward differences inside the frame (none across its edge)."""
    for dim in (-1, -2):
        n = p.shape[dim]
        d = p.narrow(dim, 1, n - 1) - p.narrow(dim, 0, n - 1)  # one difference per neighbouring pair
        d.mul_(weight)
        q.narrow(dim, 0, n - 1).sub_(d)
        q.narrow(dim, 1, n - 1).add_(d)
        del d  # freed before the next axis's differences: two at once were a plane more at the solve's peak
    return q
