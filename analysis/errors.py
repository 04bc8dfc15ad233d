"""One exception root for the library, with subclasses for bad input and upstream failures."""

from __future__ import annotations

from dataclasses import dataclass


class Error(Exception):
    """Root of every exception raised on purpose by ca-incidents."""


class InputError(Error):
    """A local input (file, bytes, table row) could not be used."""

    def __init__(self, input: str, position: str | None, reason: str) -> None:
        self.input = input
        self.position = position
        self.reason = reason
        where = f"{input} {position}" if position else input
        super().__init__(f"{where}: {reason}")


class UsageError(Error):
    """The caller asked for something that cannot be done (bad option, no usable input)."""


class UpstreamError(Error):
    """An upstream (crt.sh, Bugzilla, a CRL URL) failed after retries, or the cache missed offline."""

    def __init__(self, url: str, status: int | None, snippet: str = "", reason: str = "") -> None:
        self.url = url
        self.status = status
        self.snippet = snippet[:200]
        self.reason = reason
        parts = [url]
        if status is not None:
            parts.append(f"HTTP {status}")
        if reason:
            parts.append(reason)
        if self.snippet:
            parts.append(repr(self.snippet))
        super().__init__(": ".join(parts))


class OfflineMiss(UpstreamError):
    """--offline was given and the cache has no answer for this URL."""

    def __init__(self, url: str) -> None:
        super().__init__(
            url, None, reason="not in the cache, and offline mode (--offline) allows no network request"
        )


class Cancelled(UpstreamError):
    """The upstream cancelled a request as too big (a database statement timeout): a narrower
    request may work, so callers that can split the work catch this first."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, None, reason=reason)


@dataclass(frozen=True)
class Problem:
    """A skipped input item, reported in `errors` and on stderr; the rest of the work goes on."""

    input: str
    position: str | None
    reason: str

    def to_dict(self) -> dict:
        return {"input": self.input, "position": self.position, "reason": self.reason}

    def __str__(self) -> str:
        where = f"{self.input} {self.position}" if self.position else self.input
        return f"{where}: {self.reason}"
