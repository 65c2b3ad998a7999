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

__all__ = [
    "DetectConfig",
    "DetectOutput",
    "apply_kernel",
    "check_config",
    "default_tag",
    "detect_file",
    "detect_files",
    "detect_image",
    "detect_planes",
]
