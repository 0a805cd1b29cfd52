"""`python -m microgrid.sweeps sweep SPEC --out DIR` (same as `microgrid sweep`)."""

import sys

from microgrid.sweeps.cli import main

if __name__ == "__main__":
    sys.exit(main())
