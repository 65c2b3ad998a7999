"""convlearn: edge detection and kernel learning on images by 2-D cross-correlation.

The public API is imported lazily (PEP 562), so ``import convlearn`` and the
CLI's ``--help`` do not pay for importing torch.

>>> import convlearn, torch
>>> convlearn.corr2d(torch.arange(9.0).reshape(3, 3), torch.arange(4.0).reshape(2, 2))
tensor([[19., 25.],
        [37., 43.]])
"""

from __future__ import annotations

from convlearn.lazy import lazy_exports

__version__ = "0.1.0"

# public name -> the package (or module) that exports it
_EXPORTS = {
    "corr2d": "convlearn.arrays",
    "filter2d": "convlearn.arrays",
    "Conv2D": "convlearn.learn",
    "Pair": "convlearn.learn",
    "LearnConfig": "convlearn.learn",
    "train_sgd": "convlearn.arrays",
    "learn_kernel": "convlearn.arrays",
    "LearnResult": "convlearn.learn",
    "FitReport": "convlearn.learn",
    "normal_equations": "convlearn.learn",
    "read_pair": "convlearn.learn",
    "find_pairs": "convlearn.learn",
    "PairFiles": "convlearn.learn",
    "export_kernel": "convlearn.arrays",
    "Kernel": "convlearn.kernels",
    "KERNELS": "convlearn.kernels",
    "parse_kernel": "convlearn.kernels",
    "read_image": "convlearn.images",
    "write_image": "convlearn.arrays",
    "make_image": "convlearn.synth",
    "SynthConfig": "convlearn.synth",
    "run_synth": "convlearn.synth",
    "apply_kernel": "convlearn.arrays",
    "detect_image": "convlearn.arrays",
    "run_detect": "convlearn.detect",
    "restore_planes": "convlearn.arrays",
    "run_restore": "convlearn.restore",
    "canny": "convlearn.arrays",
    "gradient_magnitude": "convlearn.arrays",
    "otsu_threshold": "convlearn.edges",
    "DetectConfig": "convlearn.detect",
    "resolve_device": "convlearn.runtime",
    "ConvlearnError": "convlearn.errors",
    "InputError": "convlearn.errors",
    "KernelSpecError": "convlearn.errors",
    "ImageReadError": "convlearn.errors",
    "DeviceError": "convlearn.errors",
    "OutputError": "convlearn.errors",
    "TrainingError": "convlearn.errors",
    "OutOfMemoryError": "convlearn.errors",
    "Interrupted": "convlearn.errors",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
