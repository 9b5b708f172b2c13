#!/usr/bin/env bash
# The whole test suite, on a fresh machine with only Python 3.11 and the package registries:
# installs the project (.venv), a throwaway Synapse (.venv-synapse) and the Element peer
# (tests/peers, `npm ci`: the Matrix JS SDK with its Rust crypto), then runs pytest —
# unit, handler, storage (SQLite and PostgreSQL on 127.0.0.1:5432) and integration tests
# (a real Synapse started by the suite on a loopback port). Extra arguments go to pytest.
# Test files are spread over one worker per core (at most 4; pytest-xdist, each worker with its
# own Synapse and PostgreSQL database); `-n 0` runs them in this process.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"
ensure_project_venv
ensure_synapse
ensure_peers
ensure_report_tools
ensure_browser
exec "$ROOT/.venv/bin/python" -m pytest -n auto --maxprocesses 4 --dist loadfile "$@"
