"""``python -m ganzoo ...`` (and ``torchrun -m ganzoo run ENTRY``): the ``ganzoo`` command."""

import sys

from ganzoo.cli import main

sys.exit(main())
