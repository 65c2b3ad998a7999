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

from convlearn.lazy import lazy_exports

# public name -> module of this package that defines it. Imported on first use, so that
# ``--help`` (which reads the choices in config) imports no torch.
_EXPORTS = {
    "BORDERS": "config",
    "METHODS": "config",
    "MODES": "config",
    "NoiseLevel": "config",
    "RestoreConfig": "config",
    "jpeg_noise": "config",
    "rounding_noise": "config",
    "RestoreJob": "files",
    "RestoreOutcome": "files",
    "RestoredFile": "files",
    "run_restore": "files",
    "PlaneReport": "result",
    "RestoreResult": "result",
    "restore_planes": "run",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
