"""The soak runs only under `make soak` (``TWINSPACE_SOAK=1``), never in `make test`: it kills
a server five times and takes minutes."""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("TWINSPACE_SOAK") else ["test_*.py"]
