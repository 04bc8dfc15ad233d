"""A real HTTP server on 127.0.0.1 that plays crt.sh, pwnedkeys, a CRL host and Bugzilla.

Each role listens on its own random port (so per-host rate limits stay apart), answers in the
upstream's real format (reference.md; modelled on real answers, the data here is written fresh and
fictional) and misbehaves on request:

crt.sh (``/?...&output=json``, ``/?d=<id>``)
    ``spkisha256=<SPKI_REUSED>`` three rows (a precertificate/final pair and one more certificate);
    ``q=example.test`` two rows; ``q=empty.example`` ``[]``; ``q=cap.example`` 10,000 rows;
    ``q=truncated.example`` JSON cut in the middle (200, application/json);
    ``q=cut.example`` a Content-Length longer than the body (connection closed early);
    ``q=html200.example`` an HTML page with status 200; ``q=slow.example`` an answer after
    `SLOW_SECONDS`; ``q=flaky.example`` an HTML 503 first, then rows; ``q=busy.example`` a 429 with
    Retry-After: 3 first, then rows; ``q=patience.example`` 429 with Retry-After: 3600;
    ``spkisha256=<SPKI_503>`` and ``q=down.example`` always the HTML 503 page crt.sh serves.
    ``serial=<der hex>`` rows for the known serials.
pwnedkeys (``/<spki hex>``)
    200 with a JWS-shaped attestation for `PWNED_SPKIS`, 404 otherwise; `SPKI_429` 429 with
    Retry-After: 3 once; `SPKI_503` always 503.
CRL host (``/crl/<name>``)
    ``good.crl`` (DER, nextUpdate in a week, one keyCompromise entry), ``good.pem.crl`` (PEM),
    ``stale.crl`` (nextUpdate yesterday), ``html.crl`` (an HTML page with 200), ``missing.crl`` (404).
Bugzilla (``/rest/bug...``)
    bugs `BUG_MAIN` (comments, a CSV and a text attachment, history), the corpus `CORPUS` in component
    "CA Certificate Compliance" searched with limit/offset/last_change_time/include_fields, a JSON
    error with 404 for an unknown bug; ``offset=<TRUNCATE_OFFSET>`` answers truncated JSON when
    `truncate_corpus` is set.

Hostile behaviours (issue 13), each bounded in time so a test client that gave up costs nothing:

crt.sh ``q=drip.example`` a 2,000-byte JSON body sent a byte every `DRIP_INTERVAL` s;
    ``q=formula.example`` a row whose names start with ``=`` and ``@``;
    ``q=headerdrip.example`` a status line, then a header a byte every `DRIP_INTERVAL` s;
    ``q=silent.example`` headers never sent (the connection stays open `SILENT_SECONDS`);
    ``q=bomb.example`` a gzip body that inflates to `BOMB_BYTES` of JSON whitespace;
    ``q=huge.example`` ``Content-Length: 10000000000`` and a few bytes;
    ``q=deep.example`` ``[`` x 200,000 as a 200 JSON answer; ``q=gzip.example`` the rows gzipped.
pwnedkeys: a real attestation (a JWS signed by the compromised key, as pwnedkeys.com/api/v1
    describes) for `PWNED_SPKIS`; `JUNK_BODIES` maps more SPKIs to 200 answers that are not one;
    `SPKI_FORGED` gets a well-formed attestation signed by another key.
Bugzilla ``/rest/bug/<BUG_REDIRECT_AWAY>`` redirects (302) to the same path on the "elsewhere"
    server (another port, another origin); ``/rest/bug/<BUG_REDIRECT_HOME>`` to another path on
    its own origin; component ``Endless`` answers one new bug per page forever, ``Repeat`` the
    same page forever; ``/rest/bug/<BUG_EVIL>`` has attachments whose ids and names try to leave
    the output folder; component ``Odd ids`` has a bug whose id is ``"abc"``.
CRL host ``/crl/to-localhost.crl`` redirects (302) to ``good.crl`` on ``localhost`` (the same
    server by another name, for the private-address rule on redirects).
The "elsewhere" server answers any path with an empty bug list and records the headers it got.

`Upstream.requests` records every request (role, path, query, headers); `count()` filters it.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

UTC = dt.UTC
SLOW_SECONDS = 1.5
DRIP_INTERVAL = 0.1  # seconds between the bytes of a drip answer
DRIP_BYTES = 2000  # a drip answer ends by itself after DRIP_BYTES * DRIP_INTERVAL s
SILENT_SECONDS = 8.0  # a silent answer closes the connection after this long
BOMB_BYTES = 64 << 20  # what the gzip bomb inflates to

# --- fictional PKI --------------------------------------------------------------------------------


def _key(n: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(n, ec.SECP256R1())


def spki_sha256(key) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


CA_KEY = _key(0x5EED_0001)
REUSED_KEY = _key(0x5EED_0002)
OTHER_KEY = _key(0x5EED_0003)
KEY_429 = _key(0x5EED_0004)
SPKI_REUSED = spki_sha256(REUSED_KEY)
SPKI_OTHER = spki_sha256(OTHER_KEY)
SPKI_503 = "5" * 64
SPKI_429 = spki_sha256(KEY_429)
SPKI_UNKNOWN = "0" * 64
PWNED_KEYS = {SPKI_REUSED: REUSED_KEY, SPKI_429: KEY_429}
PWNED_SPKIS = set(PWNED_KEYS)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def attestation(key, *, kid: str | None = None, payload: bytes | None = None, alg: str = "ES256") -> bytes:
    """A pwnedkeys v1 answer: a flattened JWS over a short text, signed by `key` (P-256, ES256)."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    header = _b64(json.dumps({"alg": alg, "kid": kid or spki_sha256(key)}).encode())
    body = _b64(payload if payload is not None else b"This key is pwned! See the pwnedkeys site for more.")
    r, s_ = decode_dss_signature(key.sign(f"{header}.{body}".encode(), ec.ECDSA(hashes.SHA256())))
    sig = _b64(r.to_bytes(32, "big") + s_.to_bytes(32, "big"))
    return json.dumps({"protected": header, "payload": body, "signature": sig}).encode()


