#!/usr/bin/env bash
# Set up Tracekit and open it on the demo data (created on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
build/bootstrap.sh
.venv/bin/tracekit gui --demo
