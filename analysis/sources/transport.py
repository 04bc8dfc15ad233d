"""The byte level of `analysis.sources.http.Session`: reading a body within a size cap (gzip and
deflate inflated in bounded steps), the origin of a URL (for credentials on redirects), whether a host is a public address (URLs
taken from data, and redirects, may not reach the machine's own network), and the
watchdog that cuts a connection when a request's deadline passes, in whatever phase it is.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import zlib
from urllib.parse import urlsplit

import requests
import requests.adapters

MiB = 1 << 20
READ_CHUNK = 64 << 10  # bytes asked of the socket at a time
INFLATE_STEP = 1 * MiB  # most bytes one decompression step may produce


# --- the deadline's watchdog ------------------------------------------------------------------


class Slot:
    """The connection an attempt runs on, and a way to cut it from the watchdog's thread."""

    def __init__(self) -> None:
        self.conn = None
        self.fired = False

    def cut(self) -> None:
        self.fired = True
        sock = getattr(self.conn, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # the blocked read in the other thread returns now
            except OSError:
                pass


TRACK = threading.local()  # .slot: the Slot of this thread's attempt, if one is under way


def _tracked(base):
    class Tracked(base):
        def request(self, *args, **kwargs):
            slot = getattr(TRACK, "slot", None)
            if slot is not None:
                slot.conn = self
            return super().request(*args, **kwargs)

    Tracked.__name__ = f"Tracked{base.__name__}"
    return Tracked


def tracking_adapter() -> requests.adapters.HTTPAdapter:
    """requests' adapter whose connections tell the current attempt which socket they use."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = _tracked(HTTPConnection)

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = _tracked(HTTPSConnection)

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

    return Adapter()


class Deadline(Exception):
    """The request's total deadline passed (not retried: there is no time left)."""


class CutShort(Exception):
    """The connection broke or the body ended early (retried)."""


class Unusable(Exception):
    """An answer that retrying will not change (too many redirects, an unknown encoding)."""


class TooBig(Exception):
    """An answer over its size cap (not retried)."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status


def size_text(n: int) -> str:
    return f"{n / MiB:g} MiB" if n >= MiB else f"{n} bytes"


def resolve(host: str) -> list[str]:
    """Every address `host` names (an IP literal is itself); [] when it cannot be resolved."""
    try:
        return [ipaddress.ip_address(host.strip("[]")).compressed]
    except ValueError:
        pass
    try:
        return list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, None)))
    except (OSError, UnicodeError):
        return []


def blocked_address(host: str) -> str | None:
    """The first address of `host` that is not a public unicast one (loopback, private,
    link-local such as cloud metadata at 169.254.169.254, shared, reserved, multicast), or None.
    A name that does not resolve is not judged here: the request then fails the usual way."""
    for text in resolve(host):
        try:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            return text
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            return ip.compressed
    return None


def origin_of(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


class Inflater:
    """Body bytes -> decoded bytes, gzip/deflate decompressed in bounded steps with a size cap."""

    def __init__(self, encoding: str | None, cap: int, status: int | None) -> None:
        codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise Unusable(f"unsupported Content-Encoding {encoding!r}")
        self.encoding = codings[0] if codings else ""
        self.cap = cap
        self.status = status
        self.parts: list[bytes] = []
        self.size = 0
        self.z = None

    def _new(self, first: bytes):
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
        zlib_header = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            what = "after decompression " if self.encoding else ""
            raise TooBig(
                self.status, f"answer larger than {size_text(self.cap)} {what}refused".replace("  ", " ")
            )
        if data:
            self.parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if not self.encoding:
            self._add(chunk)
            return
        data = chunk
        while data:
            if self.z is None:
                self.z = self._new(data)
            try:
                out = self.z.decompress(data, INFLATE_STEP)
            except zlib.error as exc:
                raise CutShort(f"corrupt {self.encoding} body: {exc}") from None
            self._add(out)
            if self.z.eof:
                data = self.z.unused_data  # another gzip member may follow
                self.z = None
                if self.encoding == "deflate":
                    break
            else:
                data = self.z.unconsumed_tail

    def finish(self) -> bytes:
        if self.z is not None:
            try:
                self._add(self.z.flush(INFLATE_STEP) if hasattr(self.z, "flush") else b"")
            except zlib.error as exc:
                raise CutShort(f"corrupt {self.encoding} body: {exc}") from None
            if not self.z.eof:
                raise CutShort(f"{self.encoding} body cut short")
        return b"".join(self.parts)
