"""crt.sh's certwatch tables, indexes and libx509pq function names, for tests and benchmarks.

Reproduces the layout of crtsh/certwatch_db sql/create_schema.sql (written here in our own words,
only what the sweep touches): `ca`, `certificate` partitioned by notAfter (fewer, wider partitions than crt.sh's yearly
ones, so that none is empty in the tests' data), `ca_certificate`, `crl`,
`crl_revoked` with its (CA_ID, REVOCATION_DATE) index and no index on REASON_CODE, `ct_log` and
`ct_log_entry` partitioned by ENTRY_TIMESTAMP, and the expression indexes `c_id`, `c_serial`,
`c_spki_sha256`, `c_ica_notbefore`.

libx509pq's C functions are replaced by PL/Python over `cryptography` (Debian packages
postgresql-plpython3-NN and python3-cryptography) with the same names, argument and result types,
IMMUTABLE and the C functions' default cost of 1, so the planner sees what it sees on crt.sh:
  x509_serialNumber(bytea) -> bytea    the DER INTEGER content octets (OpenSSL re-encodes them:
                                       minimal, with a 00 before a high bit)
  x509_publicKey(bytea) -> bytea       the SubjectPublicKeyInfo DER
  x509_notBefore/x509_notAfter(bytea) -> timestamp (UTC, no zone)
  x509_hasExtension(bytea, text, boolean DEFAULT NULL) -> boolean
Each returns NULL for bytes that are not a certificate, as the C functions do.

`fake_certificate(...)` builds a structurally valid certificate DER (Ed25519 key, dummy signature)
so that large tables can be filled with generate_series in SQL.
"""

from __future__ import annotations

import glob
import os

FUNCTIONS_SQL = r"""
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS plpython3u;

-- `load` (see _LOAD below): one parse per row, shared by the functions through GD (a row's certificate is
-- read by several of them in a row when it is inserted and indexed).
CREATE OR REPLACE FUNCTION x509_serialNumber(bytea) RETURNS bytea
LANGUAGE plpython3u IMMUTABLE STRICT COST 1 AS $$
    <<LOAD>>
    try:
        n = load(args[0]).serial_number
    except ValueError:
        return None
    return n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True)
$$;

CREATE OR REPLACE FUNCTION x509_publicKey(bytea) RETURNS bytea
LANGUAGE plpython3u IMMUTABLE STRICT COST 1 AS $$
    # The SubjectPublicKeyInfo element of the parsed TBSCertificate, as DER (what OpenSSL's
    # i2d_PUBKEY writes back for a well-formed key; going through public_key() is 20x slower).
    <<LOAD>>
    try:
        tbs = load(args[0]).tbs_certificate_bytes
    except ValueError:
        return None
    def element(buf, i):
        n = buf[i + 1]
        start = i + 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(buf[start:start + k], "big")
            start += k
        return start, start + n
    body, _ = element(tbs, 0)
    i = body
    if tbs[i] == 0xA0:  # version
        i = element(tbs, i)[1]
    for _ in range(5):  # serial, signature, issuer, validity, subject
        i = element(tbs, i)[1]
    return tbs[i:element(tbs, i)[1]]
$$;

CREATE OR REPLACE FUNCTION x509_notBefore(bytea) RETURNS timestamp
LANGUAGE plpython3u IMMUTABLE STRICT COST 1 AS $$
    <<LOAD>>
    try:
        return load(args[0]).not_valid_before.isoformat()
    except ValueError:
        return None
$$;

CREATE OR REPLACE FUNCTION x509_notAfter(bytea) RETURNS timestamp
LANGUAGE plpython3u IMMUTABLE STRICT COST 1 AS $$
    <<LOAD>>
    try:
        return load(args[0]).not_valid_after.isoformat()
    except ValueError:
        return None
$$;

CREATE OR REPLACE FUNCTION x509_hasExtension(bytea, text, boolean DEFAULT NULL) RETURNS boolean
LANGUAGE plpython3u IMMUTABLE COST 1 AS $$
    <<LOAD>>
    if args[0] is None or args[1] is None:
        return None
    try:
        exts = load(args[0]).extensions
    except ValueError:
        return None
    for ext in exts:
        if ext.oid.dotted_string == args[1]:
            return True if args[2] is None else ext.critical == args[2]
    return False
$$;

-- Test helper, not on crt.sh: a certificate DER built field by field (Ed25519 key from a seed,
-- dummy signature), fast enough to fill a million rows with generate_series.
CREATE OR REPLACE FUNCTION fake_certificate(
    issuer_cn text, serial bigint, not_before timestamp, not_after timestamp, key_seed bigint,
    precert boolean DEFAULT false
) RETURNS bytea LANGUAGE plpython3u IMMUTABLE STRICT AS $$
    import hashlib
    def tlv(tag, body):
        n = len(body)
        if n < 0x80:
            head = bytes([n])
        else:
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            head = bytes([0x80 | len(raw)]) + raw
        return bytes([tag]) + head + body
    def name(cn):
        attr = tlv(0x30, tlv(0x06, bytes.fromhex("550403")) + tlv(0x0C, cn.encode()))
        return tlv(0x30, tlv(0x31, attr))
    def utc(ts):
        t = ts.replace("-", "").replace(":", "").replace(" ", "").replace("T", "")
        return tlv(0x17, (t[2:14] + "Z").encode())
    ed25519 = tlv(0x30, tlv(0x06, bytes.fromhex("2b6570")))
    key = hashlib.sha256(str(key_seed).encode()).digest()
    spki = tlv(0x30, ed25519 + tlv(0x03, b"\x00" + key))
    s = int(serial)
    exts = b""
    if precert:
        poison = tlv(0x30, tlv(0x06, bytes.fromhex("2b06010401d679020403")) + tlv(0x01, b"\xff")
                     + tlv(0x04, b"\x05\x00"))
        exts = tlv(0xA3, tlv(0x30, poison))
    tbs = tlv(0x30,
        tlv(0xA0, tlv(0x02, b"\x02"))
        + tlv(0x02, s.to_bytes(s.bit_length() // 8 + 1, "big"))
        + ed25519
        + name(issuer_cn)
        + tlv(0x30, utc(not_before) + utc(not_after))
        + name("bulk-%d.example" % s)
        + spki
        + exts)
    return tlv(0x30, tbs + ed25519 + tlv(0x03, b"\x00" + bytes(64)))
$$;
"""

