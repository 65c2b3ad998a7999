"""Edge maps from gradients: magnitude, angle, thresholds, Otsu and Canny."""

from convlearn.edges.canny import (
    TAN_22_5,
    TAN_67_5,
    CannyConfig,
    CannyResult,
    apply_threshold,
    canny,
    canny_parts,
    gradient_angle,
    gradient_magnitude,
    hysteresis,
    non_max_suppression,
    otsu_threshold,
    parse_canny,
    parse_threshold,
    smooth,
    sobel_gradients,
)

__all__ = [
    "TAN_22_5",
    "TAN_67_5",
    "CannyConfig",
    "CannyResult",
    "apply_threshold",
    "canny",
    "canny_parts",
    "gradient_angle",
    "gradient_magnitude",
    "hysteresis",
    "non_max_suppression",
    "otsu_threshold",
    "parse_canny",
    "parse_threshold",
    "smooth",
    "sobel_gradients",
]
