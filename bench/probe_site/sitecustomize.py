"""Run by Python at start in the bot started by ``bench.faults`` and ``bench.club_scale``:
installs the event loop's probe (``bench/loop_probe.py``) and the memory probe
(``bench/mem_probe.py``). Does nothing without their environment variables."""

import os
import sys
from pathlib import Path

if os.environ.get("CCT_BENCH_LOOP_PROBE") or os.environ.get("CCT_BENCH_MEM_PROBE"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository
if os.environ.get("CCT_BENCH_LOOP_PROBE"):
    from bench.loop_probe import install

    install(os.environ["CCT_BENCH_LOOP_PROBE"])
if os.environ.get("CCT_BENCH_MEM_PROBE"):
    from bench.mem_probe import install as install_memory

    install_memory(os.environ["CCT_BENCH_MEM_PROBE"])
