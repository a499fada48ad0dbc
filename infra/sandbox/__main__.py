"""``python -m infra.sandbox``: the same as ``cascade sandbox``."""

from __future__ import annotations

import sys

from infra.cli import main

sys.exit(main(["sandbox", *sys.argv[1:]]))
