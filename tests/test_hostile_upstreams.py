"""Hostile upstreams end cleanly (issue 13): a total deadline per download, size caps with
streaming decompression, credentials kept to their origin, confined output paths, endless
pagination stopped, pwnedkeys junk refused and never cached. Against the misbehaving servers on
127.0.0.1 in upstream_server.py; expected outcomes worked out from those servers' behaviours."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from analysis.cli import main
from analysis.errors import UpstreamError
from analysis.sources import bugzilla, http, pwnedkeys
from analysis.sources.http import MiB, UpstreamProblem, expect_json

try:
    from upstream_server import (  # noqa: F401
        BUG_EVIL,
        BUG_MAIN,
        BUG_REDIRECT_AWAY,
        BUG_REDIRECT_HOME,
        CA_KEY,
        CA_NAME,
        ENDLESS_BASE,
        FORGED_KEY,
        JUNK_BODIES,
        OTHER_KEY,
        SPKI_FORGED,
        SPKI_REUSED,
        _key,
        make_session,
        spki_sha256,
        upstream,
        upstream_server,
    )
except ImportError:  # tests/ imported as a package
    from tests.upstream_server import (  # noqa: F401
        BUG_EVIL,
        BUG_MAIN,
        BUG_REDIRECT_AWAY,
        BUG_REDIRECT_HOME,
        CA_KEY,
        CA_NAME,
        ENDLESS_BASE,
        FORGED_KEY,
        JUNK_BODIES,
        OTHER_KEY,
        SPKI_FORGED,
        SPKI_REUSED,
        _key,
        make_session,
        spki_sha256,
        upstream,
        upstream_server,
    )

SECRET = "api-key-0123456789abcdef"


def crtsh(session, upstream, name):
    return session.get(upstream.crtsh_url + "/", params={"q": name, "output": "json"}, validate=expect_json)


def cached_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- one total deadline ---------------------------------------------------------------------------


def test_drip_is_cut_at_the_deadline(upstream, tmp_path):
    # 2,000 bytes a byte every 0.1 s would take 200 s; each byte restarts a 5 s read timeout, so
    # only the 1.5 s deadline ends it, and the deadline is not retried.
    session = make_session(upstream, tmp_path, timeout=(2.0, 5.0), deadline=1.5)
    started = time.monotonic()
    with pytest.raises(UpstreamError) as err:
        crtsh(session, upstream, "drip.example")
    assert time.monotonic() - started < 4.0
    assert "deadline of 1.5 s passed" in str(err.value)
    assert upstream.count("crtsh", q="drip.example") == 1
    assert cached_files(tmp_path) == []


def test_header_drip_is_cut_at_the_deadline(upstream, tmp_path):
    # The status line comes at once, then one header byte every 0.1 s: the read timeout (5 s)
    # never fires, the deadline's watchdog cuts the connection at 1.5 s.
    session = make_session(upstream, tmp_path, timeout=(2.0, 5.0), deadline=1.5)
    started = time.monotonic()
    with pytest.raises(UpstreamError) as err:
        crtsh(session, upstream, "headerdrip.example")
    assert time.monotonic() - started < 4.0
    assert "deadline of 1.5 s passed" in str(err.value)
    assert upstream.count("crtsh", q="headerdrip.example") == 1


def test_silence_is_cut_at_the_deadline(upstream, tmp_path):
    session = make_session(upstream, tmp_path, timeout=(2.0, 30.0), deadline=1.0)
    started = time.monotonic()
    with pytest.raises(UpstreamError) as err:
        crtsh(session, upstream, "silent.example")
    assert time.monotonic() - started < 3.0
    assert "timed out" in str(err.value) or "deadline" in str(err.value)


def test_backoff_waits_count_against_the_deadline(upstream, tmp_path):
    # down.example always answers 503; backoff waits of 1 s then 2 s (fake clock) would make 3 s,
    # past a 2.5 s deadline: the second retry is not made.
    session = make_session(upstream, tmp_path, retries=4, deadline=2.5)
    with pytest.raises(UpstreamError) as err:
        crtsh(session, upstream, "down.example")
    assert upstream.count("crtsh", q="down.example") == 2
    assert "no time left for a retry" in str(err.value)


# --- size caps and decompression ------------------------------------------------------------------


def test_gzip_bomb_stops_at_the_cap(upstream, tmp_path):
    # 64 MiB of JSON whitespace in ~64 KB of gzip; the cap for searches is set to 4 MiB.
    session = make_session(upstream, tmp_path / "cache", max_bytes={"search": 4 * MiB}, timeout=(2.0, 10.0))
    with pytest.raises(UpstreamError) as err:
        crtsh(session, upstream, "bomb.example")
    assert "larger than 4 MiB after decompression" in str(err.value)
    assert upstream.count("crtsh", q="bomb.example") == 1  # not retried
    assert cached_files(tmp_path / "cache") == []


def test_gzip_answer_is_decoded(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    answer = crtsh(session, upstream, "gzip.example")
    # the rows for every fixture certificate whose name ends in example.test: all four
    assert len(answer.json()) == 4


def test_huge_content_length_refused_before_reading(upstream, tmp_path):
    session = make_session(upstream, tmp_path / "cache")
    with pytest.raises(UpstreamError) as err:
        crtsh(session, upstream, "huge.example")
    assert "answer of 10000000000 bytes refused (limit 128 MiB)" in str(err.value)
    assert upstream.count("crtsh", q="huge.example") == 1
    assert cached_files(tmp_path / "cache") == []


def test_deeply_nested_json_answer_is_an_upstream_failure(upstream, tmp_path):
    session = make_session(upstream, tmp_path / "cache", retries=0)
    with pytest.raises(UpstreamError) as err:
        crtsh(session, upstream, "deep.example")
    assert "nested too deeply" in str(err.value)
    assert cached_files(tmp_path / "cache") == []


# --- credentials and redirects --------------------------------------------------------------------


def test_cross_origin_redirect_drops_the_api_key_and_says_so(upstream, tmp_path):
    said = []
    session = make_session(upstream, tmp_path, warn=said.append)
    with pytest.raises(UpstreamError):
        bugzilla.fetch_bug(session, BUG_REDIRECT_AWAY, api_key=SECRET)  # elsewhere has no bug
    first = [r for r in upstream.requests if r.role == "bugzilla"][0]
    away = [r for r in upstream.requests if r.role == "elsewhere"]
    assert {k.lower(): v for k, v in first.headers.items()}["x-bugzilla-api-key"] == SECRET
    assert len(away) == 1 and away[0].path == f"/rest/bug/{BUG_REDIRECT_AWAY}"
    assert "x-bugzilla-api-key" not in {k.lower() for k in away[0].headers}
    assert len(session.notices) == 1 and "X-BUGZILLA-API-KEY not sent there" in session.notices[0]
    assert said == [f"ca-incidents: {session.notices[0]}"]
    assert "another origin" in said[0] and SECRET not in said[0]


def test_same_origin_redirect_keeps_the_api_key(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    bug = bugzilla.fetch_bug(session, BUG_REDIRECT_HOME, api_key=SECRET)
    assert bug["id"] == BUG_MAIN
    second = [r for r in upstream.requests if r.role == "bugzilla"][1]
    assert second.path == f"/rest/bug/{BUG_MAIN}"
    assert {k.lower(): v for k, v in second.headers.items()}["x-bugzilla-api-key"] == SECRET
    assert session.notices == []


def test_cli_redirect_notice_on_stderr(upstream, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BUGZILLA_API_KEY", SECRET)
    monkeypatch.setattr(http, "DEFAULT_RETRIES", 0)
    argv = ["fetch", "bug", str(BUG_REDIRECT_AWAY), "--bugzilla-url", upstream.bugzilla_url]
    assert main([*argv, "--cache-dir", str(tmp_path / "c")]) == 3
    err = capsys.readouterr().err
    assert "X-BUGZILLA-API-KEY not sent there" in err
    assert SECRET not in err


# --- confined output paths ------------------------------------------------------------------------


def test_fetch_bug_out_keeps_every_file_inside(upstream, tmp_path, capsys):
    out = tmp_path / "deep" / "out"
    argv = ["fetch", "bug", str(BUG_EVIL), "--out", str(out), "--bugzilla-url", upstream.bugzilla_url]
    assert main([*argv, "--cache-dir", str(tmp_path / "cache")]) == 0
    names = sorted(p.name for p in (out / str(BUG_EVIL) / "attachments").iterdir())
    # "../../../escaped" -> "escaped"; "../../../../escaped2.txt" -> "escaped2.txt";
    # "/etc/escaped3" -> "etc_escaped3"; ".." -> the default "attachment"
    assert names == ["77-escaped2.txt", "78-etc_escaped3", "79-attachment", "escaped-x.txt"]
    outside = [p for p in tmp_path.rglob("*escaped*") if out not in p.parents]
    assert outside == []
    capsys.readouterr()


def test_symlink_in_out_folder_is_not_followed(upstream, tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, out / str(BUG_EVIL))
    argv = ["fetch", "bug", str(BUG_EVIL), "--out", str(out), "--bugzilla-url", upstream.bugzilla_url]
    assert main([*argv, "--cache-dir", str(tmp_path / "cache")]) == 2
    assert "would leave the output folder" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


# --- endless pagination, odd ids ------------------------------------------------------------------


def test_endless_pages_stop_at_the_page_cap(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    bugs, problems = bugzilla.search_bugs(session, component="Endless", max_pages=5, progress=False)
    # one bug a page at offsets 0..4, then the cap
    assert [b["id"] for b in bugs] == [ENDLESS_BASE + k for k in range(5)]
    assert [(type(p), p.reason) for p in problems] == [
        (UpstreamProblem, "stopped after 5 pages; the search did not end")
    ]


def test_repeated_page_stops_the_search(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    bugs, problems = bugzilla.search_bugs(session, component="Repeat", progress=False)
    assert [b["id"] for b in bugs] == [ENDLESS_BASE]
    assert upstream.count("bugzilla") == 2
    assert [p.reason for p in problems] == ["the page repeats bugs already fetched; the search stopped"]


def test_non_numeric_ids_in_answers_and_files(upstream, tmp_path, capsys, monkeypatch):
    session = make_session(upstream, tmp_path)
    bugs, problems = bugzilla.search_bugs(session, component="Odd ids", progress=False)
    assert [b["id"] for b in bugs] == [1900077]
    assert [p.reason for p in problems] == ["bug id 'abc' is not a number; skipped"]
    # an existing --out file with a non-numeric id: reported, the rest merged
    out = tmp_path / "corpus.json"
    out.write_text(json.dumps({"bugs": [{"id": "xyz", "summary": "?"}, {"id": 1900099, "summary": "kept"}]}))
    argv = ["fetch", "bugs", "--component", "Odd ids", "--full", "--out", str(out)]
    status = main([*argv, "--bugzilla-url", upstream.bugzilla_url, "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert status == 0
    assert "bug id 'xyz' is not a number; left out" in err
    assert [b["id"] for b in json.loads(out.read_text())["bugs"]] == [1900077, 1900099]


def test_cli_endless_pages_exit_3_and_keep_what_came(upstream, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bugzilla, "MAX_PAGES", 3)
    out = tmp_path / "corpus.json"
    argv = [
        "fetch",
        "bugs",
        "--component",
        "Endless",
        "--out",
        str(out),
        "--bugzilla-url",
        upstream.bugzilla_url,
    ]
    assert main([*argv, "--cache-dir", str(tmp_path / "c")]) == 3
    data = json.loads(out.read_text())
    assert [b["id"] for b in data["bugs"]] == [ENDLESS_BASE, ENDLESS_BASE + 1, ENDLESS_BASE + 2]
    assert data["ca_incidents"]["complete"] is False
    assert "stopped after 3 pages" in capsys.readouterr().err


# --- pwnedkeys ------------------------------------------------------------------------------------


def test_pwnedkeys_junk_is_an_upstream_failure_never_cached(upstream, tmp_path):
    session = make_session(upstream, tmp_path / "cache", retries=0)
    frame, problems = pwnedkeys.check_pwnedkeys(session, list(JUNK_BODIES), progress=False)
    assert frame.empty
    assert len(problems) == len(JUNK_BODIES)
    assert all(isinstance(p, UpstreamProblem) for p in problems)
    reasons = " | ".join(p.reason for p in problems)
    for expected in (
        "invalid JSON",
        "nested too deeply",
        "expected a JSON object with protected, payload and signature",
        "attestation is for another key",
        "does not say the key is pwned",
    ):
        assert expected in reasons
    assert cached_files(tmp_path / "cache") == []


def test_pwnedkeys_valid_attestation_verified_with_the_key(upstream, tmp_path):
    der = (
        _key(0x5EED_0002)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    session = make_session(upstream, tmp_path / "cache")
    assert pwnedkeys.check_pwnedkey(session, SPKI_REUSED, der) is True
    assert len(cached_files(tmp_path / "cache")) == 2  # body and metadata of the one good answer


def test_pwnedkeys_forged_signature_fails_with_the_key(upstream, tmp_path):
    forged, spki = FORGED_KEY, SPKI_FORGED
    der = forged.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    session = make_session(upstream, tmp_path / "cache", retries=0)
    with pytest.raises(UpstreamError) as err:
        pwnedkeys.check_pwnedkey(session, spki, der)
    assert "attestation signature (ES256) does not verify with the key" in str(err.value)
    assert cached_files(tmp_path / "cache") == []


def test_cli_keyreuse_pwnedkeys_forged_attestation_exit_3(upstream, tmp_path, capsys, monkeypatch):
    forged = FORGED_KEY
    monkeypatch.setattr(http, "DEFAULT_RETRIES", 0)
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "forged.example.test")]))
        .issuer_name(CA_NAME)
        .public_key(forged.public_key())
        .serial_number(0x1234)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=90))
        .sign(CA_KEY, hashes.SHA256())
    )
    pem = tmp_path / "forged.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    argv = ["keyreuse", "--certs", str(pem), "--pwnedkeys", "--pwnedkeys-url", upstream.pwnedkeys_url]
    status = main(
        [*argv, "--cache-dir", str(tmp_path / "cache"), "--format", "json", "--as-of", "2025-01-01"]
    )
    out, err = capsys.readouterr()
    assert status == 3
    assert json.loads(out)["summary"]["compromised_keys"] == 0
    assert "does not verify with the key" in err
    assert cached_files(tmp_path / "cache") == []


# --- CSV injection in fetched rows ---------------------------------------------------------------


def test_fetch_crtsh_csv_neutralises_hostile_names(upstream, tmp_path, capsys):
    import csv
    import io

    argv = [
        "fetch",
        "crtsh",
        "--domain",
        "formula.example",
        "--format",
        "csv",
        "--crtsh-url",
        upstream.crtsh_url,
    ]
    assert main([*argv, "--cache-dir", str(tmp_path / "c")]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 1
    # the names joined with a space start with "=": the cell is prefixed with '
    assert rows[0]["names"] == '\'=HYPERLINK("http://evil.test","click") @formula.example'
    assert rows[0]["serial"] == "7e57"


def test_links_planted_in_out_folders_are_not_followed(upstream, tmp_path, capsys):
    # fetch bug: a link at bug.json's name (and one at an old temporary name) pointing outside
    out, outside = tmp_path / "out", tmp_path / "outside"
    (out / str(BUG_MAIN)).mkdir(parents=True)
    outside.mkdir()
    os.symlink(outside / "stolen.json", out / str(BUG_MAIN) / "bug.json")
    os.symlink(outside / "stolen.tmp", out / str(BUG_MAIN) / "bug.json.tmp")
    argv = ["fetch", "bug", str(BUG_MAIN), "--out", str(out), "--bugzilla-url", upstream.bugzilla_url]
    assert main([*argv, "--cache-dir", str(tmp_path / "c")]) == 2
    assert "would leave the output folder" in capsys.readouterr().err
    assert list(outside.iterdir()) == []
    # fetch crtsh --out: a link at a certificate's file name
    certs = tmp_path / "certs"
    certs.mkdir()
    os.symlink(outside / "stolen.pem", certs / "9100000004.pem")
    argv = [
        "fetch",
        "crtsh",
        "--domain",
        "example.test",
        "--out",
        str(certs),
        "--crtsh-url",
        upstream.crtsh_url,
    ]
    assert main([*argv, "--cache-dir", str(tmp_path / "c")]) == 2
    assert "would leave the output folder" in capsys.readouterr().err
    assert list(outside.iterdir()) == []


# --- data may not steer a download into the machine's own network --------------------------------


@pytest.mark.parametrize(
    ("address", "blocked"),
    [
        ("127.0.0.1", "127.0.0.1"),  # loopback
        ("10.20.30.40", "10.20.30.40"),  # RFC 1918
        ("169.254.169.254", "169.254.169.254"),  # link-local: cloud metadata
        ("100.64.1.1", "100.64.1.1"),  # shared address space (carrier NAT)
        ("::ffff:127.0.0.1", "127.0.0.1"),  # loopback written as IPv4-mapped IPv6
        ("[::1]", "::1"),  # a bracketed IPv6 literal, as in a URL
        ("224.0.0.251", "224.0.0.251"),  # multicast is not a server
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_blocked_address_by_kind(address, blocked):
    from analysis.sources import transport

    assert transport.blocked_address(address) == blocked


def _pretend_public(monkeypatch, host: str) -> None:
    """The resolver says `host` is a public address (the fake servers all live on 127.0.0.1); every
    other name resolves as usual."""
    from analysis.sources import transport

    real = transport.resolve
    monkeypatch.setattr(transport, "resolve", lambda h: ["8.8.8.8"] if h == host else real(h))


def test_redirect_from_a_public_host_to_a_private_one_is_refused(upstream, tmp_path, monkeypatch):
    from analysis.sources import crls

    _pretend_public(monkeypatch, "127.0.0.1")
    session = make_session(upstream, tmp_path)
    with pytest.raises(UpstreamError) as err:
        crls.fetch_crl(session, f"{upstream.crl_url}/crl/to-localhost.crl")
    # One request (the redirect itself); good.crl on "localhost" was never asked for.
    assert [r.path for r in upstream.requests if r.role == "crl"] == ["/crl/to-localhost.crl"]
    assert "localhost" in str(err.value) and "not a public address" in str(err.value)
    assert "retr" not in str(err.value)  # a refusal is not retried


def test_allow_private_follows_the_redirect(upstream, tmp_path, monkeypatch):
    from analysis.sources import crls

    _pretend_public(monkeypatch, "127.0.0.1")
    session = make_session(upstream, tmp_path, allow_private=True)
    data = crls.fetch_crl(session, f"{upstream.crl_url}/crl/to-localhost.crl")
    assert data == upstream.crls["good.crl"]


def test_a_url_taken_from_data_must_be_public_but_a_given_one_need_not(upstream, tmp_path):
    from analysis.sources import crls

    session = make_session(upstream, tmp_path)
    url = f"{upstream.crl_url}/crl/good.crl"
    with pytest.raises(UpstreamError, match="not a public address"):
        crls.fetch_crl(session, url, untrusted=True)
    assert upstream.count("crl") == 0
    # The same URL given by the user (a mirror on this machine) is fetched, and a redirect between
    # two private hosts is no crossing into the private network.
    assert crls.fetch_crl(session, url) == upstream.crls["good.crl"]
    assert crls.fetch_crl(session, f"{upstream.crl_url}/crl/to-localhost.crl") == upstream.crls["good.crl"]
