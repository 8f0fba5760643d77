"""``python -m streamdsp``: the same as the ``streamdsp`` command."""

import sys

from streamdsp._cli import main

sys.exit(main())
