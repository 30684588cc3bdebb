"""``python -m gui``: the same as the ``innerloop`` command."""

import sys

from gui.app import main

sys.exit(main())
