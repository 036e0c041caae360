"""Entry point of ``python -m tools.groundtruth SCENARIO OUTDIR [--seed N]``."""

import sys

from tools.groundtruth.cli import main

sys.exit(main())
