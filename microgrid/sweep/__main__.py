"""`python -m microgrid.sweep sweep SPEC --out DIR` (same as `microgrid sweep`)."""

import sys

from microgrid.sweep.cli import main

if __name__ == "__main__":
    sys.exit(main())