def _junk_spki(n: int) -> str:
    return hashlib.sha256(b"junk %d" % n).hexdigest()


# 200 answers that are not attestations of the key asked about (each must be an upstream failure).
_GOOD_FOR_OTHER = attestation(OTHER_KEY)
JUNK_BODIES: dict[str, bytes] = {
    _junk_spki(1): _GOOD_FOR_OTHER[:-25],  # truncated JSON
    _junk_spki(2): b"[[[[",
    _junk_spki(3): b"[" * 200_000,  # deeper than Python's parser goes
    _junk_spki(4): b'{"compromised": true}',  # JSON, but not a JWS
    _junk_spki(5): _GOOD_FOR_OTHER,  # a valid attestation of another key (kid mismatch)
    _junk_spki(7): attestation(OTHER_KEY, kid=_junk_spki(7), payload=b"nothing to see"),
}
# A forged attestation: it names FORGED_KEY but OTHER_KEY signed it. Its form is right, so only the
# signature check with FORGED_KEY's SPKI in hand catches it.
FORGED_KEY = _key(0x5EED_0005)
SPKI_FORGED = spki_sha256(FORGED_KEY)
FORGED_BODY = attestation(OTHER_KEY, kid=SPKI_FORGED)

CA_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Trust"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Example Trust TLS CA 1"),
    ]
)
CA_CRTSH_NAME = "C=XX, O=Example Trust, CN=Example Trust TLS CA 1"
CA_ID = 424242

# Serials: the first has its high bit set, so crt.sh writes it with a leading 00.
SERIAL_PAIR = 0x8A3F0C2E91D4B7650011223344556677
SERIAL_LATER = 0x05C3E1AA0B8E7F
SERIAL_OTHER = 0x7E57


@dataclass(frozen=True)
class CertSpec:
    crtsh_id: int
    serial: int
    key: ec.EllipticCurvePrivateKey
    names: tuple[str, ...]
    not_before: dt.datetime
    days: int
    precert: bool
    entry_timestamp: str | None


SPECS = (
    CertSpec(
        9100000001,
        SERIAL_PAIR,
        REUSED_KEY,
        ("shop.example.test",),
        dt.datetime(2019, 3, 1, 10, 0, tzinfo=UTC),
        365,
        True,
        "2019-03-01T10:02:03.5",
    ),
    CertSpec(
        9100000002,
        SERIAL_PAIR,
        REUSED_KEY,
        ("shop.example.test",),
        dt.datetime(2019, 3, 1, 10, 0, tzinfo=UTC),
        365,
        False,
        "2019-03-01T10:02:04.123",
    ),
    CertSpec(
        9100000003,
        SERIAL_LATER,
        REUSED_KEY,
        ("shop.example.test", "www.shop.example.test"),
        dt.datetime(2021, 5, 5, 0, 0, tzinfo=UTC),
        90,
        False,
        "2021-05-05T00:00:01",
    ),
    CertSpec(
        9100000004,
        SERIAL_OTHER,
        OTHER_KEY,
        ("example.test",),
        dt.datetime(2024, 10, 28, 8, 0, tzinfo=UTC),
        90,
        False,
        None,
    ),
)


