"""Entry point of `python -m localssl`."""

import sys

from localssl.cli import main

sys.exit(main())
