"""Applying a kernel to images: the library behind ``convlearn detect``.

Two ways in: :func:`detect_image` on an array, :func:`run_detect` on files.

- :mod:`~convlearn.detect.config`: the settings (:class:`DetectConfig`), their parsers and their one check (torch-free);
- :mod:`~convlearn.detect.pipeline`: the pipeline on arrays (correlation, magnitude, Canny, thresholds);
- :mod:`~convlearn.detect.batch`: the batch runner, decoding ahead and a report per file;
- :mod:`~convlearn.detect.report`: what happened to each file of a batch;
- :mod:`~convlearn.detect.run`: :func:`run_detect`, the whole command from plain values.

Names are imported lazily (PEP 562): ``from convlearn.detect import run_detect``
does not import torch, so that every mistake fails at once.
"""

from __future__ import annotations

from convlearn.lazy import lazy_exports

# public name -> module of this package that defines it
_EXPORTS = {
    "DetectConfig": "config",
    "check_config": "config",
    "default_tag": "config",
    "DetectOutput": "pipeline",
    "apply_kernel": "pipeline",
    "detect_image": "pipeline",
    "BatchInterrupted": "report",
    "BatchReport": "report",
    "FileResult": "report",
    "DetectJob": "run",
    "DetectOutcome": "run",
    "run_detect": "run",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
