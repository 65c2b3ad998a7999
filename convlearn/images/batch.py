"""The names for running many files through one command, gathered in one place.

:func:`collect_inputs` and :func:`plan_outputs` live in :mod:`convlearn.images.inputs`;
:func:`prefetch` and :func:`group_batches` in :mod:`convlearn.images.prefetch`.
Import them from :mod:`convlearn.images`.
"""

from convlearn.images.inputs import INPUT_SUFFIXES, Source, collect_inputs, plan_outputs
from convlearn.images.prefetch import Loaded, group_batches, prefetch

__all__ = [
    "INPUT_SUFFIXES",
    "Loaded",
    "Source",
    "collect_inputs",
    "group_batches",
    "plan_outputs",
    "prefetch",
]
