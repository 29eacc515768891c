#!/usr/bin/env bash
# Create (or refresh) .venv with Python 3.12+ and install Tracekit into it.
# Usage: build/bootstrap.sh [EXTRAS]   e.g. build/bootstrap.sh dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

find_python() {
  local candidates=(python3.14 python3.13 python3.12 python3 python)
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | sort -rV); do
      candidates+=("$(pyenv root)/versions/$v/bin/python")
    done
  fi
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
  python=$(find_python) || {
    echo "Tracekit needs Python 3.12 or newer; none was found on PATH or in pyenv." >&2
    echo "Install one (python.org, your package manager, or 'pyenv install 3.12') and retry." >&2
    exit 1
  }
  rm -rf .venv
  "$python" -m venv .venv
fi

# Reinstall only when pyproject.toml or the requested extras changed.
stamp=".venv/.tracekit-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) ${extras}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  spec="."
  [ -n "$extras" ] && spec=".[${extras}]"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
  echo "$want" > "$stamp"
fi
