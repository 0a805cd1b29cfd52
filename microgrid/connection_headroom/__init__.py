"""Interconnection headroom ("time to power"): the largest campus a grid connection carries
if training may be curtailed at most X %, and the connection a campus needs (docs/headroom.md).

`microgrid headroom SCENARIO --out DIR`; `microgrid.headroom(scenario)` returns a
`HeadroomResult`, `write_headroom(result, out)` writes its folder. The package is not named
`headroom`: importing a submodule `microgrid.headroom` would shadow the function
`microgrid.headroom` on the `microgrid` package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microgrid.lazy import lazy_names

if TYPE_CHECKING:
    from microgrid.connection_headroom.curve import HeadroomResult, HeadroomRow, headroom
    from microgrid.connection_headroom.files import write_headroom

# Public name -> the module that defines it, loaded on first use (PEP 562): the command's
# parser (microgrid.connection_headroom.cli) must not load Pyomo for `microgrid --help`.
_LAZY = {
    "HeadroomResult": "microgrid.connection_headroom.curve",
    "HeadroomRow": "microgrid.connection_headroom.curve",
    "headroom": "microgrid.connection_headroom.curve",
    "write_headroom": "microgrid.connection_headroom.files",
}

__all__ = ["HeadroomResult", "HeadroomRow", "headroom", "write_headroom"]


__getattr__ = lazy_names(__name__, globals(), _LAZY)
