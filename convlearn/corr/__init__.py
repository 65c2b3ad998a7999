"""2-D cross-correlation: corr2d, filter2d and the engines behind them."""

from convlearn.corr.correlate import (
    BORDERS,
    MODES,
    STRATEGIES,
    as_planes,
    choose_strategy,
    corr2d,
    filter2d,
    pad_same,
)

__all__ = [
    "BORDERS",
    "MODES",
    "STRATEGIES",
    "as_planes",
    "choose_strategy",
    "corr2d",
    "filter2d",
    "pad_same",
]
