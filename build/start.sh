#!/usr/bin/env bash
# Set up Tracekit and open it on the demo data (created on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
build/bootstrap.sh
.venv/bin/tracekit demo
.venv/bin/tracekit --db "$(.venv/bin/python -c 'from tracekit.paths import demo_db_path; print(demo_db_path())')" calendar --months 2
