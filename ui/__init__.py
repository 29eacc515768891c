"""Tracekit's PySide6 window: widgets, Qt models and QThreadPool workers over `tracekit`.

Layering: `tracekit/` never imports Qt; this package only presents what `tracekit` computes.
Widgets never touch the database: every query, import, sync, match and apply runs as a task on
the QThreadPool (`ui.workers`) that calls a plain function of `ui.backend`, which in turn calls
`tracekit`. Start-up imports only light modules, so the window paints before SQLAlchemy loads.
"""
