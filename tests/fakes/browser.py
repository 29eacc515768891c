"""The user's browser in OAuth tests: opens the consent page of a fake provider and follows its
redirect back to Tracekit's loopback address, as a real browser does."""

import threading
from urllib.parse import parse_qs, urlsplit

import httpx


class Browser:
    """Call it (blocking: the OAuth flow runs its opener on a thread of its own), or
    `open_in_background` where the caller is the GUI thread."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.done = threading.Event()

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        try:
            httpx.get(url, follow_redirects=True, timeout=10)
        finally:
            self.done.set()
        return True

    def open_in_background(self, url: str) -> None:
        threading.Thread(target=self, args=(url,), daemon=True).start()

    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.opened[0]).query).items()}