_LOAD = """load = GD.get("x509_load")
    if load is None:
        from cryptography import x509
        last = [None, None]
        def load(der):
            if last[0] != der:
                last[1] = x509.load_der_x509_certificate(der)
                last[0] = der
            return last[1]
        GD["x509_load"] = load"""
FUNCTIONS_SQL = FUNCTIONS_SQL.replace("<<LOAD>>", _LOAD)

TABLES_SQL = r"""
CREATE TABLE ca (
    id serial,
    name text NOT NULL,
    public_key bytea NOT NULL,
    CONSTRAINT ca_pk PRIMARY KEY (id)
);
CREATE INDEX ca_name ON ca (lower(name) text_pattern_ops);
INSERT INTO ca (id, name, public_key) VALUES (-1, 'Issuer Not Found', '\x00');

CREATE TABLE certificate (
    id bigserial NOT NULL,
    issuer_ca_id integer NOT NULL REFERENCES ca (id),
    certificate bytea NOT NULL
) PARTITION BY RANGE (coalesce(x509_notAfter(certificate), 'infinity'::timestamp));
CREATE TABLE certificate_2020andbefore PARTITION OF certificate
    FOR VALUES FROM (MINVALUE) TO ('2021-01-01');
CREATE TABLE certificate_2021 PARTITION OF certificate FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
CREATE TABLE certificate_2022 PARTITION OF certificate FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
CREATE TABLE certificate_2023andbeyond PARTITION OF certificate
    FOR VALUES FROM ('2023-01-01') TO (MAXVALUE);

CREATE TABLE ca_certificate (
    certificate_id bigint,
    ca_id integer REFERENCES ca (id),
    CONSTRAINT cac_pk PRIMARY KEY (certificate_id)
);
CREATE INDEX cac_ca_c ON ca_certificate (ca_id, certificate_id);

CREATE TABLE crl (
    ca_id integer REFERENCES ca (id),
    this_update timestamp,
    next_update timestamp,
    last_checked timestamp,
    distribution_point_url text,
    error_message text,
    is_active boolean,
    CONSTRAINT crl_pk PRIMARY KEY (ca_id, distribution_point_url)
);

CREATE TABLE crl_revoked (
    ca_id integer REFERENCES ca (id),
    serial_number bytea,
    reason_code smallint,
    revocation_date timestamp,
    last_seen_check_date timestamp,
    CONSTRAINT crlr_pk PRIMARY KEY (ca_id, serial_number)
);
CREATE INDEX crlr_ca_revdate ON crl_revoked (ca_id, revocation_date);

CREATE TABLE ct_log (
    id integer,
    name text,
    url text,
    CONSTRAINT ctl_pk PRIMARY KEY (id)
);
INSERT INTO ct_log (id, name, url) VALUES (1, 'Example Log 2019', 'https://ct.example/2019/');

CREATE TABLE ct_log_entry (
    certificate_id bigint NOT NULL,
    entry_id bigint NOT NULL,
    entry_timestamp timestamp NOT NULL,
    ct_log_id integer NOT NULL REFERENCES ct_log (id)
) PARTITION BY RANGE (entry_timestamp);
DO $$
BEGIN
    FOR y IN 2013..2026 LOOP
        EXECUTE format('CREATE TABLE ct_log_entry_%s PARTITION OF ct_log_entry FOR VALUES FROM (%L) TO (%L)',
                       y, make_date(y, 1, 1), make_date(y + 1, 1, 1));
    END LOOP;
END $$;
CREATE INDEX ctle_c ON ct_log_entry (certificate_id);
CREATE INDEX ctle_t ON ct_log_entry (entry_timestamp);
"""


