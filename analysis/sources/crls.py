"""CRLs by URL: given directly, from certificates' CRL Distribution Points, or from a CCADB-style
JSON array of CRL URLs ("JSON Array of Partitioned CRLs").

A CRL is cached until its nextUpdate (a day when it has none). The bytes are handed to the
revocation loader (analysis/revocations.py `load_crl_bytes`); here they are only checked to be a
CRL at all, so an HTML error page served with 200 is an upstream failure, not an empty CRL.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509

from ..errors import InputError, Problem, UpstreamError
from ..safety import load_json, read_input
from .http import Answer, InvalidAnswer, Session, UpstreamProblem

_PEM_CRL = b"-----BEGIN X509 CRL-----"


def _load(data: bytes) -> x509.CertificateRevocationList:
    if _PEM_CRL in data:
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def _expect_crl(answer: Answer) -> None:
    data = answer.content
    if not data:
        raise InvalidAnswer("empty body where a CRL was expected")
    if _PEM_CRL not in data and data[:1] != b"\x30":
        ctype = answer.content_type or "no content type"
        raise InvalidAnswer(f"not a CRL ({ctype}): {data[:60]!r}")
    try:
        _load(data)
    except ValueError as exc:  # a cut-off download looks like this too: retry
        raise InvalidAnswer(f"CRL does not parse: {exc}") from None


def _next_update(answer: Answer) -> float | None:
    try:
        nu = _load(answer.content).next_update_utc
    except ValueError:
        return None
    return None if nu is None else nu.timestamp()


def fetch_crl(session: Session, url: str, *, untrusted: bool = False) -> bytes:
    """The CRL (DER or PEM bytes, as served) at `url`, cached until its nextUpdate.

    `untrusted=True` for a URL taken from a certificate: it is fetched from public addresses only
    (see `Session.get`).

    Raises UpstreamError (and OfflineMiss with --offline) when it cannot be had, ValueError for a
    URL that is not http(s) (LDAP CRLs are not fetched).
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {scheme or '(none)'!r} (only http and https)")
    return session.get(
        url, kind="crl", validate=_expect_crl, expires=_next_update, untrusted=untrusted
    ).content


def fetch_crls(
    session: Session, urls: Iterable[str], *, progress: bool | None = None
) -> tuple[list[tuple[str, bytes]], list[Problem]]:
    """Every CRL in `urls` (each URL once, in order) as (url, bytes); failures are
    UpstreamProblems (a non-http URL a plain Problem) and the rest are still returned."""
    from tqdm import tqdm

    todo = list(dict.fromkeys(u.strip() for u in urls if u and u.strip()))
    out: list[tuple[str, bytes]] = []
    problems: list[Problem] = []
    for url in tqdm(todo, desc="CRLs", unit="crl", disable=None if progress is None else not progress):
        try:
            out.append((url, fetch_crl(session, url)))
        except UpstreamError as exc:
            problems.append(UpstreamProblem.from_error(exc))
        except ValueError as exc:
            problems.append(Problem(url, None, str(exc)))
    return out, problems


def crl_urls_from_certificates(
    certificates: Iterable[bytes | x509.Certificate],
) -> tuple[list[str], list[Problem]]:
    """HTTP(S) URLs in the CRL Distribution Points of the certificates, each once, in order.

    Accepts cryptography certificates or PEM/DER bytes (a PEM bundle may hold several). LDAP
    URLs are skipped (not fetched here); unreadable inputs are problems.
    """
    urls: dict[str, None] = {}
    problems: list[Problem] = []
    for i, item in enumerate(certificates):
        try:
            if isinstance(item, x509.Certificate):
                certs = [item]
            elif b"-----BEGIN" in item:
                certs = x509.load_pem_x509_certificates(item)
            else:
                certs = [x509.load_der_x509_certificate(item)]
        except ValueError as exc:
            problems.append(Problem(f"certificate {i + 1}", None, f"unreadable: {exc}"))
            continue
        for cert in certs:
            try:
                cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
            except x509.ExtensionNotFound:
                continue
            except ValueError as exc:
                problems.append(Problem(f"certificate {i + 1}", None, f"bad CRL Distribution Points: {exc}"))
                continue
            for point in cdp:
                for name in point.full_name or []:
                    if isinstance(name, x509.UniformResourceIdentifier):
                        u = name.value.strip()
                        if urlsplit(u).scheme.lower() in ("http", "https"):
                            urls[u] = None
    return list(urls), problems


def load_crl_list(path: str | os.PathLike) -> list[str]:
    """A CCADB "JSON Array of Partitioned CRLs" file: a JSON array of URL strings.

    Raises InputError when the file is not such an array. Duplicates are dropped, order kept.
    """
    p = Path(path)
    try:
        raw = read_input(p, 64 << 20)
        data = load_json(raw.decode("utf-8-sig"))
    except InputError as exc:
        raise InputError(str(p), None, exc.reason) from None
    except (OSError, ValueError) as exc:
        raise InputError(str(p), None, f"not a JSON file: {exc}") from None
    return parse_crl_list(data, source=str(p))


def parse_crl_list(data: object, *, source: str = "CRL list") -> list[str]:
    """The URLs of a CCADB CRL list already parsed from JSON (pure)."""
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list):
        raise InputError(source, None, "expected a JSON array of CRL URLs")
    urls: dict[str, None] = {}
    for i, item in enumerate(data):
        if not isinstance(item, str) or urlsplit(item.strip()).scheme.lower() not in ("http", "https"):
            raise InputError(source, f"item {i + 1}", f"not an http(s) URL: {item!r}")
        urls[item.strip()] = None
    return list(urls)
