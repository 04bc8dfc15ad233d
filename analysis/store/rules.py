"""design.md's key-reuse rules as SQL, written once (DuckDB's dialect) and translated for Spark.

The pandas path (analysis/keyreuse.py) and this SQL implement the same rules table; a differential
test (tests/test_store_differential.py) runs both on every scenario and requires identical output.

The engines expose three relations with times as BIGINT microseconds since the epoch (portable
arithmetic; see engine.py):
  certs(cert_sha256, spki_sha256, issuer_dn, issuer_key, serial, nb, na, is_precert, is_ca,
        key_type, crtsh_id, fs, sct, source, seq, dup)
  revs(issuer_dn, issuer_key, serial, revoked_at, reason, reason_code, source, seq)
  comp(spki_sha256, reported_at, source, seq)
`revs.issuer_key` is already resolved (bare CNs included); unresolved rows are not in it.

"First" in the pandas code means the first row in frame order; here that order is spelled out:
a certificate's position `cpos` puts final certificates before precertificates, then reading
order (`seq`), and an issuance's position `opos` puts single-entry issuances before grouped ones
(the pandas frame concatenates them in that order).
"""

from __future__ import annotations

from functools import cache

HOUR_US = 3_600_000_000
DEADLINE_US = 24 * HOUR_US  # BR 4.9.1.1: 24 hours
BR_6_1_1_3_4_US = 1603065600000000  # 2020-10-19T00:00:00Z
PRECERT_BIT = 1 << 50  # cpos: precertificates after every final certificate
MULTI_BIT = 1 << 51  # opos: grouped issuances after every single-entry one


def _first(col: str, order: str, when: str = "TRUE") -> str:
    """The pandas `first` (first non-null value in frame order) as an aggregate."""
    return f"MIN_BY({col}, CASE WHEN {col} IS NOT NULL AND {when} THEN {order} END)"


# --- rule: issuance (one row per issuer, serial, SPKI; precert + final merged) ------------------

ISSUANCES = f"""
c AS (
  SELECT issuer_key, serial, spki_sha256, issuer_dn, key_type, crtsh_id, seq,
         is_precert, nb, na, is_ca, fs, dup,
         CASE WHEN is_precert THEN {PRECERT_BIT} + seq ELSE seq END AS cpos,
         CASE WHEN is_precert THEN NULL ELSE sct END AS sct_final
  FROM {{certs}}
),
iss0 AS (
  SELECT issuer_key, serial, spki_sha256,
         {_first("issuer_dn", "cpos")} AS issuer_dn,
         {_first("key_type", "cpos")} AS key_type,
         -- the first final certificate and the first precertificate, by position: their hashes
         -- are looked up afterwards for the few issuances that need a crt.sh link
         MIN(CASE WHEN NOT is_precert THEN seq END) AS final_seq,
         MIN(CASE WHEN is_precert THEN seq END) AS precert_seq,
         {_first("crtsh_id", "cpos")} AS crtsh_id,
         MIN(nb) AS nb, MAX(na) AS na, BOOL_OR(is_ca) AS is_ca,
         MIN(fs) AS fs, MIN(sct_final) AS sct, COUNT(*) AS entries,
         SUM(CASE WHEN dup THEN 0 ELSE 1 END) AS distinct_certs,
         MIN(cpos) AS first_cpos
  FROM c
  GROUP BY issuer_key, serial, spki_sha256
),
iss1 AS (
  SELECT iss0.*,
         COALESCE(LEAST(fs, sct), nb) AS issued_at,
         CASE WHEN entries > 1 THEN {MULTI_BIT} ELSE 0 END + first_cpos AS opos
  FROM iss0
)"""

# --- rules: revocation attaches (issuer, serial), revocation date -----------------------------

EFFECTIVE_REVOCATIONS = """
eff AS (
  SELECT issuer_key, serial, revoked_at, reason AS revocation_reason, reason_code,
         source AS revocation_source
  FROM (
    SELECT r.*, ROW_NUMBER() OVER (
             PARTITION BY issuer_key, serial
             ORDER BY CASE WHEN reason_code = 1 THEN 0 ELSE 1 END, revoked_at NULLS LAST, seq) AS rn
    FROM {revs} r
    -- certificateHold is not a revocation; removeFromCRL cancels a hold
    WHERE COALESCE(reason_code NOT IN (6, 8), TRUE)
  ) ranked
  WHERE rn = 1
)"""

# --- rules: compromise time, violation, revocation delay, remaining valid ---------------------

