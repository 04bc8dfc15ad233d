"""CRLs by URL (cached until nextUpdate), from CRL Distribution Points, from a CCADB JSON list."""

from __future__ import annotations

import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from analysis.errors import InputError, OfflineMiss, UpstreamError
from analysis.sources import crls
from analysis.sources.http import UpstreamProblem

try:
    from upstream_server import SERIAL_LATER, make_session, upstream, upstream_server  # noqa: F401
except ImportError:  # tests/ imported as a package
    from tests.upstream_server import SERIAL_LATER, make_session, upstream, upstream_server  # noqa: F401


def test_fetch_crl_der_and_pem(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    der = crls.fetch_crl(session, f"{upstream.crl_url}/crl/good.crl")
    crl = x509.load_der_x509_crl(der)
    assert [e.serial_number for e in crl] == [SERIAL_LATER]
    pem = crls.fetch_crl(session, f"{upstream.crl_url}/crl/good.pem.crl")
    assert pem.startswith(b"-----BEGIN X509 CRL-----")


def test_crl_cached_until_next_update(upstream, tmp_path):
    url = f"{upstream.crl_url}/crl/good.crl"
    crls.fetch_crl(make_session(upstream, tmp_path), url)
    crls.fetch_crl(make_session(upstream, tmp_path), url)
    assert upstream.count("crl") == 1
    # eight days on, past its nextUpdate (a week away): fetched again
    import time

    later = time.time() + 8 * 86400
    crls.fetch_crl(make_session(upstream, tmp_path, now=lambda: later), url)
    assert upstream.count("crl") == 2


def test_crl_past_next_update_is_fetched_every_time_but_serves_offline(upstream, tmp_path):
    url = f"{upstream.crl_url}/crl/stale.crl"
    crls.fetch_crl(make_session(upstream, tmp_path), url)
    crls.fetch_crl(make_session(upstream, tmp_path), url)
    assert upstream.count("crl") == 2
    assert crls.fetch_crl(make_session(upstream, tmp_path, offline=True), url)[:1] == b"\x30"
    assert upstream.count("crl") == 2


def test_html_page_is_not_a_crl(upstream, tmp_path):
    with pytest.raises(UpstreamError) as info:
        crls.fetch_crl(make_session(upstream, tmp_path, retries=0), f"{upstream.crl_url}/crl/html.crl")
    assert "not a CRL" in str(info.value)
    with pytest.raises(OfflineMiss):
        crls.fetch_crl(make_session(upstream, tmp_path, offline=True), f"{upstream.crl_url}/crl/html.crl")


def test_fetch_crls_keeps_the_rest(upstream, tmp_path):
    urls = [
        f"{upstream.crl_url}/crl/missing.crl",
        f"{upstream.crl_url}/crl/good.crl",
        f"{upstream.crl_url}/crl/good.crl",
        "ldap://ldap.example.test/cn=crl",
    ]
    got, problems = crls.fetch_crls(make_session(upstream, tmp_path), urls, progress=False)
    assert [u for u, _ in got] == [f"{upstream.crl_url}/crl/good.crl"]
    assert len(problems) == 2
    assert isinstance(problems[0], UpstreamProblem) and problems[0].status == 404
    assert not isinstance(problems[1], UpstreamProblem) and "scheme" in problems[1].reason
    assert upstream.count("crl", path="/crl/missing.crl") == 1  # a 404 is not retried


def test_crl_urls_from_certificates(upstream):
    pems = [upstream.pems[9100000001], upstream.pems[9100000003] + upstream.pems[9100000004]]
    der = upstream.certs[9100000002].public_bytes(serialization.Encoding.DER)
    urls, problems = crls.crl_urls_from_certificates([*pems, der, upstream.certs[9100000004], b"garbage"])
    assert urls == [f"{upstream.crl_url}/crl/good.crl"]  # once; the ldap URL skipped
    assert len(problems) == 1 and problems[0].input == "certificate 5"


def test_ccadb_crl_list(tmp_path):
    path = tmp_path / "crls.json"
    path.write_text(
        json.dumps(
            [
                "http://crl.example.test/1.crl",
                "http://crl.example.test/2.crl",
                "http://crl.example.test/1.crl",
            ]
        )
    )
    assert crls.load_crl_list(path) == ["http://crl.example.test/1.crl", "http://crl.example.test/2.crl"]
    path.write_text('{"url": "http://crl.example.test/1.crl"}')
    with pytest.raises(InputError):
        crls.load_crl_list(path)
    path.write_text('["http://crl.example.test/1.crl", 5]')
    with pytest.raises(InputError) as info:
        crls.load_crl_list(path)
    assert info.value.position == "item 2"
    path.write_text("[")
    with pytest.raises(InputError):
        crls.load_crl_list(path)
