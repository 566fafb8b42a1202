"""``python -m keyward``: the seal / unseal command line (keyward.cli)."""

import sys

from .cli import main

sys.exit(main())