ATTACHED = """
SELECT i.*, e.revoked_at, e.revocation_reason, e.reason_code, e.revocation_source,
       COALESCE(e.reason_code = 1, FALSE) AS is_kc
FROM iss1 i LEFT JOIN eff e ON i.issuer_key = e.issuer_key AND i.serial = e.serial"""

RULES = """
kc AS (
  SELECT spki_sha256, issuer_key, revoked_at, opos,
         revocation_source || '#' || issuer_dn || ' serial ' || serial AS kc_source
  FROM iss WHERE is_kc
),
kc_first AS (
  SELECT spki_sha256, revoked_at AS kc_at, kc_source FROM (
    SELECT kc.*, ROW_NUMBER() OVER (PARTITION BY spki_sha256 ORDER BY revoked_at NULLS LAST, opos) AS rn
    FROM kc) t
  WHERE rn = 1
),
kc_issuer AS (
  SELECT spki_sha256, issuer_key, revoked_at AS issuer_compromised_at, kc_source AS issuer_kc_source FROM (
    SELECT kc.*, ROW_NUMBER() OVER (
             PARTITION BY spki_sha256, issuer_key ORDER BY revoked_at NULLS LAST, opos) AS rn
    FROM kc) t
  WHERE rn = 1
),
dated AS (
  SELECT spki_sha256, reported_at, source FROM (
    SELECT comp.*, ROW_NUMBER() OVER (PARTITION BY spki_sha256 ORDER BY reported_at, seq) AS rn
    FROM comp WHERE reported_at IS NOT NULL) t
  WHERE rn = 1
),
undated AS (
  SELECT spki_sha256, source FROM (
    SELECT comp.*, ROW_NUMBER() OVER (PARTITION BY spki_sha256 ORDER BY seq) AS rn
    FROM comp WHERE reported_at IS NULL) t
  WHERE rn = 1
),
listed AS (
  SELECT spki_sha256 FROM kc_first UNION SELECT spki_sha256 FROM dated UNION SELECT spki_sha256 FROM undated
),
keyc AS (
  SELECT l.spki_sha256,
         u.spki_sha256 IS NOT NULL AS undated,
         d.spki_sha256 IS NOT NULL AND (k.kc_at IS NULL OR d.reported_at < k.kc_at) AS dated_wins,
         k.kc_at, k.kc_source, d.reported_at, d.source AS dated_source, u.source AS undated_source
  FROM listed l
  LEFT JOIN kc_first k ON l.spki_sha256 = k.spki_sha256
  LEFT JOIN dated d ON l.spki_sha256 = d.spki_sha256
  LEFT JOIN undated u ON l.spki_sha256 = u.spki_sha256
),
f AS (
  SELECT iss.*,
         CASE WHEN kk.undated THEN NULL WHEN kk.dated_wins THEN kk.reported_at ELSE kk.kc_at END
           AS compromised_at,
         CASE WHEN kk.undated THEN kk.undated_source WHEN kk.dated_wins THEN kk.dated_source
              ELSE kk.kc_source END AS compromise_source,
         COALESCE(kk.undated, FALSE) AS compromise_undated,
         ki.issuer_compromised_at, ki.issuer_kc_source
  FROM iss
  LEFT JOIN keyc kk ON iss.spki_sha256 = kk.spki_sha256
  LEFT JOIN kc_issuer ki ON iss.spki_sha256 = ki.spki_sha256 AND iss.issuer_key = ki.issuer_key
),
g AS (
  SELECT f.*,
         compromised_at IS NOT NULL OR compromise_undated AS key_compromised,
         COALESCE(issued_at > issuer_compromised_at, FALSE) AS same_issuer,
         issued_at < {br} AS before_br_6_1_1_3_4
  FROM f
),
v AS (
  SELECT g.*,
         CASE WHEN {global_scope}
              THEN compromise_undated OR COALESCE(issued_at > compromised_at, FALSE)
              ELSE same_issuer END AS violation
  FROM g
),
w AS (
  SELECT v.*,
         CASE WHEN {global_scope} THEN compromised_at ELSE issuer_compromised_at END AS violation_compromised_at,
         CASE WHEN {global_scope} THEN compromise_source ELSE issuer_kc_source END AS violation_source,
         CASE WHEN violation THEN issued_at ELSE compromised_at END AS delay_reference,
         COALESCE(is_kc AND revoked_at = compromised_at, FALSE) AS sets_time
  FROM v
),
x AS (
  SELECT w.*,
         key_compromised AND NOT sets_time
           AND COALESCE(nb <= delay_reference AND delay_reference <= na, FALSE)
           AND (revoked_at IS NULL OR COALESCE(revoked_at >= delay_reference, FALSE))
           AND (COALESCE(revoked_at > delay_reference + {deadline}, FALSE)
                OR (revoked_at IS NULL AND COALESCE(na > delay_reference + {deadline}, FALSE)
                    AND COALESCE({now} >= delay_reference + {deadline}, FALSE))) AS revocation_delay,
         key_compromised AND NOT COALESCE(revoked_at <= {now}, FALSE)
           AND COALESCE(na > {now}, FALSE) AND COALESCE(nb <= {now}, FALSE) AS remaining_valid
  FROM w
)"""

