"""Public names of a package loaded on first use (PEP 562 module ``__getattr__``).

`microgrid` and `microgrid.export` name their public API in their ``__init__`` without
importing it, so `microgrid --help`, `validate` and a bad input's one-line answer do not
wait seconds for pandapower, Pyomo and the plotting stack.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_names(package: str, namespace: dict, where: Mapping[str, str]) -> Callable[[str], object]:
    """The ``__getattr__`` of ``package``: name -> ``getattr(import_module(where[name]),
    name)``, stored in the package's ``namespace`` so later look-ups skip it."""

    def __getattr__(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name]), name)
        namespace[name] = value
        return value

    return __getattr__
