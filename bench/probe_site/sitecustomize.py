"""Run by Python at start in the bot started by ``bench.faults``: installs the event loop's probe
(``bench/loop_probe.py``). Does nothing without its environment variable."""

import os
import sys
from pathlib import Path

if os.environ.get("CCT_BENCH_LOOP_PROBE"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository
    from bench.loop_probe import install

    install(os.environ["CCT_BENCH_LOOP_PROBE"])
