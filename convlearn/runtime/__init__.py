"""Where the work runs: the device, and torchrun's process group."""

from convlearn.runtime.device import (
    DEVICES,
    cudnn_exact,
    exact_fp32,
    resolve_device,
)
from convlearn.runtime.distributed import (
    Dist,
    all_gather_objects,
    all_reduce_sum,
    barrier,
    current,
    setup,
    shard,
    teardown,
)

__all__ = [
    "DEVICES",
    "Dist",
    "all_gather_objects",
    "all_reduce_sum",
    "barrier",
    "cudnn_exact",
    "current",
    "exact_fp32",
    "resolve_device",
    "setup",
    "shard",
    "teardown",
]
