"""Kernels: the built-in table, the spec parser, kernel files, and export to other tools.

- :mod:`~convlearn.kernels.kernel`: the :class:`Kernel` and the checks every weight passes;
- :mod:`~convlearn.kernels.table`: the built-in kernels and their families (Gaussian, LoG, box);
- :mod:`~convlearn.kernels.spec`: the one parser of ``--kernel`` specs;
- :mod:`~convlearn.kernels.kernel_file`: the one reader and writer of kernel files;
- :mod:`~convlearn.kernels.export`: a kernel in OpenCV's, SciPy's, ImageMagick's or Pillow's terms;
- :mod:`~convlearn.kernels.catalog`: what ``convlearn kernels`` shows.

Nothing here imports torch, so a bad kernel spec fails fast.
"""

from convlearn.kernels.catalog import BuiltinEntry, KernelDetails, describe_kernel, list_builtins, run_kernels
from convlearn.kernels.export import (
    PILLOW_SIZES,
    TOOLS,
    convolution_kernel,
    export_kernel,
    imagemagick_kernel,
    pillow_kernel,
    run_export,
)
from convlearn.kernels.kernel import MAX_KERNEL_SIDE, Kernel
from convlearn.kernels.kernel_file import format_kernel_file, kernel_to_json, load_kernel_file
from convlearn.kernels.spec import kernel_file_of, parse_kernel, parse_matrix
from convlearn.kernels.table import (
    KERNELS,
    KernelInfo,
    gaussian_1d,
    gaussian_kernel,
    gradient_pair,
    log_kernel,
    opencv_sigma,
)

__all__ = [
    "KERNELS",
    "MAX_KERNEL_SIDE",
    "PILLOW_SIZES",
    "TOOLS",
    "BuiltinEntry",
    "Kernel",
    "KernelDetails",
    "KernelInfo",
    "convolution_kernel",
    "describe_kernel",
    "export_kernel",
    "format_kernel_file",
    "gaussian_1d",
    "gaussian_kernel",
    "gradient_pair",
    "imagemagick_kernel",
    "kernel_file_of",
    "kernel_to_json",
    "list_builtins",
    "load_kernel_file",
    "log_kernel",
    "opencv_sigma",
    "parse_kernel",
    "parse_matrix",
    "pillow_kernel",
    "run_export",
    "run_kernels",
]
