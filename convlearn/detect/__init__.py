"""Applying a kernel to images: the library behind ``convlearn detect``."""

from convlearn.detect.pipeline import (
    DetectConfig,
    DetectOutput,
    apply_kernel,
    check_config,
    default_tag,
    detect_file,
    detect_files,
    detect_image,
    detect_planes,
)
from convlearn.detect.report import (
    BatchReport,
    FileResult,
)

__all__ = [
    "BatchReport",
    "DetectConfig",
    "DetectOutput",
    "FileResult",
    "apply_kernel",
    "check_config",
    "default_tag",
    "detect_file",
    "detect_files",
    "detect_image",
    "detect_planes",
]
