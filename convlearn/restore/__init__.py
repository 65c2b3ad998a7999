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
run                restore_planes, the public call on planes
files              run_restore, the command on files (no torch until the first file)
file_solve         one file: read (with a JPEG's tables), restore, write
=================  =====================================================
"""

from convlearn.restore.config import BORDERS, METHODS, MODES, NoiseLevel, RestoreConfig, jpeg_noise, rounding_noise
from convlearn.restore.files import RestoredFile, RestoreJob, RestoreOutcome, run_restore
from convlearn.restore.result import PlaneReport, RestoreResult
from convlearn.restore.run import restore_planes

__all__ = [
    "BORDERS",
    "METHODS",
    "MODES",
    "NoiseLevel",
    "PlaneReport",
    "RestoreConfig",
    "RestoreJob",
    "RestoreOutcome",
    "RestoreResult",
    "RestoredFile",
    "jpeg_noise",
    "restore_planes",
    "rounding_noise",
    "run_restore",
]
