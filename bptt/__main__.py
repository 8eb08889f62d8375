"""`python -m bptt`: the command line. See `python -m bptt --help`."""

import sys

from .cli import main

sys.exit(main())
