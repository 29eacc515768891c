#!/usr/bin/env bash
# Set up and run every check: lint, types, architecture contract, and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
build/bootstrap.sh dev
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
echo "== ruff"; .venv/bin/ruff check .
echo "== ruff format"; .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== import contracts"; .venv/bin/lint-imports
echo "== pytest"; .venv/bin/python -m pytest -n auto -q "$@"
