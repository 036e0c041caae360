"""``python -m gateway`` runs the same CLI as the ``cellgate`` command."""

import sys

from gateway.cli.main import main

sys.exit(main())
