"""restore_planes: undo a known blur on (N, H, W) planes, the library call behind ``convlearn restore``."""

from __future__ import annotations

import contextlib

import torch

from convlearn.corr import as_planes
from convlearn.corr.threads import one_thread
from convlearn.errors import InputError
from convlearn.kernels import Kernel
from convlearn.restore.blur import Blur
from convlearn.restore.config import NoiseLevel, RestoreConfig, check_config, check_kernel, rounding_noise
from convlearn.restore.result import PlaneReport, RestoreResult
from convlearn.restore.richardson_lucy import richardson_lucy
from convlearn.restore.strength import choose_strength
from convlearn.restore.wiener import wiener_solve

__all__ = ["restore_planes", "rounding_of"]

_DEFAULT = RestoreConfig()
#: Values sampled to tell whether planes sit on the 8- or 16-bit grid.
_SAMPLE = 1 << 20
#: Planes up to this many pixels are solved on one thread: their FFTs are too small to
#: share (on the busy 2-core sandbox a 72x72 rfft2 took 27 ms on two threads, 23 us on one).
ONE_THREAD_PIXELS = 1 << 20
#: The least strength chosen automatically. Below it the normal equations are too ill-conditioned for
#: the conjugate gradients to converge in a few dozen steps: on a 16-bit image blurred by a 7x7 Gaussian
#: of sigma 1.5 the noise asked for 1.2e-9, which gave -10 dB; 1e-6 gave 32 dB and 1e-5 32 dB.
MIN_STRENGTH = 1e-6


