"""`python -m warehouse ...`: see `warehouse.cli`."""

import sys

from warehouse.cli import main

sys.exit(main())
