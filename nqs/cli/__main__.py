"""`python -m nqs.cli`: the same as the `nqs` command."""

import sys

from nqs.cli import main

sys.exit(main())
