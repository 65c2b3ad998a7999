"""Kernels: the built-in table, the spec parser, kernel files, and export to other tools.

Nothing here imports torch, so a bad kernel spec fails fast.
"""

from convlearn.kernels.export import (
    PILLOW_SIZES,
    TOOLS,
    export_kernel,
    imagemagick_kernel,
    pillow_kernel,
)
from convlearn.kernels.spec import (
    KERNELS,
    MAX_KERNEL_SIDE,
    Kernel,
    KernelInfo,
    gaussian_1d,
    gaussian_kernel,
    gradient_pair,
    kernel_to_json,
    load_kernel_file,
    log_kernel,
    opencv_sigma,
    parse_kernel,
    parse_matrix,
)

__all__ = [
    "KERNELS",
    "MAX_KERNEL_SIDE",
    "PILLOW_SIZES",
    "TOOLS",
    "Kernel",
    "KernelInfo",
    "export_kernel",
    "gaussian_1d",
    "gaussian_kernel",
    "gradient_pair",
    "imagemagick_kernel",
    "kernel_to_json",
    "load_kernel_file",
    "log_kernel",
    "opencv_sigma",
    "parse_kernel",
    "parse_matrix",
    "pillow_kernel",
]