# Columns of a flagged issuance, as the pandas `Findings.issuances` frame names them.
FLAGGED_COLUMNS = """
  issuer_key, issuer_dn, serial, spki_sha256, key_type, final_seq, precert_seq, nb AS not_before,
  na AS not_after, is_ca, crtsh_id, issued_at, entries, opos, revoked_at, revocation_reason,
  reason_code, revocation_source, is_kc, compromised_at, compromise_source, compromise_undated,
  key_compromised, issuer_compromised_at, issuer_kc_source, same_issuer, violation,
  violation_compromised_at, violation_source, before_br_6_1_1_3_4, revocation_delay, delay_reference,
  CASE WHEN revocation_delay THEN CAST(revoked_at - delay_reference AS DOUBLE) / 1000000.0 / 3600.0 END
    AS hours_after_compromise,
  remaining_valid"""


def effective_revocations(revs: str = "revs") -> str:
    """The `eff` CTE over `revs` (any subset closed under (issuer_key, serial) gives the same rows
    for its pairs: the ranking is per pair)."""
    return EFFECTIVE_REVOCATIONS.format(revs=revs)


def attached_issuances(certs: str, revs: str = "revs") -> str:
    """Issuances of `certs` with their effective revocation: the engine materializes this as `iss`
    (the rules below read it several times; Spark would otherwise recompute it for each)."""
    return f"WITH {ISSUANCES.format(certs=certs)},{effective_revocations(revs)}{ATTACHED}"


def flagged_issuances(iss: str, *, now_us: int, scope: str) -> str:
    """Every issuance of `iss` (see `attached_issuances`) with the rules' columns."""
    body = RULES.format(
        br=BR_6_1_1_3_4_US,
        deadline=DEADLINE_US,
        now=int(now_us),
        global_scope="TRUE" if scope == "global" else "FALSE",
    )
    return f"WITH iss AS (SELECT * FROM {iss}),{body}\nSELECT {FLAGGED_COLUMNS} FROM x ORDER BY opos"


# Which keys can be compromised at all: a certificate whose (issuer, serial) has an effective
# keyCompromise revocation, or a listed key. A probe over the certificates, no grouping.
CANDIDATE_KEYS = f"""
WITH {effective_revocations().strip()}
SELECT DISTINCT c.spki_sha256 FROM certs c
JOIN eff e ON c.issuer_key = e.issuer_key AND c.serial = e.serial
WHERE e.reason_code = 1
UNION
SELECT DISTINCT c.spki_sha256 FROM (SELECT DISTINCT spki_sha256 FROM comp) l
JOIN certs c ON c.spki_sha256 = l.spki_sha256
"""

# Listed keys; those not among the candidate keys have no certificate (every listed key that has
# one is a candidate).
LISTED_KEYS = "SELECT DISTINCT spki_sha256 FROM comp"


# Per issuance, numbers only (string aggregates make a grouping slow): entries, distinct
# certificates, CA flag and position `opos`. The names at those positions are looked up afterwards
# by `seq`.
def issuance_numbers(certs: str) -> str:
    return f"""
SELECT issuer_key, serial, spki_sha256, entries, distinct_certs, is_ca,
       CASE WHEN entries > 1 THEN {MULTI_BIT} ELSE 0 END + first_cpos AS opos
FROM (
  SELECT issuer_key, serial, spki_sha256, COUNT(*) AS entries,
         SUM(CASE WHEN dup THEN 0 ELSE 1 END) AS distinct_certs,
         MIN(CASE WHEN is_precert THEN {PRECERT_BIT} + seq ELSE seq END) AS first_cpos,
         BOOL_OR(is_ca) AS is_ca
  FROM {certs} GROUP BY issuer_key, serial, spki_sha256
) g"""


# Per issuer, from issuances (`issuance_numbers`): the counts for the summary and the position of its
# first issuance (leaf issuances first) for the coverage notes. Sums and minimums, so the figures of
# disjoint sets of keys add up (engine.py runs it per partition).
def issuer_figures(issuances: str) -> str:
    return f"""
SELECT issuer_key, MIN(opos) AS first_opos, MIN(CASE WHEN NOT is_ca THEN opos END) AS first_leaf_opos,
       COUNT(*) AS issuances, SUM(entries) AS entries, SUM(distinct_certs) AS distinct_certs
FROM {issuances} GROUP BY issuer_key"""


