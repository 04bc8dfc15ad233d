"""One polite HTTP session for every upstream: User-Agent, timeouts, retries, rate limits, cache.

Everything in `analysis/sources/` fetches through `Session.get`, which

- names the tool in the User-Agent (``ca-incidents/<version> (+<project url>)``);
- uses a connect and a read timeout, and one total deadline per `get` (every attempt, redirect,
  body read and backoff wait together; `deadline`, default 45 s), so a server that drips a byte a
  second or stays silent cannot hold a run;
- reads bodies in chunks with a size cap per kind of answer (`DEFAULT_MAX_BYTES`), decompressing
  gzip/deflate itself in bounded steps, so a huge Content-Length or a gzip bomb is refused early;
- follows redirects itself: a credential header (``X-BUGZILLA-API-KEY``, Authorization, Cookie)
  goes only to the origin it was given for; a redirect to another scheme, host or port drops it
  and says so on stderr;
- never lets data steer it into the machine's own network: a URL taken from data (``untrusted=True``,
  e.g. a certificate's CRL Distribution Point) must resolve to public addresses only, and a
  redirect from a public host may not lead to a loopback, private or link-local one (cloud metadata
  at 169.254.169.254 included), unless the session was made with ``allow_private=True``;
- retries connection errors, timeouts, truncated or malformed bodies, HTTP 429 and 5xx with
  exponential backoff and jitter, honouring ``Retry-After`` (up to ``max_retry_after`` seconds);
- waits for a per-host token bucket before each real request (crt.sh 60 a minute with a burst of 5,
  Bugzilla 75 a minute), with an injectable clock and sleep so tests need not wait;
- keeps a persistent on-disk cache keyed by the URL only (never by a header, so an API key never
  enters it), which stores only answers that passed their checks: an error page is never data.

Freshness by kind (`DEFAULT_MAX_AGE`): a certificate (``cert``) is kept forever, a CRL (``crl``)
until its nextUpdate (the caller supplies it; a day when it has none), every other answer
(``search``, ``bug``, ``pwnedkeys``) for a day. ``refresh=True`` ignores what is cached (and
overwrites it); ``offline=True`` answers from the cache only, stale entries included, and raises
`OfflineMiss` naming the URL when it has nothing.

Every failure after retries is one `UpstreamError(url, status, snippet, reason)`.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

from .. import __version__
from ..errors import OfflineMiss, Problem, UpstreamError
from ..safety import load_json, replace_file
from . import transport

log = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/ca-incidents/ca-incidents"
USER_AGENT = f"ca-incidents/{__version__} (+{PROJECT_URL})"

DEFAULT_URLS: dict[str, str] = {
    "crtsh": "https://crt.sh",
    "bugzilla": "https://bugzilla.mozilla.org",
    "pwnedkeys": "https://v1.pwnedkeys.com",
}
# Requests per minute and burst, by upstream role (reference.md). Other hosts get DEFAULT_RATE.
ROLE_RATES: dict[str, tuple[float, int]] = {
    "crtsh": (60.0, 5),
    "bugzilla": (75.0, 5),
    "pwnedkeys": (60.0, 5),
}
DEFAULT_RATE: tuple[float, int] = (120.0, 10)

DAY = 24 * 3600.0
# Seconds an answer stays fresh, by kind; None = forever. A CRL's own nextUpdate overrides "crl".
DEFAULT_MAX_AGE: dict[str, float | None] = {
    "cert": None,
    "crl": DAY,
    "search": DAY,
    "bug": DAY,
    "pwnedkeys": DAY,
}

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)  # connect, read (crt.sh gives up at 30 s)
# Seconds for one `get`, all attempts, redirects, body reads and backoff waits together (a read
# timeout alone restarts on every byte, so a drip would never end). `--deadline` changes it.
DEFAULT_DEADLINE = 45.0
MAX_REDIRECTS = 10
MiB = 1 << 20
# Largest answer accepted, by kind, after decompression (CRLs can be big; JSON pages are not).
DEFAULT_MAX_BYTES: dict[str, int] = {
    "cert": 4 * MiB,
    "crl": 512 * MiB,
    "search": 128 * MiB,
    "bug": 128 * MiB,
    "pwnedkeys": 1 * MiB,
}
OTHER_MAX_BYTES = 64 * MiB
DEFAULT_RETRIES = 4  # retries after the first attempt
DEFAULT_BACKOFF = 2.0  # seconds; doubled each retry, times a jitter factor in [0.5, 1.5)
MAX_BACKOFF = 60.0
MAX_RETRY_AFTER = 300.0  # a longer Retry-After is reported instead of waited for

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SECRET_HEADERS = frozenset({"x-bugzilla-api-key", "authorization", "cookie"})
_SECRET_PARAMS = re.compile(r"^(api_key|bugzilla_api_key|token|bugzilla_token|password)$", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL with secret-looking query parameters (api_key, token, ...) replaced by '***'."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(_SECRET_PARAMS.match(k) for k, _ in pairs):
        return url
    query = urlencode([(k, "***" if _SECRET_PARAMS.match(k) else v) for k, v in pairs], safe="*,:")
    return urlunsplit(parts._replace(query=query))


def snippet_of(content: bytes, limit: int = 200) -> str:
    """A short, single-line text excerpt of a body for error messages (HTML tags dropped)."""
    text = content[:4096].decode("utf-8", "replace")
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:limit]


@dataclass(frozen=True)
class UpstreamProblem(Problem):
    """A skipped input because an upstream failed (exit status 3); `input` is the URL."""

    status: int | None = None

    @classmethod
    def from_error(cls, exc: UpstreamError, position: str | None = None) -> UpstreamProblem:
        reason = str(exc)
        if reason.startswith(exc.url):
            reason = reason[len(exc.url) :].lstrip(": ") or "failed"
        return cls(input=exc.url, position=position, reason=reason, status=exc.status)


def has_upstream_failure(problems) -> bool:
    return any(isinstance(p, UpstreamProblem) for p in problems)


class InvalidAnswer(Exception):
    """Raised by a `validate` callback: the body is not what this URL should return."""

    def __init__(self, reason: str, *, retry: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


@dataclass
class Answer:
    """One HTTP answer, fresh or from the cache."""

    url: str
    status: int
    content: bytes
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    from_cache: bool = False
    fetched_at: float = 0.0

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return load_json(self.content)


# --- validators -------------------------------------------------------------------------------


def expect_json(answer: Answer) -> None:
    """The body must be JSON (by content type and by parse); an HTML page never passes."""
    ctype = answer.content_type.lower()
    if "html" in ctype or answer.content.lstrip()[:1] == b"<":
        raise InvalidAnswer(
            f"expected JSON, got {ctype or 'no content type'}: {snippet_of(answer.content)!r}"
        )
    try:
        load_json(answer.content)
    except ValueError as exc:
        raise InvalidAnswer(f"invalid JSON (truncated?): {exc}") from None


# --- rate limiting ----------------------------------------------------------------------------


class TokenBucket:
    """`per_minute` requests a minute on average, `burst` at once; waits with the given sleep."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("rate and burst must be positive")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.sleep = sleep
        self.tokens = float(burst)
        self.last = clock()
        self.lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is there; returns the seconds waited."""
        waited = 0.0
        with self.lock:
            while True:
                now = self.clock()
                self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
                self.last = now
                if self.tokens >= 1.0 - 1e-9:  # rounding must not leave us waiting for 1e-16 s
                    self.tokens = max(0.0, self.tokens - 1.0)
                    return waited
                delay = (1.0 - self.tokens) / self.rate
                self.sleep(delay)
                waited += delay


# --- cache ------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("ca-incidents", appauthor=False))


class Cache:
    """Answers on disk: ``<dir>/<kind>/<k[:2]>/<k>.body`` and ``.json`` (metadata), k = sha256 of the URL."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.dir = Path(directory)

    @staticmethod
    def key(url: str, variant: str = "") -> str:
        return hashlib.sha256(f"GET {url}\n{variant}".encode()).hexdigest()

    def _paths(self, kind: str, key: str) -> tuple[Path, Path]:
        base = self.dir / kind / key[:2] / key
        return base.with_suffix(".body"), base.with_suffix(".json")

    def load(self, kind: str, key: str) -> tuple[Answer, float | None] | None:
        """The cached answer and its expiry (epoch seconds, None = never), or None."""
        body_path, meta_path = self._paths(kind, key)
        try:
            meta = load_json(meta_path.read_bytes())
            if not isinstance(meta, dict):
                return None
            content = body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if len(content) != meta.get("size", -1) or hashlib.sha256(content).hexdigest() != meta.get("sha256"):
            return None  # torn write or tampering: treat as absent
        answer = Answer(
            url=meta["url"],
            status=int(meta["status"]),
            content=content,
            content_type=meta.get("content_type", ""),
            headers=dict(meta.get("headers", {})),
            from_cache=True,
            fetched_at=float(meta.get("fetched_at", 0.0)),
        )
        return answer, meta.get("expires_at")

    def store(self, kind: str, key: str, answer: Answer, expires_at: float | None) -> None:
        body_path, meta_path = self._paths(kind, key)
        body_path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "url": redact_url(answer.url),
            "status": answer.status,
            "content_type": answer.content_type,
            "headers": {k: v for k, v in answer.headers.items() if k.lower() not in SECRET_HEADERS},
            "fetched_at": answer.fetched_at,
            "expires_at": expires_at,
            "size": len(answer.content),
            "sha256": hashlib.sha256(answer.content).hexdigest(),
        }
        replace_file(body_path, answer.content)
        replace_file(meta_path, json.dumps(meta, indent=1).encode())


