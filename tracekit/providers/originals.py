"""Where a provider's original file lands in the archive: under a name no other file has, and
only once complete (written beside as `.part`, then renamed), so an interrupted download never
leaves half a file under a real name."""

from pathlib import Path

from tracekit.providers.base import ProviderError
from tracekit.providers.names import ProviderName


def free_path(target: Path, provider: ProviderName) -> Path:
    """`target`, or a numbered sibling when a file of that name is already there."""
    if not target.exists():
        return target
    stem, dot, suffix = target.name.partition(".")
    for n in range(1, 10_000):
        candidate = target.with_name(f"{stem}-{n}{dot}{suffix}")
        if not candidate.exists():
            return candidate
    raise ProviderError(provider, f"too many files named {target.name}")


def keep_original(folder: Path, name: str, data: bytes, provider: ProviderName) -> Path:
    """Write a downloaded original into `folder` under a free name; the path it got."""
    folder.mkdir(parents=True, exist_ok=True)
    target = free_path(folder / name, provider)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target
