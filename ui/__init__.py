"""The PySide6 window: widgets, Qt models and workers that call into tracekit/ (arrives later)."""