# --- the session ------------------------------------------------------------------------------


class Session:
    """The project's one HTTP client. See the module docstring for the policy."""

    def __init__(
        self,
        *,
        cache_dir: str | os.PathLike | None = None,
        use_cache: bool = True,
        offline: bool = False,
        refresh: bool = False,
        urls: Mapping[str, str] | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        max_bytes: Mapping[str, int] | None = None,
        retries: int | None = None,
        backoff: float | None = None,
        max_backoff: float = MAX_BACKOFF,
        max_retry_after: float = MAX_RETRY_AFTER,
        max_age: Mapping[str, float | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        http: requests.Session | None = None,
        warn: Callable[[str], None] | None = None,
        allow_private: bool = False,
    ) -> None:
        if offline and refresh:
            raise ValueError("--offline and --refresh exclude each other")
        self.offline = offline
        self.refresh = refresh
        self.allow_private = allow_private
        self.cache = Cache(cache_dir if cache_dir else default_cache_dir()) if use_cache else None
        if offline and self.cache is None:
            raise ValueError("offline mode needs a cache")
        self.urls = {**DEFAULT_URLS, **{k: v.rstrip("/") for k, v in (urls or {}).items() if v}}
        self.timeout = timeout
        self.deadline = DEFAULT_DEADLINE if deadline is None else float(deadline)
        if self.deadline <= 0:
            raise ValueError("the deadline must be positive")
        self.max_bytes = {**DEFAULT_MAX_BYTES, **(max_bytes or {})}
        self.notices: list[str] = []  # things said on stderr (credentials dropped on a redirect)
        self.warn = warn or _to_stderr
        self.retries = DEFAULT_RETRIES if retries is None else retries
        self.backoff = DEFAULT_BACKOFF if backoff is None else backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.max_age = {**DEFAULT_MAX_AGE, **(max_age or {})}
        self.clock, self.sleep, self.now, self.jitter = clock, sleep, now, jitter
        if http is None:
            http = requests.Session()
            for prefix in ("http://", "https://"):
                http.mount(prefix, transport.tracking_adapter())
        self.http = http
        self.http.headers["User-Agent"] = USER_AGENT
        self._buckets: dict[str, TokenBucket] = {}
        self._rates: dict[str, tuple[float, int]] = {}
        for role, base in self.urls.items():
            if role in ROLE_RATES:
                self.set_rate_limit(urlsplit(base).netloc, *ROLE_RATES[role])
        self.requests_made = 0

    # configuration

    def base_url(self, role: str) -> str:
        return self.urls[role]

    def set_rate_limit(self, host: str, per_minute: float, burst: int) -> None:
        """Limit requests to `host` (``name`` or ``name:port``)."""
        self._rates[host.lower()] = (per_minute, burst)
        self._buckets.pop(host.lower(), None)

    def bucket(self, host: str) -> TokenBucket:
        host = host.lower()
        if host not in self._buckets:
            per_minute, burst = self._rates.get(host, DEFAULT_RATE)
            self._buckets[host] = TokenBucket(per_minute, burst, clock=self.clock, sleep=self.sleep)
        return self._buckets[host]

    # fetching

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, object] | None = None,
        kind: str = "search",
        headers: Mapping[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (200,),
        validate: Callable[[Answer], None] | None = None,
        expires: Callable[[Answer], float | None] | None = None,
        revalidate: bool = False,
        untrusted: bool = False,
    ) -> Answer:
        """GET `url` through the cache, the rate limiter and the retry policy.

        `ok_statuses` are the statuses that are answers (e.g. pwnedkeys' 404); `validate` raises
        `InvalidAnswer` for a body that is not what this URL returns; `expires` gives a CRL's
        nextUpdate (epoch seconds) to keep it that long. Only answers that pass are cached;
        `revalidate=True` also runs `validate` on a cache hit and fetches anew when it fails.
        `untrusted=True` marks a URL taken from data: it is fetched only from public addresses.
        """
        full = requests.Request("GET", url, params=params).prepare().url or url
        shown = redact_url(full)
        secret = any(k.lower() in SECRET_HEADERS for k in (headers or {}))
        key = Cache.key(full, "authenticated" if secret else "")
        if self.cache is not None and not self.refresh:
            hit = self.cache.load(kind, key)
            if hit is not None:
                answer, expires_at = hit
                if self.offline or expires_at is None or expires_at > self.now():
                    if not (revalidate and validate is not None and not _passes(validate, answer)):
                        log.debug("cache hit %s", shown)
                        return answer
                    log.info("cached answer for %s fails its checks; fetching it again", shown)
        if self.offline:
            raise OfflineMiss(shown)
        cap = self.max_bytes.get(kind, OTHER_MAX_BYTES)
        answer = self._fetch(full, shown, headers or {}, ok_statuses, validate, cap, untrusted)
        if self.cache is not None:
            expires_at: float | None
            expires_at = expires(answer) if expires is not None else None
            if expires_at is None:
                age = self.max_age.get(kind, DAY)
                expires_at = None if age is None else answer.fetched_at + age
            self.cache.store(kind, key, answer, expires_at)
        return answer

    def _delay(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * (2**attempt)) * (0.5 + self.jitter())

    def _fetch(
        self, full, shown, headers, ok_statuses, validate, cap: int, untrusted: bool = False
    ) -> Answer:
        host = urlsplit(full).netloc
        status: int | None = None
        snippet = reason = ""
        retry_after: float | None = None
        spent = 0.0  # seconds of this get so far: network time plus backoff waits
        attempts = 0
        for attempt in range(self.retries + 1):
            if attempt:
                wait = self._delay(attempt - 1)
                if retry_after is not None:
                    wait = max(wait, retry_after)
                if spent + wait >= self.deadline:
                    reason = f"{reason or status}; no time left for a retry".lstrip("; ")
                    break
                log.info("retrying %s in %.1f s (%s)", shown, wait, reason or status)
                self.sleep(wait)
                spent += wait
            status, snippet, reason, retry_after = None, "", "", None
            self.bucket(host).acquire()
            self.requests_made += 1
            attempts += 1
            started = time.monotonic()
            try:
                status, why, resp_headers, content = self._exchange(
                    full, shown, headers, started, spent, cap, untrusted
                )
            except transport.Deadline as exc:
                raise UpstreamError(shown, None, reason=str(exc)) from None
            except transport.TooBig as exc:
                raise UpstreamError(shown, exc.status, reason=str(exc)) from None
            except transport.Unusable as exc:
                raise UpstreamError(shown, None, reason=str(exc)) from None
            except requests.Timeout as exc:
                reason = f"timed out ({type(exc).__name__})"
                continue
            except transport.CutShort as exc:
                reason = f"connection failed or body cut short ({exc})"
                continue
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                reason = f"connection failed or body cut short ({type(exc).__name__})"
                continue
            except requests.RequestException as exc:
                raise UpstreamError(shown, None, reason=f"request failed ({type(exc).__name__})") from None
            finally:
                spent += time.monotonic() - started
            if status not in ok_statuses:
                snippet, reason = snippet_of(content), why
                if status not in RETRY_STATUSES:
                    raise UpstreamError(shown, status, snippet, reason)
                retry_after = parse_retry_after(resp_headers.get("Retry-After"), self.now())
                if retry_after is not None and retry_after > self.max_retry_after:
                    reason = f"{reason}; asked to retry after {retry_after:.0f} s".lstrip("; ")
                    raise UpstreamError(shown, status, snippet, reason)
                continue
            answer = Answer(
                url=shown,
                status=status,
                content=content,
                content_type=resp_headers.get("Content-Type", ""),
                headers={k: v for k, v in resp_headers.items() if k.lower() in _KEPT_HEADERS},
                fetched_at=self.now(),
            )
            if validate is None:
                return answer
            try:
                validate(answer)
            except InvalidAnswer as exc:
                reason = exc.reason
                if not exc.retry:
                    raise UpstreamError(shown, status, "", reason) from None
                continue
            return answer
        if attempts > 1:
            reason = f"{reason} (after {attempts} attempts)".strip()
        raise UpstreamError(shown, status, snippet, reason)

    def _exchange(
        self,
        url: str,
        shown: str,
        headers: Mapping[str, str],
        started: float,
        spent: float,
        cap: int,
        untrusted: bool = False,
    ) -> tuple[int, str, Mapping[str, str], bytes]:
        """One attempt: the request, its redirects and the body, within what is left of the
        deadline. Returns (status, reason phrase, headers, decoded body).

        A watchdog shuts the connection's socket down when the deadline passes, so no phase (a
        status line or headers sent a byte at a time included) can outlast it."""
        left = self.deadline - spent - (time.monotonic() - started)
        slot = transport.Slot()
        transport.TRACK.slot = slot
        timer = threading.Timer(max(left, 0.0), slot.cut)
        timer.daemon = True
        timer.start()
        try:
            return self._exchange_once(url, shown, headers, started, spent, cap, untrusted)
        except (transport.Deadline, transport.TooBig, transport.Unusable):
            raise
        except Exception:
            if slot.fired:
                raise transport.Deadline(f"deadline of {self.deadline:g} s passed") from None
            raise
        finally:
            timer.cancel()
            transport.TRACK.slot = None

    def _refuse_private(self, url: str, why: str) -> None:
        host = urlsplit(url).hostname or ""
        bad = transport.blocked_address(host)
        if bad is not None:
            raise transport.Unusable(
                f"refused: {redact_url(url)} is at {bad}, not a public address ({why}; "
                "--allow-private-hosts fetches it anyway)"
            )

    def _exchange_once(
        self,
        url: str,
        shown: str,
        headers: Mapping[str, str],
        started: float,
        spent: float,
        cap: int,
        untrusted: bool = False,
    ) -> tuple[int, str, Mapping[str, str], bytes]:
        origin = transport.origin_of(url)
        guard = untrusted and not self.allow_private
        if guard:
            self._refuse_private(url, "a URL taken from data")
        public_start: bool | None = None  # judged at the first redirect only
        sent = dict(headers)
        sent["Accept-Encoding"] = "gzip, deflate"  # what transport.Inflater decodes
        for _hop in range(MAX_REDIRECTS + 1):
            left = self.deadline - spent - (time.monotonic() - started)
            if left <= 0:
                raise transport.Deadline(f"deadline of {self.deadline:g} s passed")
            # A single blocking read never outlives the deadline; the body loop checks between reads.
            timeout = (min(self.timeout[0], left), min(self.timeout[1], left))
            resp = self.http.get(url, headers=sent, timeout=timeout, allow_redirects=False, stream=True)
            try:
                if resp.is_redirect:
                    target = urljoin(url, resp.headers["Location"])
                    if not self.allow_private:
                        if public_start is None:
                            public_start = guard or transport.blocked_address(origin[1]) is None
                        if public_start:
                            self._refuse_private(target, f"a redirect from {shown}")
                    if transport.origin_of(target) != origin:
                        dropped = sorted(k for k in sent if k.lower() in SECRET_HEADERS)
                        if dropped:
                            for k in dropped:
                                del sent[k]
                            note = (
                                f"{shown}: redirected to another origin ({redact_url(target)}); "
                                f"{', '.join(dropped)} not sent there"
                            )
                            self.notices.append(note)
                            self.warn(f"ca-incidents: {note}")
                        origin = transport.origin_of(target)
                    url = target
                    continue
                body = self._read_body(resp, started, spent, cap)
                return resp.status_code, resp.reason or "", resp.headers, body
            finally:
                resp.close()
        raise transport.Unusable(f"more than {MAX_REDIRECTS} redirects")

    def _read_body(self, resp: requests.Response, started: float, spent: float, cap: int) -> bytes:
        length = resp.headers.get("Content-Length")
        expected = int(length) if length and length.strip().isdigit() else None
        if expected is not None and expected > cap and not resp.headers.get("Content-Encoding"):
            raise transport.TooBig(
                resp.status_code, f"answer of {expected} bytes refused (limit {transport.size_text(cap)})"
            )
        inflater = transport.Inflater(resp.headers.get("Content-Encoding"), cap, resp.status_code)
        raw = resp.raw
        received = 0
        while True:
            if self.deadline - spent - (time.monotonic() - started) <= 0:
                raise transport.Deadline(f"deadline of {self.deadline:g} s passed while reading the answer")
            try:
                chunk = raw.read1(transport.READ_CHUNK, decode_content=False)
            except Exception as exc:  # urllib3's read errors: timeouts, resets, short reads
                name = type(exc).__name__
                if "Timeout" in name or isinstance(exc, TimeoutError):
                    raise requests.Timeout(name) from None
                raise transport.CutShort(name) from None
            if not chunk:
                break
            received += len(chunk)
            if expected is not None and received > cap and not inflater.encoding:
                raise transport.TooBig(
                    resp.status_code, f"answer larger than {transport.size_text(cap)} refused"
                )
            inflater.feed(chunk)
        if expected is not None and received < expected:
            raise transport.CutShort(f"{received} of {expected} bytes")
        return inflater.finish()


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _passes(validate: Callable[[Answer], None], answer: Answer) -> bool:
    try:
        validate(answer)
    except InvalidAnswer:
        return False
    return True


_KEPT_HEADERS = frozenset({"content-type", "last-modified", "etag", "date", "expires"})


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


# --- from the command line ----------------------------------------------------------------------