# The same in one pass over the whole store, with each issuer's serials on more than one key
# (serial_reuse): certificates -> issuances -> (issuer, serial) -> issuer.
ISSUER_FIGURES = f"""
WITH o AS ({issuance_numbers("certs")}
), p AS (
  SELECT issuer_key, serial, COUNT(*) AS issuances, MIN(opos) AS first_opos,
         MIN(CASE WHEN NOT is_ca THEN opos END) AS first_leaf_opos,
         SUM(entries) AS entries, SUM(distinct_certs) AS distinct_certs
  FROM o GROUP BY issuer_key, serial
)
SELECT issuer_key, MIN(first_opos) AS first_opos, MIN(first_leaf_opos) AS first_leaf_opos,
       SUM(issuances) AS issuances, SUM(entries) AS entries, SUM(distinct_certs) AS distinct_certs,
       -- serial_reuse: the same (issuer, serial) on more than one key
       LIST(serial) FILTER (WHERE issuances > 1) AS reused_serials
FROM p GROUP BY issuer_key
"""

# The (issuer, serial) pairs whose effective revocation is keyCompromise: its keys are candidates.
KC_PAIRS = f"""
WITH {effective_revocations().strip()}
SELECT issuer_key, serial FROM eff WHERE reason_code = 1"""


# Candidate keys among issuances (`issuance_numbers`), by the same two tests as CANDIDATE_KEYS.
def candidate_keys_of(issuances: str) -> str:
    return f"""
SELECT DISTINCT i.spki_sha256 FROM kc_pairs k
JOIN {issuances} i ON i.issuer_key = k.issuer_key AND i.serial = k.serial
UNION
SELECT DISTINCT i.spki_sha256 FROM listed_keys l JOIN {issuances} i ON i.spki_sha256 = l.spki_sha256"""


def seq_of(opos: int) -> int:
    """The `seq` of the certificate at an issuance's position (opos -> cpos -> seq)."""
    return int(opos) % MULTI_BIT % PRECERT_BIT


DISTINCT_KEYS = "SELECT COUNT(DISTINCT spki_sha256) AS n FROM certs"

# The columns the rules read (not the certificate hash: see engine._add_certificate_hashes), and
# the certificates of the candidate keys.
RULE_COLUMNS = (
    "spki_sha256, issuer_dn, issuer_key, serial, nb, na, is_precert, is_ca, key_type, "
    "crtsh_id, fs, sct, seq, dup"
)


# A join with the small table first: DuckDB plans `IN (subquery)` here several times slower.
def candidate_certs(cand: str = "cand", certs: str = "certs", extra: str = "") -> str:
    """The certificates of the keys in `cand` (`extra`: more columns, e.g. the hash)."""
    cols = RULE_COLUMNS + (f", {extra}" if extra else "")
    return f"SELECT c.* FROM {cand} k JOIN (SELECT {cols} FROM {certs}) c ON c.spki_sha256 = k.spki_sha256"


CANDIDATE_CERTS = candidate_certs()


def hashes_by_seq(certs: str = "certs") -> str:
    return f"SELECT c.seq, c.cert_sha256 FROM hash_seq h JOIN {certs} c ON c.seq = h.seq"


def issuances_of(certs: str) -> str:
    """The issuances of `certs` in frame order (for serial_reuse warnings on the few reused pairs)."""
    return f"WITH {ISSUANCES.format(certs=certs)}\nSELECT issuer_key, serial, spki_sha256, issuer_dn, opos FROM iss1"


# The keys table for keys without any compromise (the compromised ones come from the flagged rows).
def plain_keys(certs: str, compromised: str) -> str:
    return (
        f"WITH {ISSUANCES.format(certs=certs)}\n"
        "SELECT spki_sha256, "
        f"{_first('key_type', 'opos')} AS key_type, COUNT(*) AS issuances, "
        "MIN(issued_at) AS first_issued, MAX(issued_at) AS last_issued, "
        "LIST(DISTINCT issuer_dn) AS issuers "
        f"FROM iss1 WHERE spki_sha256 NOT IN (SELECT spki_sha256 FROM {compromised}) "
        "GROUP BY spki_sha256 ORDER BY issuances DESC, spki_sha256"
    )


@cache
def to_spark(sql: str) -> str:
    """The same statement in Spark SQL (sqlglot), e.g. LIST -> COLLECT_LIST."""
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]
