#!/usr/bin/env bash
# The demo, on a fresh machine with only Python 3.11 and the package registries: installs the
# project (.venv, skipped when pyproject.toml and constraints.txt did not change), then
# `cct-bot demo` installs (once, ~30 s) and starts a throwaway Synapse on 127.0.0.1, creates the
# club's rooms and two people, starts the bot, and prints how to log in. Ctrl-C stops everything.
# Options: --dir FOLDER (default: demo-data in the repository), --port PORT (default 8008).
# Another interpreter: PYTHON=python3.12 bash scripts/demo.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

if [ ! -x "$ROOT/.venv/bin/python" ]; then
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "cct-bot a besoin de Python 3.11 ou plus [needs Python >= 3.11];" \
         "essayez [try]: PYTHON=python3.11 bash $0" >&2
    exit 2
  fi
fi
ensure_project_venv

# Relative --dir paths stay relative to where the script was called from; without --dir the
# data goes to the repository's demo-data/ (git-ignored), wherever the script is called from.
has_dir=no
for arg in "$@"; do
  case "$arg" in
    --dir|--dir=*) has_dir=yes ;;
  esac
done
if [ "$has_dir" = no ]; then
  set -- --dir "$ROOT/demo-data" "$@"
fi
exec "$ROOT/.venv/bin/cct-bot" demo "$@"
