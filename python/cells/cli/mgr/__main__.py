"""`python -m cells.cli.mgr`: the same as the cellmgr console script."""

import sys

from cells.cli.mgr import main

sys.exit(main())