def _certificate(spec: CertSpec, crl_base: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, spec.names[0])])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(CA_NAME)
        .public_key(spec.key.public_key())
        .serial_number(spec.serial)
        .not_valid_before(spec.not_before)
        .not_valid_after(spec.not_before + dt.timedelta(days=spec.days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in spec.names]), critical=False)
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [
                            x509.UniformResourceIdentifier(f"{crl_base}/crl/good.crl"),
                            x509.UniformResourceIdentifier("ldap://ldap.example.test/cn=crl"),
                        ],
                        None,
                        None,
                        None,
                    )
                ]
            ),
            critical=False,
        )
    )
    if spec.precert:
        builder = builder.add_extension(x509.PrecertPoison(), critical=True)
    return builder.sign(CA_KEY, hashes.SHA256())


def _crl(
    next_update: dt.datetime, *, revoked: tuple[tuple[int, x509.ReasonFlags], ...]
) -> x509.CertificateRevocationList:
    now = dt.datetime.now(UTC).replace(microsecond=0)
    b = x509.CertificateRevocationListBuilder().issuer_name(CA_NAME).last_update(now - dt.timedelta(days=1))
    b = b.next_update(next_update)
    for serial, reason in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(dt.datetime(2018, 12, 24, 16, 0, tzinfo=UTC))
            .add_extension(x509.CRLReason(reason), critical=False)
            .build()
        )
        b = b.add_revoked_certificate(entry)
    return b.sign(CA_KEY, hashes.SHA256())


