"""`python -m ui`: the window (see `ui.app.main`).

Guarded: the importer's worker processes (forkserver/spawn) import the main module again, and
must not start a second window.
"""

import multiprocessing
import sys

from ui.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
