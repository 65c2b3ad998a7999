"""Where the work runs: the device, and torchrun's process group.

- :mod:`~convlearn.runtime.config`: ``--device``'s words and check, and whether torchrun started us (torch-free);
- :mod:`~convlearn.runtime.device`: the device choice and the fp32 settings;
- :mod:`~convlearn.runtime.distributed`: ranks, sharding and reductions under torchrun.

Names are imported lazily (PEP 562): ``from convlearn.runtime import check_device``
does not import torch.
"""

from __future__ import annotations

from convlearn.lazy import lazy_exports

# public name -> module of this package that defines it
_EXPORTS = {
    "DEVICES": "config",
    "check_device": "config",
    "under_torchrun": "config",
    "torchrun_env": "config",
    "cudnn_exact": "device",
    "exact_fp32": "device",
    "resolve_device": "device",
    "Dist": "distributed",
    "all_gather_objects": "distributed",
    "all_reduce_sum": "distributed",
    "barrier": "distributed",
    "current": "distributed",
    "setup": "distributed",
    "shard": "distributed",
    "teardown": "distributed",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
