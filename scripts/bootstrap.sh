# Sourced by scripts/test.sh and scripts/demo.sh: creates the project's virtualenv (.venv) and
# installs the project with pinned versions (constraints.txt); skipped when nothing changed.
# For the tests: Synapse (.venv-synapse) and the Element peer (tests/peers: the Matrix JS SDK
# with its Rust crypto, `npm ci` from package-lock.json; needs Node.js 20 or later); for the browser
# tests: Debian's Chromium (apt) and axe-core (tests/browser, `npm ci`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

ensure_project_venv() {
  local stamp="$ROOT/.venv/.cct-installed"
  local want
  want="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" | { sha256sum 2>/dev/null || shasum -a 256; } | cut -d' ' -f1)"
  if [ ! -x "$ROOT/.venv/bin/python" ]; then
    echo "==> creating .venv ($("$PYTHON" --version))" >&2
    "$PYTHON" -m venv "$ROOT/.venv"
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing cct-bot and its dependencies into .venv" >&2
    "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -c "$ROOT/constraints.txt" -e "$ROOT[dev]" 2> >(grep -v "is neither a file nor a directory" >&2)
    echo "$want" > "$stamp"
  fi
}

ensure_synapse() {
  if [ -n "${CCT_SYNAPSE_PYTHON:-}" ] && [ -x "$CCT_SYNAPSE_PYTHON" ]; then
    return
  fi
  if [ ! -x "$ROOT/.venv-synapse/bin/python" ] || ! "$ROOT/.venv-synapse/bin/python" -c "import synapse" 2>/dev/null; then
    echo "==> installing Synapse (test homeserver) into .venv-synapse (~30 s)" >&2
    "$ROOT/.venv/bin/python" -c "from pathlib import Path; from devtools.devserver import install_synapse; install_synapse(Path('$ROOT/.venv-synapse'))"
  fi
  export CCT_SYNAPSE_PYTHON="$ROOT/.venv-synapse/bin/python"
}

ensure_peers() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1 \
      || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
    echo "==> Node.js 20+ and npm not found: the tests with Element (tests/peers) are skipped" \
         "(a failure with CI=true)" >&2
    return
  fi
  npm_ci "$ROOT/tests/peers" "the Element peer"
}

npm_ci() {
  # `npm ci` in $1 (what it installs: $2), unless its package.json and lock are unchanged since.
  local dir="$1" stamp="$1/node_modules/.cct-installed" want
  want="$(cat "$dir/package.json" "$dir/package-lock.json" | { sha256sum 2>/dev/null || shasum -a 256; } | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing $2 (npm ci in ${dir#"$ROOT/"})" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" > "$stamp"
  fi
}

# Debian packages for the report's check (scripts/check_report_odt.py and
# tests/unit/test_report_libreoffice.py): LibreOffice converts the .odt to PDF, poppler reads and
# renders it, Liberation fonts stand in for Arial.
REPORT_APT_PACKAGES=(libreoffice-writer poppler-utils fonts-liberation2)

ensure_report_tools() {
  if command -v libreoffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then
    return
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ${REPORT_APT_PACKAGES[*]} (apt-get, a few minutes)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${REPORT_APT_PACKAGES[@]}" >&2
  else
    echo "==> LibreOffice or poppler not found: the report's LibreOffice test is skipped" \
         "(a failure with CI=true); apt-get install --no-install-recommends" \
         "${REPORT_APT_PACKAGES[*]}" >&2
  fi
}

ensure_browser() {
  # The browser tests (tests/browser) and scripts/screenshots.py: Debian's Chromium (apt; Playwright's
  # own browsers are never downloaded) and axe-core (`npm ci` in tests/browser).
  if [ ! -x "${CCT_CHROMIUM:-/usr/bin/chromium}" ]; then
    local sudo=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; fi
    if command -v apt-get >/dev/null 2>&1; then
      echo "==> installing Chromium (apt-get install chromium) for the browser tests" >&2
      { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends chromium; } >&2 \
        || echo "==> Chromium not installed: the browser tests are skipped (a failure with CI=true)" >&2
    else
      echo "==> apt-get not found: install Chromium for the browser tests (CCT_CHROMIUM=its path)" >&2
    fi
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "==> npm not found: the browser tests are skipped (a failure with CI=true)" >&2
    return
  fi
  npm_ci "$ROOT/tests/browser" "axe-core"
}
