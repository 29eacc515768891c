"""Tracekit: one local, trustworthy record of your training across every provider."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tracekit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
