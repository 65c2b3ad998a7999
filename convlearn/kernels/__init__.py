"""Kernels: the built-in table, the spec parser, kernel files, and export to other tools.

- :mod:`~convlearn.kernels.config`: the export tools' names (torch- and NumPy-free);
- :mod:`~convlearn.kernels.kernel`: the :class:`Kernel` and the checks every weight passes;
- :mod:`~convlearn.kernels.table`: the built-in kernels and their families (Gaussian, LoG, box);
- :mod:`~convlearn.kernels.spec`: the one parser of ``--kernel`` specs;
- :mod:`~convlearn.kernels.kernel_file`: the one reader and writer of kernel files;
- :mod:`~convlearn.kernels.export`: a kernel in OpenCV's, SciPy's, ImageMagick's or Pillow's terms;
- :mod:`~convlearn.kernels.catalog`: what ``convlearn kernels`` shows.

Nothing here imports torch, so a bad kernel spec fails fast, and names are
imported lazily (PEP 562): ``from convlearn.kernels import TOOLS`` reads
:mod:`~convlearn.kernels.config` alone.
"""

from __future__ import annotations

from convlearn.lazy import lazy_exports

# public name -> module of this package that defines it
_EXPORTS = {
    "BuiltinEntry": "catalog",
    "KernelDetails": "catalog",
    "describe_kernel": "catalog",
    "list_builtins": "catalog",
    "run_kernels": "catalog",
    "PILLOW_SIZES": "config",
    "TOOLS": "config",
    "convolution_kernel": "export",
    "export_kernel": "export",
    "imagemagick_kernel": "export",
    "pillow_kernel": "export",
    "run_export": "export",
    "MAX_KERNEL_SIDE": "kernel",
    "Kernel": "kernel",
    "format_kernel_file": "kernel_file",
    "kernel_to_json": "kernel_file",
    "load_kernel_file": "kernel_file",
    "kernel_file_of": "spec",
    "parse_kernel": "spec",
    "parse_matrix": "spec",
    "KERNELS": "table",
    "KernelInfo": "table",
    "gaussian_1d": "table",
    "gaussian_kernel": "table",
    "gradient_pair": "table",
    "is_magnitude": "table",
    "gaussian_size": "table",
    "log_kernel": "table",
    "opencv_sigma": "table",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
