"""Run by Python at start in ``bench.latency``'s bots and ``bench.club_scale``'s echo bot when
they trace (``--trace``): see ``bench/trace.py``. Does nothing without its environment
variable."""

import os
import sys
from pathlib import Path

if os.environ.get("CCT_BENCH_TRACE_DIR"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository
    from bench.trace import install

    install(os.environ["CCT_BENCH_TRACE_DIR"])
