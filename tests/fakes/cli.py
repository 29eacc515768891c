"""Running `tracekit …` in this process, so fixtures such as the in-memory keyring apply."""

import io

from tracekit.cli.main import main


def cli(*argv: str) -> int:
    """`tracekit …` through its real entry point, in this process (so the in-memory keyring
    a test installed is the one in use)."""
    return main(list(argv))


def stdin(text: str) -> io.StringIO:
    return io.StringIO(text + "\n")