def rounding_of(planes: torch.Tensor) -> NoiseLevel | None:
    """The rounding noise of planes whose values all sit on the 8-bit (or else 16-bit) grid of [0, 1], else None.

    >>> rounding_of(torch.tensor([[0.0, 1 / 255, 1.0]])).source
    '8-bit rounding'
    >>> rounding_of(torch.tensor([[0.0, 1 / 65535, 1.0]], dtype=torch.float32)).source
    '16-bit rounding'
    """
    eps = torch.finfo(planes.dtype).eps if planes.dtype.is_floating_point else 0.0
    sample = planes.flatten()[:_SAMPLE]
    if sample.numel() == 0 or sample.min() < 0 or sample.max() > 1:
        return None
    for bits in (8, 16):
        # a float32 plane holds level / 65535 to about 4e-3 of a level: allow a few of its steps
        if all(_on_grid(part, bits, max(1e-3, 4 * eps * 2**bits)) for part in sample.split(_SAMPLE // 8)):
            return rounding_noise(bits)
    return None


def _on_grid(values: torch.Tensor, bits: int, slack: float) -> bool:
    """Whether every value is within ``slack`` of a level of the ``bits`` grid, in float64 (a slice at a time:
    megabyte temporaries, which the C heap kept after a 12 MP plane's check)."""
    levels = values.to(torch.float64) * (2**bits - 1)
    return bool(torch.all((levels - levels.round()).abs() <= slack))


def _noise_floor(b: torch.Tensor, noise: NoiseLevel | float | None) -> tuple[NoiseLevel, bool]:
    """The noise to fit from, and whether it is exact (given as a number) or only a floor."""
    if isinstance(noise, NoiseLevel):
        return noise, False
    if noise is not None:
        if not float(noise) >= 0:
            raise InputError(f"Invalid noise {noise}. Expected a standard deviation of 0 or more")
        return NoiseLevel(float(noise), "given"), True
    found = rounding_of(b)
    return (found, False) if found is not None else (NoiseLevel(0.0, "none known"), False)


def _restore_plane(b: torch.Tensor, blur: Blur, config: RestoreConfig, noise: NoiseLevel | float | None):
    """Restore one plane (bias removed): the unknowns, and the report."""
    level, exact = _noise_floor(b, noise)
    if config.method == "rl":
        sigma = level.sigma
        if not exact:  # RL needs the noise itself: fit it, at or above the floor
            sigma = choose_strength(b, blur.K, level.sigma).sigma
        x, rl = richardson_lucy(b, blur, sigma, max_iterations=config.max_iterations)
        why = f"stop when the residual RMS reaches the noise, {sigma * 255:.3g}/255 ({level.source})"
        return x, PlaneReport("rl", None, why, sigma, level.source, rl.iterations, rl.reached_noise)
    if config.strength is not None:
        strength, sigma, why = config.strength, level.sigma, f"strength {config.strength:.3g}: given"
    else:
        choice = choose_strength(b, blur.K, level.sigma, exact=exact)
        strength, sigma = choice.strength, choice.sigma
        source = level.source if not choice.sigma_fitted else f"fitted, above {level.source}"
        why = (
            f"strength {strength:.3g}: the least expected error for noise {sigma * 255:.3g}/255 ({source}) "
            f"and the image's spectrum (falling as |f|^-{choice.slope:g})"
        )
        if strength < MIN_STRENGTH:  # a 16-bit image's noise asks for less than the solver can reach
            why = f"strength {MIN_STRENGTH:g}: the floor, above {why}"
            strength = MIN_STRENGTH
    x, cg = wiener_solve(b, blur, strength, max_iterations=config.max_iterations, tolerance=config.tolerance)
    return x, PlaneReport("wiener", strength, why, sigma, level.source, cg.iterations, cg.converged)


def restore_planes(
    planes: torch.Tensor,
    kernel: Kernel,
    *,
    method: str = _DEFAULT.method,
    strength: float | None = _DEFAULT.strength,
    mode: str = _DEFAULT.mode,
    border: str = _DEFAULT.border,
    noise: NoiseLevel | float | None = None,
    max_iterations: int = _DEFAULT.max_iterations,
    tolerance: float = _DEFAULT.tolerance,
) -> RestoreResult:
    """Undo a known blur: find the sharp planes whose blur by ``kernel`` gives ``planes``.

    The blurred planes are taken to be the correlation of larger sharp ones
    (``border="unknown"``), so nothing is wrapped round and the borders do not ring.

    Args:
        planes: the blurred image, values in [0, 1] for the noise rules below.
        kernel: the blur, with its anchor (``same``) and bias; a (3, h, w) kernel
            blurs each of 3 planes with its own plane.
        method: ``wiener`` (regularised least squares) or ``rl`` (Richardson–Lucy).
        strength: the Wiener regularisation; None chooses it from the noise.
        mode: ``same`` (the blurred planes have the sharp ones' size) or ``valid``.
        border: ``unknown``, or the ``detect`` border rule the blur was made with (``same`` only).
        noise: a :class:`NoiseLevel` the image has at least (from its file: bit
            depth, JPEG tables), a number (exactly that standard deviation), or
            None: 8- or 16-bit rounding when the values sit on that grid, fitted otherwise.
        max_iterations: a cap on the solver's steps.
        tolerance: the conjugate gradients' stopping residual, relative.

    Returns:
        The restored planes and one report per plane.

    Shape:
        - planes: :math:`(..., H, W)`; kernel: :math:`(h, w)` or :math:`(3, h, w)`
        - Output: ``same``: the input's shape; ``valid``: :math:`(..., H + h - 1, W + w - 1)`

    Raises:
        InputError: a bad choice, a kernel that cannot be undone or larger than the planes.

    >>> import numpy as np
    >>> from convlearn.corr import filter2d
    >>> blur = Kernel(np.array([[0.0, 0.1, 0.0], [0.1, 0.6, 0.1], [0.0, 0.1, 0.0]]))
    >>> sharp = torch.rand(40, 40, dtype=torch.float64)
    >>> blurred = filter2d(sharp, torch.as_tensor(blur.weight), mode="same", border="reflect")
    >>> out = restore_planes(blurred, blur, strength=1e-8, noise=0.0, tolerance=1e-6)
    >>> bool((out.planes - sharp)[3:-3, 3:-3].abs().max() < 0.01)
    True
    """
    config = check_config(RestoreConfig(method, strength, mode, border, max_iterations, tolerance))
    b, lead = as_planes(planes, "restore")  # (N, H, W)
    check_kernel(kernel, method, b.shape[0])
    restored, reports = _restore_each(b, kernel, _blur_weights(kernel, b), config, noise)
    out = torch.stack(restored)  # (N, H', W')
    return RestoreResult(out.reshape(*lead, *out.shape[-2:]), tuple(reports))


def _blur_weights(kernel: Kernel, b: torch.Tensor) -> torch.Tensor:
    """The kernel's weights as (1 or 3, h, w) planes of ``b``'s dtype and device, once the kernel fits in ``b``."""
    (H, W), (h, w) = b.shape[-2:], kernel.shape
    if h > H or w > W:
        raise InputError(f"Kernel {h}x{w} is larger than the image {H}x{W}. Use a smaller kernel or a larger image")
    weights = torch.as_tensor(kernel.weight, dtype=b.dtype, device=b.device)
    return weights.reshape(-1, h, w) if kernel.channels else weights[None]  # (1 or 3, h, w)


def _restore_each(
    b: torch.Tensor, kernel: Kernel, weights: torch.Tensor, config: RestoreConfig, noise: NoiseLevel | float | None
) -> tuple[list[torch.Tensor], list[PlaneReport]]:
    """Each of the planes ``b`` (N, H, W) restored on its own, framed, with its report."""
    H, W = b.shape[-2:]
    biases = kernel.biases()
    restored, reports = [], []
    for n in range(b.shape[0]):
        k = n if kernel.channels else 0
        blur = Blur(weights[k], (H, W), config.mode, config.border, kernel.origin)
        with one_thread() if H * W <= ONE_THREAD_PIXELS else contextlib.nullcontext():
            plane = b[n] - biases[k] if biases[k] else b[n]  # no copy of the plane without a bias
            x, report = _restore_plane(plane, blur, config, noise)
        restored.append(blur.frame(x))
        reports.append(report)
    return restored, reports