def crtsh_serial(n: int) -> str:
    """How crt.sh writes a serial: hex of the DER content bytes."""
    return n.to_bytes(n.bit_length() // 8 + 1, "big").hex()


def crtsh_row(spec: CertSpec, *, identity: bool, spki: str | None = None) -> dict:
    row = {
        "issuer_ca_id": CA_ID,
        "issuer_name": CA_CRTSH_NAME,
        "name_value": spki if spki else "\n".join(spec.names),
        "id": spec.crtsh_id,
        "entry_timestamp": spec.entry_timestamp,
        "not_before": spec.not_before.strftime("%Y-%m-%dT%H:%M:%S"),
        "not_after": (spec.not_before + dt.timedelta(days=spec.days)).strftime("%Y-%m-%dT%H:%M:%S"),
        "serial_number": crtsh_serial(spec.serial),
        "result_count": 2 if identity else 0,
    }
    if identity:
        row = {
            "issuer_ca_id": row.pop("issuer_ca_id"),
            "issuer_name": row.pop("issuer_name"),
            "common_name": spec.names[0],
            **row,
        }
    return row


def cap_rows(n: int = 10_000) -> list[dict]:
    return [
        {
            "issuer_ca_id": CA_ID,
            "issuer_name": CA_CRTSH_NAME,
            "common_name": f"h{i}.cap.example",
            "name_value": f"h{i}.cap.example",
            "id": 9200000000 + i,
            "entry_timestamp": "2024-01-01T00:00:00.1",
            "not_before": "2024-01-01T00:00:00",
            "not_after": "2024-04-01T00:00:00",
            "serial_number": format(0x1000 + i, "x").rjust(8, "0"),
            "result_count": n,
        }
        for i in range(n)
    ]


CRTSH_503_PAGE = b"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">
<HTML>
<HEAD><TITLE>crt.sh | ERROR!</TITLE>
<STYLE>body { font: 10pt Arial; }</STYLE>
</HEAD>
<BODY>
<A href="/"><SPAN class="title">crt.sh</SPAN></A> Certificate Search
<BR><BR>
<SPAN class="error">Sorry, something went wrong... ERROR: canceling statement due to statement timeout</SPAN>
</BODY>
</HTML>
"""

# --- Bugzilla data (fictional) --------------------------------------------------------------------

BUG_MAIN = 1900001
BUG_REDIRECT_AWAY = 1909901
BUG_REDIRECT_HOME = 1909902
BUG_EVIL = 1909903
ENDLESS_BASE = 5_000_000
BUG_MISSING = 1999999
TRUNCATE_OFFSET = 3
ATTACHMENT_CSV = (
    b"Certificate SHA-256 hash,Serial # (hex),Revocation date,Revocation reason\n"
    b"aa11,8a3f0c2e91d4b7650011223344556677,2024-10-28 08:00 UTC+8,keyCompromise\n"
)
ATTACHMENT_TXT = b"Timeline (UTC+8)\n2024-10-26 16:00 problem found\n"


def _bug(
    i: int, summary: str, whiteboard: str, created: str, changed: str, resolved: str | None, status: str
) -> dict:
    return {
        "id": i,
        "summary": summary,
        "status": status,
        "resolution": "FIXED" if status == "RESOLVED" else "",
        "whiteboard": whiteboard,
        "creation_time": created,
        "last_change_time": changed,
        "cf_last_resolved": resolved,
        "creator": f"compliance@ca{i % 5}.example",
        "assigned_to": f"compliance@ca{i % 5}.example",
        "product": "CA Program" if i > 1900002 else "NSS",
        "component": "CA Certificate Compliance",
        "keywords": [],
        "is_open": status != "RESOLVED",
    }


CORPUS = [
    _bug(
        1900001,
        "Example Trust: Reissued certificates on compromised keys",
        "[ca-compliance] [leaf-revocation-delay] Next update 2024-12-01",
        "2024-10-29T04:12:00Z",
        "2024-12-03T09:30:00Z",
        None,
        "ASSIGNED",
    ),
    _bug(
        1900002,
        "Sample CA: CRL not updated",
        "[ca-compliance] [crl-failure]",
        "2023-02-01T10:00:00Z",
        "2023-05-01T10:00:00Z",
        "2023-05-01T10:00:00Z",
        "RESOLVED",
    ),
    _bug(
        1900003,
        "Another CA - OCSP outage",
        "[ca compliance] [ocsp-failure]",
        "2022-06-01T10:00:00Z",
        "2024-11-15T12:00:00Z",
        "2022-09-01T10:00:00Z",
        "RESOLVED",
    ),
    _bug(
        1900004,
        "Third CA: audit delay",
        "[ca-compliance] [audit-delay]",
        "2021-01-01T10:00:00Z",
        "2021-03-01T10:00:00Z",
        "2021-03-01T10:00:00Z",
        "RESOLVED",
    ),
    _bug(
        1900005,
        "Fourth CA: misissued OV",
        "[ca-compliance] [ov-misissuance]",
        "2020-01-01T10:00:00Z",
        "2020-02-01T10:00:00Z",
        "2020-02-01T10:00:00Z",
        "RESOLVED",
    ),
    _bug(
        1900006,
        "Fifth CA: disclosure",
        "[ca-compliance] [disclosure failure]",
        "2025-01-01T10:00:00Z",
        "2025-01-20T10:00:00Z",
        None,
        "NEW",
    ),
    _bug(
        1900007,
        "Sixth CA: policy",
        "[ca-compliance] [policy-failure]",
        "2019-01-01T10:00:00Z",
        "2019-01-10T10:00:00Z",
        "2019-01-10T10:00:00Z",
        "RESOLVED",
    ),
]
CORPUS_OTHER_COMPONENT = _bug(
    1900100, "Not a CA bug", "", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", None, "NEW"
)
CORPUS_OTHER_COMPONENT["component"] = "Firefox"

COMMENTS = [
    {
        "id": 70000001,
        "count": 0,
        "bug_id": BUG_MAIN,
        "attachment_id": None,
        "is_private": False,
        "is_markdown": True,
        "creator": "compliance@example-trust.example",
        "author": "compliance@example-trust.example",
        "creation_time": "2024-10-29T04:12:00Z",
        "time": "2024-10-29T04:12:00Z",
        "tags": [],
        "text": "## Preliminary Incident Report\n\n### Summary\n\n- **Incident description:** ...",
        "raw_text": "## Preliminary Incident Report\n\n### Summary\n\n- **Incident description:** ...",
    },
    {
        "id": 70000002,
        "count": 1,
        "bug_id": BUG_MAIN,
        "attachment_id": 80000001,
        "is_private": False,
        "is_markdown": True,
        "creator": "compliance@example-trust.example",
        "author": "compliance@example-trust.example",
        "creation_time": "2024-10-31T02:00:00Z",
        "time": "2024-10-31T02:00:00Z",
        "tags": [],
        "text": "Created attachment 80000001\nAffected certificates",
        "raw_text": "Affected certificates",
    },
]
ATTACHMENTS = [
    {
        "id": 80000001,
        "bug_id": BUG_MAIN,
        "file_name": "affected certificates.csv",
        "summary": "Affected certificates",
        "description": "Affected certificates",
        "content_type": "text/csv",
        "size": len(ATTACHMENT_CSV),
        "is_obsolete": 0,
        "is_patch": 0,
        "is_private": 0,
        "creator": "compliance@example-trust.example",
        "attacher": "compliance@example-trust.example",
        "creation_time": "2024-10-31T02:00:00Z",
        "last_change_time": "2024-10-31T02:00:00Z",
        "flags": [],
        "data": base64.b64encode(ATTACHMENT_CSV).decode(),
    },
    {
        "id": 80000002,
        "bug_id": BUG_MAIN,
        "file_name": "../timeline.txt",
        "summary": "Timeline",
        "description": "Timeline",
        "content_type": "text/plain",
        "size": len(ATTACHMENT_TXT),
        "is_obsolete": 1,
        "is_patch": 0,
        "is_private": 0,
        "creator": "compliance@example-trust.example",
        "attacher": "compliance@example-trust.example",
        "creation_time": "2024-11-01T02:00:00Z",
        "last_change_time": "2024-11-01T02:00:00Z",
        "flags": [],
        "data": base64.b64encode(ATTACHMENT_TXT).decode(),
    },
]
HISTORY = [
    {
        "when": "2024-10-29T08:00:00Z",
        "who": "rootprogram@example.org",
        "changes": [
            {"field_name": "status", "removed": "UNCONFIRMED", "added": "ASSIGNED"},
            {"field_name": "whiteboard", "removed": "", "added": "[ca-compliance] [leaf-revocation-delay]"},
        ],
    },
    {
        "when": "2024-11-20T08:00:00Z",
        "who": "rootprogram@example.org",
        "changes": [
            {
                "field_name": "whiteboard",
                "removed": "[ca-compliance] [leaf-revocation-delay]",
                "added": "[ca-compliance] [leaf-revocation-delay] Next update 2024-12-01",
            }
        ],
    },
]


# --- the server -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    role: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # a client that gave up (timeout) is expected
        pass


class Upstream:
    """Four servers (crt.sh, pwnedkeys, CRL host, Bugzilla) sharing one request log."""

    ROLES = ("crtsh", "pwnedkeys", "crl", "bugzilla", "elsewhere")

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.hits: dict[str, int] = {}
        self.truncate_corpus = False
        self.servers: dict[str, _Server] = {}
        for role in self.ROLES:
            self.servers[role] = _Server(("127.0.0.1", 0), self._handler(role))
        self.urls = {role: f"http://127.0.0.1:{s.server_address[1]}" for role, s in self.servers.items()}
        self.crtsh_url = self.urls["crtsh"]
        self.pwnedkeys_url = self.urls["pwnedkeys"]
        self.crl_url = self.urls["crl"]
        self.bugzilla_url = self.urls["bugzilla"]
        self.elsewhere_url = self.urls["elsewhere"]
        self._bomb: bytes | None = None
        self.certs = {spec.crtsh_id: _certificate(spec, self.crl_url) for spec in SPECS}
        self.pems = {i: c.public_bytes(serialization.Encoding.PEM) for i, c in self.certs.items()}
        week = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(days=7)
        good = _crl(week, revoked=((SERIAL_LATER, x509.ReasonFlags.key_compromise),))
        stale = _crl(dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(days=1), revoked=())
        self.crls = {
            "good.crl": good.public_bytes(serialization.Encoding.DER),
            "good.pem.crl": good.public_bytes(serialization.Encoding.PEM),
            "stale.crl": stale.public_bytes(serialization.Encoding.DER),
        }
        self.threads = []
        for s in self.servers.values():
            t = threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            t.start()
            self.threads.append(t)

    def close(self) -> None:
        for s in self.servers.values():
            s.shutdown()
            s.server_close()

    # bookkeeping

    def count(self, role: str | None = None, path: str | None = None, **query: str) -> int:
        with self.lock:
            return sum(
                1
                for r in self.requests
                if (role is None or r.role == role)
                and (path is None or r.path == path)
                and all(r.query.get(k) == v for k, v in query.items())
            )

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.hits.clear()

    def _hit(self, key: str) -> int:
        with self.lock:
            self.hits[key] = self.hits.get(key, 0) + 1
            return self.hits[key]

    # dispatch

    def _handler(self, role: str):
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "upstream-fixture/1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                with upstream.lock:
                    upstream.requests.append(Seen(role, parts.path, query, dict(self.headers.items())))
                getattr(upstream, f"_{role}")(self, parts.path, query)

            def send(
                self,
                status: int,
                body: bytes,
                ctype: str,
                headers: dict | None = None,
                length: int | None = None,
            ):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if length is not None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                try:
                    self.wfile.write(body)
                    self.wfile.flush()
                except OSError:
                    pass

            def send_json(self, obj, status: int = 200):
                self.send(status, json.dumps(obj).encode(), "application/json")

            def send_503(self):
                self.send(503, CRTSH_503_PAGE, "text/html; charset=UTF-8")

        return Handler

    def _crtsh(self, h, path: str, q: dict[str, str]) -> None:
        if "d" in q:
            pem = self.pems.get(int(q["d"])) if q["d"].isdigit() else None
            if pem is None:
                h.send(404, b"<HTML><BODY>Certificate not found</BODY></HTML>", "text/html; charset=UTF-8")
            else:
                h.send(
                    200,
                    pem,
                    "application/pkix-cert",
                    {"Content-Disposition": f'attachment; filename="{q["d"]}.crt"'},
                )
            return
        if q.get("output") != "json":
            h.send(200, b"<HTML><BODY>crt.sh search page</BODY></HTML>", "text/html; charset=UTF-8")
            return
        if "spkisha256" in q:
            spki = q["spkisha256"]
            if spki == SPKI_503:
                h.send_503()
                return
            rows = [crtsh_row(s, identity=False, spki=spki) for s in SPECS if spki_sha256(s.key) == spki]
            h.send_json(rows)
            return
        if "serial" in q:
            rows = [
                crtsh_row(s, identity=False) for s in SPECS if crtsh_serial(s.serial) == q["serial"].lower()
            ]
            h.send_json(rows)
            return
        name = q.get("q") or q.get("Identity") or ""
        identity_rows = [crtsh_row(s, identity=True) for s in SPECS if any(n.endswith(name) for n in s.names)]
        if name == "example.test":
            h.send_json(identity_rows)
        elif name == "empty.example":
            h.send_json([])
        elif name == "cap.example":
            h.send_json(cap_rows())
        elif name == "truncated.example":
            h.send(200, json.dumps(identity_rows).encode()[:-40], "application/json")
        elif name == "cut.example":
            body = json.dumps(identity_rows).encode()
            h.send(200, body[: len(body) // 2], "application/json", length=len(body))
        elif name == "html200.example":
            h.send(200, b"<HTML><BODY>Temporarily unavailable</BODY></HTML>", "text/html; charset=UTF-8")
        elif name == "slow.example":
            time.sleep(SLOW_SECONDS)
            h.send_json(identity_rows)
        elif name == "drip.example":
            self._drip(h)
        elif name == "formula.example":  # names a spreadsheet would run as formulas
            row = crtsh_row(SPECS[3], identity=True)
            row["common_name"] = '=HYPERLINK("http://evil.test","click")'
            row["name_value"] = '=HYPERLINK("http://evil.test","click")\n@formula.example'
            h.send_json([row])
        elif name == "headerdrip.example":
            self._header_drip(h)
        elif name == "silent.example":
            time.sleep(SILENT_SECONDS)
            h.close_connection = True
        elif name == "bomb.example":
            h.send(200, self.bomb(), "application/json", {"Content-Encoding": "gzip"})
        elif name == "gzip.example":  # the example.test rows, gzipped
            rows = [
                crtsh_row(s, identity=True) for s in SPECS if any(n.endswith("example.test") for n in s.names)
            ]
            h.send(
                200,
                gzip.compress(json.dumps(rows).encode()),
                "application/json",
                {"Content-Encoding": "gzip"},
            )
        elif name == "huge.example":
            h.send(200, b"[" + b" " * 1000, "application/json", length=10_000_000_000)
        elif name == "deep.example":
            h.send(200, b"[" * 200_000, "application/json")
        elif name == "flaky.example":
            if self._hit("flaky") == 1:
                h.send_503()
            else:
                h.send_json(identity_rows)
        elif name == "busy.example":
            if self._hit("busy") == 1:
                h.send(429, b"<HTML><BODY>Too Many Requests</BODY></HTML>", "text/html", {"Retry-After": "3"})
            else:
                h.send_json(identity_rows)
        elif name == "patience.example":
            h.send(429, b"Too Many Requests", "text/plain", {"Retry-After": "3600"})
        elif name == "down.example":
            h.send_503()
        else:
            h.send_json([])

    def bomb(self) -> bytes:
        if self._bomb is None:
            self._bomb = gzip.compress(b"[" + b" " * (BOMB_BYTES - 2) + b"]", compresslevel=9)
        return self._bomb

    def _drip(self, h) -> None:
        body = (b"[" + b" " * (DRIP_BYTES - 2) + b"]")[:DRIP_BYTES]
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        try:
            for i in range(len(body)):
                h.wfile.write(body[i : i + 1])
                h.wfile.flush()
                time.sleep(DRIP_INTERVAL)
        except OSError:  # the client gave up
            h.close_connection = True

    def _header_drip(self, h) -> None:
        """A status line, then a header sent a byte every DRIP_INTERVAL s (never finished)."""
        try:
            h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(DRIP_BYTES):
                h.wfile.write(b"a")
                h.wfile.flush()
                time.sleep(DRIP_INTERVAL)
        except OSError:  # the client gave up
            pass
        h.close_connection = True

    def _pwnedkeys(self, h, path: str, q: dict[str, str]) -> None:
        spki = path.strip("/").lower()
        if spki == SPKI_503:
            h.send(503, b"<html><body>Service Unavailable</body></html>", "text/html")
        elif spki == SPKI_429 and self._hit("pwned429") == 1:
            h.send(429, b"slow down", "text/plain", {"Retry-After": "3"})
        elif spki in PWNED_KEYS:
            h.send(200, attestation(PWNED_KEYS[spki]), "application/json")
        elif spki in JUNK_BODIES:
            h.send(200, JUNK_BODIES[spki], "application/json")
        elif spki == SPKI_FORGED:
            h.send(200, FORGED_BODY, "application/json")
        else:
            h.send(404, b"Key not found\n", "text/plain")

    def _crl(self, h, path: str, q: dict[str, str]) -> None:
        name = path.rsplit("/", 1)[-1]
        if name in self.crls:
            ctype = "application/x-pem-file" if name.endswith(".pem.crl") else "application/pkix-crl"
            h.send(200, self.crls[name], ctype)
        elif name == "html.crl":
            h.send(200, b"<html><body>Please log in</body></html>", "text/html")
        elif name == "to-localhost.crl":  # a redirect to the same server named as "localhost"
            port = self.crl_url.rsplit(":", 1)[1]
            h.send(302, b"", "text/plain", {"Location": f"http://localhost:{port}/crl/good.crl"})
        else:
            h.send(404, b"<html><body>Not Found</body></html>", "text/html")

    def _bugzilla(self, h, path: str, q: dict[str, str]) -> None:
        parts = path.strip("/").split("/")
        if parts[:2] != ["rest", "bug"]:
            h.send(404, b"<html><body>Not Found</body></html>", "text/html")
            return
        if len(parts) == 2:
            self._bugzilla_search(h, q)
            return
        if parts[2] == str(BUG_REDIRECT_AWAY):
            h.send(302, b"", "text/plain", {"Location": f"{self.elsewhere_url}{path}"})
            return
        if parts[2] == str(BUG_REDIRECT_HOME):
            h.send(302, b"", "text/plain", {"Location": path.replace(str(BUG_REDIRECT_HOME), str(BUG_MAIN))})
            return
        if parts[2] == str(BUG_EVIL):
            self._bugzilla_evil(h, parts)
            return
        bug_id = int(parts[2]) if parts[2].isdigit() else -1
        bug = next((b for b in CORPUS if b["id"] == bug_id), None)
        if bug is None:
            h.send_json(
                {
                    "error": True,
                    "code": 101,
                    "message": f"Bug #{parts[2]} does not exist.",
                    "documentation": "https://bmo.readthedocs.io/en/latest/api/",
                },
                status=404,
            )
            return
        main = bug_id == BUG_MAIN
        if len(parts) == 3:
            full = {
                **bug,
                "alias": None,
                "cc": [],
                "flags": [],
                "groups": [],
                "see_also": [],
                "depends_on": [],
            }
            h.send_json({"bugs": [full], "faults": []})
        elif parts[3] == "comment":
            h.send_json({"bugs": {str(bug_id): {"comments": COMMENTS if main else []}}, "comments": {}})
        elif parts[3] == "attachment":
            atts = ATTACHMENTS if main else []
            if q.get("exclude_fields") == "data":
                atts = [{k: v for k, v in a.items() if k != "data"} for a in atts]
            h.send_json({"bugs": {str(bug_id): atts}, "attachments": {}})
        elif parts[3] == "history":
            h.send_json({"bugs": [{"id": bug_id, "alias": None, "history": HISTORY if main else []}]})
        else:
            h.send(404, b"<html><body>Not Found</body></html>", "text/html")

    def _bugzilla_evil(self, h, parts: list[str]) -> None:
        """A bug whose attachment ids and names are paths out of the output folder."""
        n = BUG_EVIL
        data = base64.b64encode(b"pwned").decode()
        if len(parts) == 3:
            h.send_json(
                {
                    "bugs": [
                        _bug(n, "Evil bug", "", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", None, "NEW")
                    ],
                    "faults": [],
                }
            )
        elif parts[3] == "comment":
            h.send_json({"bugs": {str(n): {"comments": []}}, "comments": {}})
        elif parts[3] == "history":
            h.send_json({"bugs": [{"id": n, "alias": None, "history": []}]})
        elif parts[3] == "attachment":
            atts = [
                {"id": "../../../escaped", "file_name": "x.txt", "size": 5, "data": data, "is_obsolete": 0},
                {
                    "id": 77,
                    "file_name": "../../../../escaped2.txt",
                    "size": 5,
                    "data": data,
                    "is_obsolete": 0,
                },
                {"id": 78, "file_name": "/etc/escaped3", "size": 5, "data": data, "is_obsolete": 0},
                {"id": 79, "file_name": "..", "size": 5, "data": data, "is_obsolete": 0},
            ]
            h.send_json({"bugs": {str(n): atts}, "attachments": {}})

    def _elsewhere(self, h, path: str, q: dict[str, str]) -> None:
        h.send_json({"bugs": [], "faults": []})

    def _bugzilla_search(self, h, q: dict[str, str]) -> None:
        offset = int(q.get("offset", 0))
        if q.get("component") == "Endless":  # one new bug per page, whatever the limit, forever
            n = ENDLESS_BASE + offset
            h.send_json(
                {"bugs": [{"id": n, "summary": f"bug {n}", "last_change_time": "2024-01-01T00:00:00Z"}]}
            )
            return
        if q.get("component") == "Repeat":  # the same page whatever the offset
            h.send_json(
                {
                    "bugs": [
                        {"id": ENDLESS_BASE, "summary": "again", "last_change_time": "2024-01-01T00:00:00Z"}
                    ]
                }
            )
            return
        if q.get("component") == "Odd ids":
            page = [
                {"id": "abc", "summary": "not a number", "last_change_time": "2024-01-01T00:00:00Z"},
                {"id": 1900077, "summary": "fine", "last_change_time": "2024-01-02T00:00:00Z"},
            ]
            h.send_json({"bugs": page[offset:]})
            return
        bugs = [b for b in [*CORPUS, CORPUS_OTHER_COMPONENT] if b["component"] == q.get("component")]
        if "last_change_time" in q:
            bugs = [b for b in bugs if b["last_change_time"] >= q["last_change_time"]]
        bugs.sort(key=lambda b: b["id"])
        limit = int(q.get("limit", 10_000))
        if self.truncate_corpus and offset == TRUNCATE_OFFSET:
            h.send(200, b'{"bugs":[{"id":1900004,"summary":"Third CA: au', "application/json; charset=utf-8")
            return
        page = bugs[offset : offset + limit]
        if "include_fields" in q:
            keep = q["include_fields"].split(",")
            page = [{k: b[k] for k in keep if k in b} for b in page]
        h.send_json({"bugs": page})


@pytest.fixture(scope="module")
def upstream_server():
    """The four fake upstreams, started once per test module."""
    server = Upstream()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def upstream(upstream_server):
    """The fake upstreams with an empty request log and default behaviour."""
    upstream_server.reset()
    upstream_server.truncate_corpus = False
    return upstream_server


class FakeClock:
    """A monotonic clock whose sleep only advances it (and records how long it was asked to)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def make_session(upstream: Upstream, cache_dir, **kwargs):
    """A Session aimed at the fake upstreams: fast timeouts, a fake clock, deterministic jitter."""
    from analysis.sources.http import Session

    clock = kwargs.pop("clock", None) or FakeClock()
    options = dict(
        cache_dir=cache_dir,
        urls={k: upstream.urls[k] for k in ("crtsh", "bugzilla", "pwnedkeys")},
        timeout=(2.0, 0.5),
        retries=2,
        backoff=1.0,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.5,
    )
    options.update(kwargs)
    session = Session(**options)
    session.fake_clock = clock
    return session
