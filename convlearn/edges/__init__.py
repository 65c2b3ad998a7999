"""Edge maps from gradients: magnitude, angle, thresholds, Otsu and Canny.

- :mod:`~convlearn.edges.gradients`: smoothing, Sobel derivatives, magnitude and angle;
- :mod:`~convlearn.edges.threshold`: a number or Otsu's threshold, applied plane by plane;
- :mod:`~convlearn.edges.canny`: non-maximum suppression, hysteresis and Canny's method.
"""

from convlearn.edges.canny import (
    TAN_22_5,
    TAN_67_5,
    CannyResult,
    canny,
    canny_parts,
    canny_thresholds,
    hysteresis,
    non_max_suppression,
)
from convlearn.edges.gradients import gradient_angle, gradient_magnitude, smooth, sobel_gradients
from convlearn.edges.threshold import apply_threshold, otsu_threshold

__all__ = [
    "TAN_22_5",
    "TAN_67_5",
    "CannyResult",
    "apply_threshold",
    "canny",
    "canny_parts",
    "canny_thresholds",
    "gradient_angle",
    "gradient_magnitude",
    "hysteresis",
    "non_max_suppression",
    "otsu_threshold",
    "smooth",
    "sobel_gradients",
]
