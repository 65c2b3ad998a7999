"""Names loaded on first use (PEP 562): the one lazy loader every package's ``__init__`` shares.

A package lists its public names and the modules that define them; the first
``package.name`` imports that module and keeps the value in the package, so
later reads are plain attribute reads. Nothing is imported before it is asked
for, which is how ``convlearn --help`` gets by without torch.

Imports the standard library only.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], public: Iterable[str] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose names load on first use.

    Args:
        package: the package's ``__name__``.
        exports: public name -> the module that defines it: a module of the package
            (``"config"``) or a dotted, absolute one (``"convlearn.errors"``).
        public: what ``dir(package)`` lists; ``sorted(exports)`` when not given.

    Returns:
        ``(__getattr__, __dir__)``, to assign at the package's top level. An unknown
        name raises ``AttributeError("module 'package' has no attribute 'name'")``.

    Example:
        >>> getattr_, dir_ = lazy_exports("convlearn.kernels", {"TOOLS": "config"})
        >>> getattr_("TOOLS") is sys.modules["convlearn.kernels.config"].TOOLS
        True
        >>> dir_()
        ['TOOLS']
        >>> getattr_("nothing")
        Traceback (most recent call last):
        ...
        AttributeError: module 'convlearn.kernels' has no attribute 'nothing'
    """
    listed = sorted(exports) if public is None else list(public)

    def __getattr__(name: str) -> Any:
        if name in exports:
            target = exports[name]
            module = target if "." in target else f"{package}.{target}"
            value = getattr(importlib.import_module(module), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return listed

    return __getattr__, __dir__
