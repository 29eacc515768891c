"""Alembic, run programmatically at start-up: migrations travel as package files (also frozen).

Alembic itself is imported only when the schema is behind: a database already at HEAD costs one
query at start-up, which keeps the window's cold start short.
"""

from pathlib import Path

from sqlalchemy import Engine, inspect, text

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
HEAD = "0004"  # the newest revision in migrations/versions (a test keeps the two in step)


def upgrade_to_head(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op (one cheap query) when it already is."""
    if current_revision(engine) == HEAD:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
