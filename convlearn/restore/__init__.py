"""Restore: undo a known blur, with the borders as unknowns so that they do not ring.

=================  =====================================================
module             holds
=================  =====================================================
config             the choices, noise levels and checks (no torch)
blur               the blur as an operator: forward, adjoint, Fourier symbol
strength           the regularisation chosen from the image's spectrum
wiener             the Tikhonov solve by preconditioned conjugate gradients
richardson_lucy    Richardson–Lucy with the discrepancy stop
result             the restored planes and their reports
run                restore_planes, the public call
=================  =====================================================
"""

from convlearn.restore.config import BORDERS, METHODS, MODES, NoiseLevel, RestoreConfig, jpeg_noise, rounding_noise
from convlearn.restore.result import PlaneReport, RestoreResult
from convlearn.restore.run import restore_planes

__all__ = [
    "BORDERS",
    "METHODS",
    "MODES",
    "NoiseLevel",
    "PlaneReport",
    "RestoreConfig",
    "RestoreResult",
    "jpeg_noise",
    "restore_planes",
    "rounding_noise",
]