CERTIFICATE_INDEXES_SQL = """
CREATE INDEX c_id ON certificate (id);
CREATE INDEX c_serial ON certificate (x509_serialNumber(certificate));
CREATE INDEX c_spki_sha256 ON certificate (digest(x509_publicKey(certificate), 'sha256'));
CREATE INDEX c_ica_notbefore ON certificate (issuer_ca_id, x509_notBefore(certificate));
"""


def plpython_available() -> str | None:
    """None when PL/Python 3 is installed for the local PostgreSQL, else the reason it is not."""
    if not glob.glob("/usr/share/postgresql/*/extension/plpython3u.control"):
        return "PL/Python is not installed (Debian package postgresql-plpython3-NN)"
    if not any(os.path.isdir(p) for p in glob.glob("/usr/lib/python3/dist-packages/cryptography")):
        return "the server's Python has no cryptography (Debian package python3-cryptography)"
    return None


def create_crtsh_schema(conn, *, indexes: bool = True) -> None:
    """The functions and tables above in the connected (empty) database; needs a superuser.
    `indexes=False` leaves out the certificate indexes: build them after a bulk fill (faster)."""
    with conn.cursor() as cur:
        cur.execute(FUNCTIONS_SQL)
        cur.execute(TABLES_SQL)
        if indexes:
            cur.execute(CERTIFICATE_INDEXES_SQL)


def create_certificate_indexes(conn) -> None:
    """crt.sh's certificate indexes, then ANALYZE (the expression indexes' statistics need them)."""
    with conn.cursor() as cur:
        cur.execute(CERTIFICATE_INDEXES_SQL)
        cur.execute("ANALYZE")


def fill_bulk(conn, rows: int, *, cas: int = 20, first_ca_id: int = 100, keys: int | None = None) -> None:
    """`rows` generated certificates over `cas` CAs (ids first_ca_id...), with one CT entry each,
    a revocation for every 7th (every 91st as keyCompromise) and keys shared by a few certificates.

    Certificate n: issuer first_ca_id + n % cas, serial 2^62 + n, notBefore 2019-01-01 + n % 1460
    days, valid 398 days, key seed n % keys. All in SQL (generate_series), no Python loop. No
    ANALYZE here: `create_certificate_indexes` (or the caller) runs it once the indexes exist.
    """
    keys = keys or max(1, rows * 9 // 10)
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ca (id, name, public_key) SELECT %(f)s + g, 'C=XX, O=Bulk CA, CN=Bulk CA ' || g, "
            "decode(md5(g::text), 'hex') FROM generate_series(0, %(n)s - 1) g ON CONFLICT DO NOTHING",
            {"f": first_ca_id, "n": cas},
        )
        cur.execute(
            "INSERT INTO crl (ca_id, distribution_point_url, is_active) SELECT %(f)s + g, "
            "'http://crl.bulk.example/' || g || '.crl', true FROM generate_series(0, %(n)s - 1) g "
            "ON CONFLICT DO NOTHING",
            {"f": first_ca_id, "n": cas},
        )
        cur.execute(
            """
            INSERT INTO certificate (id, issuer_ca_id, certificate)
            SELECT 10000000 + n, %(f)s + n %% %(cas)s,
                   fake_certificate('Bulk CA ' || (n %% %(cas)s), (4611686018427387904 + n)::bigint,
                                    nb, nb + interval '398 days', n %% %(keys)s)
              FROM (SELECT n, timestamp '2019-01-01' + (n %% 1460) * interval '1 day' AS nb
                      FROM generate_series(1, %(rows)s) n) s
            """,
            {"f": first_ca_id, "cas": cas, "keys": keys, "rows": rows},
        )
        cur.execute(
            """
            INSERT INTO ct_log_entry (certificate_id, entry_id, entry_timestamp, ct_log_id)
            SELECT 10000000 + n, n, timestamp '2019-01-01' + (n %% 1460) * interval '1 day'
                   + interval '5 minutes', 1
              FROM generate_series(1, %(rows)s) n
            """,
            {"rows": rows},
        )
        cur.execute(
            """
            INSERT INTO crl_revoked (ca_id, serial_number, reason_code, revocation_date)
            SELECT %(f)s + n %% %(cas)s, int8send(4611686018427387904 + n),
                   CASE WHEN n %% 91 = 0 THEN 1 ELSE 4 END,
                   timestamp '2019-01-01' + (n %% 1460) * interval '1 day' + interval '30 days'
              FROM generate_series(7, %(rows)s, 7) n
            """,
            {"f": first_ca_id, "cas": cas, "rows": rows},
        )
