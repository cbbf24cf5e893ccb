"""`python -m cells.cli.ctl`: the same as the cellctl console script."""

import sys

from cells.cli.ctl import main

sys.exit(main())
