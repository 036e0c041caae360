"""``python -m plugins.simulator``: the same as ``cellgate simulate``."""

import sys

from plugins.simulator.cli import main

sys.exit(main())
