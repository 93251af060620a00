"""``python -m strom.cli ...``: the same as the ``strom`` command."""

import sys

from strom.cli import main

sys.exit(main())
