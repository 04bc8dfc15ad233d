"""One small hand-built case per row of design.md's key-reuse rules table.

Frames are built from plain rows so each case states its facts; expected values are worked out
from the rules by hand (comments give the reasoning).
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.keyreuse import find_key_reuse
from analysis.schema import coerce_certificates, coerce_compromised_keys, coerce_revocations

CA_A = "CN=Example CA A,O=Example Trust,C=US"
CA_A_CRTSH = "C=US, O=Example Trust, CN=Example CA A"  # the same name as crt.sh writes it
CA_B = "CN=Example CA B,O=Example Trust,C=US"
K1, K2, K3 = "a" * 64, "b" * 64, "c" * 64
AS_OF = "2030-01-01T00:00:00Z"


def cert(
    issuer=CA_A,
    serial="1",
    spki=K1,
    nb="2019-01-01T00:00:00Z",
    na="2019-12-31T00:00:00Z",
    precert=False,
    sha=None,
    first_seen=None,
    sct=None,
):
    return {
        "cert_sha256": sha or f"{issuer}|{serial}|{spki}|{precert}",
        "spki_sha256": spki,
        "issuer_dn": issuer,
        "serial": serial,
        "subject_dn": "CN=www.example.test",
        "subject_cn": "www.example.test",
        "san_dns": ["www.example.test"],
        "not_before": nb,
        "not_after": na,
        "is_precert": precert,
        "is_ca": False,
        "key_type": "EC-P256",
        "crtsh_id": None,
        "first_seen": first_seen,
        "source": "test",
        "sct_time": sct,
    }


def rev(issuer=CA_A, serial="1", at="2019-06-01T00:00:00Z", code=1, source="crl:test.crl"):
    names = {0: "unspecified", 1: "keyCompromise", 4: "superseded", 6: "certificateHold", 8: "removeFromCRL"}
    return {
        "issuer_dn": issuer,
        "serial": serial,
        "revoked_at": at,
        "reason": names[code],
        "reason_code": code,
        "source": source,
    }


def run(certs, revs=(), comp=(), **kw):
    kw.setdefault("as_of", AS_OF)
    c = coerce_certificates(pd.DataFrame(certs))
    r = coerce_revocations(pd.DataFrame(list(revs))) if revs else None
    k = coerce_compromised_keys(pd.DataFrame(list(comp))) if comp else None
    return find_key_reuse(c, r, k, **kw)


def test_certificate_entries_count_duplicates_and_distinct():
    # A chain file (leaf + intermediate) and the leaf again: 3 entries, 2 distinct certificates.
    leaf = cert(sha="1" * 64)
    inter = cert(serial="99", spki=K2, sha="2" * 64, issuer=CA_B)
    f = run([leaf, inter, dict(leaf)])
    assert f.summary["certificate_entries"] == 3
    assert f.summary["distinct_certificates"] == 2
    assert f.summary["issuances"] == 2  # the duplicate leaf is the same issuance


def test_precert_and_final_are_one_issuance():
    f = run([cert(precert=True, sha="p" * 64), cert(sha="f" * 64)])
    assert f.summary["issuances"] == 1
    row = f.issuances.iloc[0]
    assert row["precert_sha256"] == "p" * 64
    assert row["cert_sha256"] == "f" * 64


def test_same_serial_two_keys_is_two_issuances_and_a_warning():
    f = run([cert(spki=K1), cert(spki=K2)])
    assert f.summary["issuances"] == 2
    assert any(n.startswith("serial_reuse") and "serial 1" in n for n in f.notes)


def test_issue_time_earliest_sct_over_not_before():
    # not_before 10:00, SCTs at 10:02 and 10:03 (the loader keeps the earliest) -> 10:02.
    f = run([cert(nb="2019-03-01T10:00:00Z", sct="2019-03-01T10:02:00Z")])
    assert f.issuances.iloc[0]["issued_at"] == pd.Timestamp("2019-03-01T10:02:00Z")


def test_issue_time_first_seen_when_earlier_than_sct():
    f = run([cert(nb="2019-03-01T10:00:00Z", sct="2019-03-01T10:02:00Z", first_seen="2019-03-01T10:01:00Z")])
    assert f.issuances.iloc[0]["issued_at"] == pd.Timestamp("2019-03-01T10:01:00Z")


def test_issue_time_precert_sct_is_ignored_only_final_counts():
    # An SCT on a precertificate row is not "embedded in the final certificate": not_before stands.
    f = run([cert(nb="2019-03-01T10:00:00Z", precert=True, sct="2019-03-01T09:00:00Z")])
    assert f.issuances.iloc[0]["issued_at"] == pd.Timestamp("2019-03-01T10:00:00Z")


def test_revocation_attaches_by_issuer_and_serial_only():
    # CA A revokes serial 5 for keyCompromise; CA B's serial 5 (another key) stays untouched.
    certs = [cert(issuer=CA_A, serial="5", spki=K1), cert(issuer=CA_B, serial="5", spki=K2)]
    f = run(certs, [rev(issuer=CA_A, serial="5")])
    iss = f.issuances.set_index("spki_sha256")
    assert iss.loc[K1, "revocation_reason"] == "keyCompromise"
    assert pd.isna(iss.loc[K2, "revoked_at"])
    assert f.summary["compromised_keys"] == 1


def test_revocation_attaches_across_dn_spellings():
    # The CRL names the issuer as crt.sh does; the join is on the parsed name, not the string.
    f = run([cert(serial="5")], [rev(issuer=CA_A_CRTSH, serial="5")])
    assert f.summary["compromised_keys"] == 1


def test_key_compromise_wins_over_other_snapshot_with_its_date():
    # Snapshot 1 says superseded (earlier), snapshot 2 keyCompromise -> keyCompromise at its own date.
    f = run(
        [cert()],
        [rev(at="2019-05-01T00:00:00Z", code=4), rev(at="2019-06-01T00:00:00Z", code=1)],
    )
    row = f.issuances.iloc[0]
    assert row["revocation_reason"] == "keyCompromise"
    assert row["revoked_at"] == pd.Timestamp("2019-06-01T00:00:00Z")


def test_earliest_key_compromise_date_of_several():
    f = run([cert()], [rev(at="2019-07-01T00:00:00Z"), rev(at="2019-06-01T00:00:00Z")])
    assert f.issuances.iloc[0]["revoked_at"] == pd.Timestamp("2019-06-01T00:00:00Z")


def test_certificate_hold_then_remove_is_not_a_revocation():
    f = run([cert()], [rev(at="2019-05-01T00:00:00Z", code=6), rev(at="2019-05-03T00:00:00Z", code=8)])
    assert pd.isna(f.issuances.iloc[0]["revoked_at"])
    assert f.summary["compromised_keys"] == 0


def test_compromise_time_from_key_compromise_revocation():
    # Revoked keyCompromise 2018-12-24 16:00Z -> compromised_at 2018-12-24T16:00:00+00:00.
    f = run(
        [cert(nb="2018-06-01T00:00:00Z", na="2019-06-01T00:00:00Z")],
        [rev(at="2018-12-24T16:00:00Z")],
    )
    key = f.to_dict()["keys"][0]
    assert key["compromised_at"] == "2018-12-24T16:00:00+00:00"
    assert key["compromise_source"] == f"crl:test.crl#{CA_A} serial 1"


def test_compromise_time_earlier_dated_list_entry_wins():
    f = run(
        [cert(nb="2018-06-01T00:00:00Z", na="2019-06-01T00:00:00Z")],
        [rev(at="2018-12-24T16:00:00Z")],
        [{"spki_sha256": K1, "reported_at": "2018-11-01T00:00:00Z", "source": "list:keys.csv line 2"}],
    )
    assert f.to_dict()["keys"][0]["compromised_at"] == "2018-11-01T00:00:00+00:00"


def test_listed_key_without_certificates_is_reported_apart():
    f = run([cert(spki=K1)], comp=[{"spki_sha256": K3, "reported_at": None, "source": "key:x.pem"}])
    assert f.summary["compromised_keys"] == 0
    assert f.listed_keys_without_certificates == [K3]


def test_violation_same_issuer_before_br_rule():
    # Compromise 2018-12-24 (CA A revokes serial 1), CA A reissues 2019-03-01 -> violation.
    certs = [
        cert(serial="1", nb="2018-06-01T00:00:00Z", na="2019-06-01T00:00:00Z"),
        cert(serial="2", nb="2019-03-01T00:00:00Z", na="2019-09-01T00:00:00Z"),
    ]
    f = run(certs, [rev(serial="1", at="2018-12-24T16:00:00Z")])
    assert f.summary["violating_issuances"] == 1
    assert f.summary["reused_compromised_keys"] == 1
    v = f.to_dict()["violations"][0]
    assert v["serial"] == "2"
    assert v["same_issuer"] is True
    assert v["before_br_6_1_1_3_4"] is True
    assert v["compromised_at"] == "2018-12-24T16:00:00+00:00"


def test_issuance_at_exactly_the_compromise_time_is_not_a_violation():
    certs = [
        cert(serial="1", nb="2018-06-01T00:00:00Z", na="2019-06-01T00:00:00Z"),
        cert(serial="2", nb="2018-12-24T16:00:00Z", na="2019-09-01T00:00:00Z"),
    ]
    f = run(
        certs,
        [rev(serial="1", at="2018-12-24T16:00:00Z"), rev(serial="2", at="2018-12-24T17:00:00Z", code=4)],
    )
    assert f.summary["violating_issuances"] == 0
    assert f.summary["issuances_with_compromised_keys"] == 2


def test_compromise_from_second_issuer_and_scope_issuer():
    # CA B revoked its certificate on K1 for keyCompromise; CA A then issued on K1 (after 2020-10-19).
    certs = [
        cert(issuer=CA_B, serial="7", nb="2021-01-01T00:00:00Z", na="2021-12-01T00:00:00Z"),
        cert(issuer=CA_A, serial="8", nb="2021-05-01T00:00:00Z", na="2021-08-01T00:00:00Z"),
    ]
    revs = [
        rev(issuer=CA_B, serial="7", at="2021-02-01T00:00:00Z"),
        rev(issuer=CA_A, serial="8", at="2021-05-01T12:00:00Z", code=4),
    ]
    f = run(certs, revs)
    assert f.summary["violating_issuances"] == 1
    v = f.to_dict()["violations"][0]
    assert v["same_issuer"] is False
    assert v["before_br_6_1_1_3_4"] is False
    f2 = run(certs, revs, scope="issuer")
    assert f2.summary["violating_issuances"] == 0
    assert f2.summary["reused_compromised_keys"] == 0


def test_revocation_delay_36_hours():
    # Two certificates on K1, both valid at the compromise (serial 1 revoked keyCompromise at
    # 2019-06-01T00:00Z); serial 2 revoked 36 h later -> a delay of 36 h (12 h past the 24 h).
    certs = [cert(serial="1"), cert(serial="2")]
    revs = [rev(serial="1", at="2019-06-01T00:00:00Z"), rev(serial="2", at="2019-06-02T12:00:00Z", code=4)]
    f = run(certs, revs)
    d = f.to_dict()["revocation_delays"]
    assert len(d) == 1
    assert d[0]["serial"] == "2"
    assert d[0]["hours_after_compromise"] == 36.0
    assert f.summary["revocation_delays"] == 1


def test_revocation_within_24_hours_is_not_a_delay():
    revs = [rev(serial="1", at="2019-06-01T00:00:00Z"), rev(serial="2", at="2019-06-01T20:00:00Z", code=4)]
    assert run([cert(serial="1"), cert(serial="2")], revs).summary["revocation_delays"] == 0


def test_expiring_within_24_hours_unrevoked_is_not_a_delay():
    certs = [cert(serial="1"), cert(serial="2", nb="2018-06-01T00:00:00Z", na="2019-06-01T10:00:00Z")]
    f = run(certs, [rev(serial="1", at="2019-06-01T00:00:00Z")])
    assert f.summary["revocation_delays"] == 0
    assert f.summary["remaining_valid"] == 0


def test_unrevoked_and_still_valid_is_a_delay_and_remaining_valid():
    certs = [cert(serial="1"), cert(serial="2", na="2031-01-01T00:00:00Z")]
    f = run(certs, [rev(serial="1", at="2019-06-01T00:00:00Z")])
    d = f.to_dict()["revocation_delays"]
    assert [x["serial"] for x in d] == ["2"]
    assert d[0]["revoked_at"] is None and d[0]["hours_after_compromise"] is None
    assert f.summary["remaining_valid"] == 1  # as of 2030-01-01 it is neither revoked nor expired


def test_violation_judged_for_delay_from_its_own_issue_time():
    # Violation issued 2019-08-01, revoked 2019-08-03 (48 h) -> a delay measured from its issue.
    certs = [cert(serial="1"), cert(serial="2", nb="2019-08-01T00:00:00Z", na="2020-08-01T00:00:00Z")]
    revs = [rev(serial="1", at="2019-06-01T00:00:00Z"), rev(serial="2", at="2019-08-03T00:00:00Z")]
    d = run(certs, revs).to_dict()["revocation_delays"]
    assert [(x["serial"], x["hours_after_compromise"], x["compromised_at"]) for x in d] == [
        ("2", 48.0, "2019-08-01T00:00:00+00:00")
    ]


def test_remaining_valid_depends_on_as_of():
    certs = [cert(serial="1"), cert(serial="2", nb="2019-08-01T00:00:00Z", na="2020-08-01T00:00:00Z")]
    revs = [rev(serial="1", at="2019-06-01T00:00:00Z")]
    assert run(certs, revs, as_of="2020-01-01T00:00:00Z").summary["remaining_valid"] == 1
    assert run(certs, revs, as_of="2020-09-01T00:00:00Z").summary["remaining_valid"] == 0


def test_undated_key_file_makes_every_issuance_a_violation():
    certs = [cert(serial="1"), cert(serial="2", issuer=CA_B), cert(serial="3", spki=K2)]
    f = run(certs, comp=[{"spki_sha256": K1, "reported_at": None, "source": "key:leaked.pem"}])
    assert f.summary["compromised_keys"] == 1
    assert f.summary["violating_issuances"] == 2
    assert f.summary["reused_compromised_keys"] == 1
    assert all(v["compromised_at"] is None for v in f.to_dict()["violations"])
    assert any("before any issuance" in n for n in f.notes)


def test_notes_carry_the_caveat_once_and_coverage():
    f = run([cert()])
    notes = f.to_dict()["notes"]
    assert sum("lead for review" in n for n in notes) == 1
    assert any("No revocation data was loaded" in n for n in notes)


def test_bad_scope_is_rejected():
    with pytest.raises(ValueError):
        run([cert()], scope="everyone")


def test_no_certificates_gives_zero_figures_not_an_error():
    from analysis.schema import empty_certificates

    f = find_key_reuse(empty_certificates(), as_of=AS_OF)
    assert set(f.summary.values()) == {0}
    d = f.to_dict()
    assert d["keys"] == [] and d["violations"] == []
