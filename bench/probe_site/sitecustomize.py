"""Run by Python at start in the bot started by ``bench.faults`` and ``bench.club_scale``:
installs the event loop's probe (``bench/loop_probe.py``), the memory probe
(``bench/mem_probe.py``) and the trace of the bot's steps (``bench/trace.py``, for
``bench.club_scale --trace``). Does nothing without their environment variables."""

import os
import sys
from pathlib import Path

if any(os.environ.get(name) for name in ("CCT_BENCH_LOOP_PROBE", "CCT_BENCH_MEM_PROBE",
                                         "CCT_BENCH_TRACE_DIR")):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository
if os.environ.get("CCT_BENCH_LOOP_PROBE"):
    from bench.loop_probe import install

    install(os.environ["CCT_BENCH_LOOP_PROBE"])
if os.environ.get("CCT_BENCH_MEM_PROBE"):
    from bench.mem_probe import install as install_memory

    install_memory(os.environ["CCT_BENCH_MEM_PROBE"])
if os.environ.get("CCT_BENCH_TRACE_DIR"):
    from bench.trace import install as install_trace

    install_trace(os.environ["CCT_BENCH_TRACE_DIR"])
