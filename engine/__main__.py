"""``python -m portmodel``: the same command line as the ``portmodel`` script."""
import sys

from .cli import main

sys.exit(main())
