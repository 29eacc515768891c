"""Locating the shared sample corpus for benchmarks."""

import os
import sys
from pathlib import Path


def samples_dir() -> Path:
    configured = os.environ.get("TRACEKIT_SAMPLES")
    path = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[1].parent / "shared" / "samples"
    )
    if not path.is_dir():
        sys.exit(f"sample corpus not found at {path} (set TRACEKIT_SAMPLES)")
    return path
