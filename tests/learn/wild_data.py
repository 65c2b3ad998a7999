"""A synthetic photo-like image for the noise-model and verdict tests: 1/f texture over soft shapes."""

from __future__ import annotations

import numpy as np


def photo(size: int = 256, seed: int = 0) -> np.ndarray:
    """8-bit levels, a 1/f^1.2 spectrum (as natural images have) plus soft-edged discs, well inside 0..255."""
    rng = np.random.default_rng(seed)
    f = np.fft.fftfreq(size)
    r = np.hypot(f[:, None], f[None, :])
    r[0, 0] = 1.0
    spectrum = (rng.standard_normal((size, size)) + 1j * rng.standard_normal((size, size))) / r**1.2
    texture = np.fft.ifft2(spectrum).real
    texture = (texture - texture.mean()) / texture.std()
    yy, xx = np.mgrid[:size, :size]
    shapes = np.zeros((size, size))
    for _ in range(6):
        cy, cx, rad = [*rng.uniform(0, size, 2).tolist(), rng.uniform(size / 12, size / 4)]
        shapes += rng.uniform(-60, 60) / (1 + np.exp(np.hypot(yy - cy, xx - cx) - rad))
    return np.clip(128 + 30 * texture + shapes, 5, 250).round().astype(np.uint8)
