"""``python -m implicitbias`` runs the command line."""

import sys

from implicitbias.cli import main

sys.exit(main())
