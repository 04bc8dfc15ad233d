"""The polite session: User-Agent, retries with backoff, Retry-After, rate limits, the cache.

Against the real HTTP server in upstream_server.py; sleeping goes through a fake clock.
"""

from __future__ import annotations

import json
import os

import pytest

from analysis import __version__
from analysis.commands.common import session_from_args
from analysis.errors import OfflineMiss, UpstreamError
from analysis.sources.http import (
    DAY,
    Session,
    TokenBucket,
    expect_json,
    parse_retry_after,
    redact_url,
)

try:
    from upstream_server import FakeClock, make_session, upstream, upstream_server  # noqa: F401
except ImportError:  # tests/ imported as a package
    from tests.upstream_server import FakeClock, make_session, upstream, upstream_server  # noqa: F401


def crtsh_search(session: Session, upstream, name: str, **kw):
    return session.get(
        upstream.crtsh_url + "/", params={"q": name, "output": "json"}, validate=expect_json, **kw
    )


# --- rate limiting ----------------------------------------------------------------------------


def test_token_bucket_crtsh_rate_with_injected_clock():
    clock = FakeClock()
    bucket = TokenBucket(60, 5, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        bucket.acquire()
    # 5 at once (the burst), then one a second: 15 more requests take 15 s.
    assert clock.t - 1000.0 == pytest.approx(15.0)
    assert len(clock.sleeps) == 15
    assert all(s == pytest.approx(1.0) for s in clock.sleeps)


def test_token_bucket_bugzilla_rate_and_refill():
    clock = FakeClock()
    bucket = TokenBucket(75, 5, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        bucket.acquire()
    # 75 a minute = one per 0.8 s after the burst of 5.
    assert clock.t - 1000.0 == pytest.approx(4.0)
    clock.t += 600  # a long pause refills to the burst, no further
    start = clock.t
    for _ in range(5):
        bucket.acquire()
    assert clock.t == start
    bucket.acquire()
    assert clock.t - start == pytest.approx(0.8)


def test_session_rate_limits_real_requests_per_host(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    clock = session.fake_clock
    for i in range(8):
        crtsh_search(session, upstream, f"n{i}.example")
    assert upstream.count("crtsh") == 8
    assert clock.t - 1000.0 == pytest.approx(3.0)  # burst 5, then 1 s each
    # another host has its own bucket: Bugzilla's 5 are free
    before = clock.t
    for i in range(5):
        session.get(f"{upstream.bugzilla_url}/rest/bug/1900002", params={"n": i})
    assert clock.t == before
    # cache hits do not wait
    for i in range(8):
        crtsh_search(session, upstream, f"n{i}.example")
    assert clock.t == before
    assert upstream.count("crtsh") == 8


# --- what is sent -----------------------------------------------------------------------------


def test_user_agent_names_tool_and_version(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    crtsh_search(session, upstream, "example.test")
    ua = upstream.requests[-1].headers["User-Agent"]
    assert ua.startswith(f"ca-incidents/{__version__} (+http")


# --- failures -----------------------------------------------------------------------------------


def test_html_503_is_an_error_after_retries_with_exponential_backoff(upstream, tmp_path):
    session = make_session(upstream, tmp_path, retries=3, backoff=1.0)
    with pytest.raises(UpstreamError) as info:
        crtsh_search(session, upstream, "down.example")
    err = info.value
    assert err.status == 503
    assert "canceling statement due to statement timeout" in err.snippet
    assert "<" not in err.snippet
    assert "down.example" in err.url
    assert upstream.count("crtsh", q="down.example") == 4
    # jitter fixed at the middle (factor 1.0): 1, 2, 4 s
    assert session.fake_clock.sleeps == [1.0, 2.0, 4.0]
    # never stored: offline there is nothing
    offline = make_session(upstream, tmp_path, offline=True)
    with pytest.raises(OfflineMiss):
        crtsh_search(offline, upstream, "down.example")


def test_503_then_success_is_retried(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    answer = crtsh_search(session, upstream, "flaky.example")
    assert answer.status == 200 and isinstance(answer.json(), list)
    assert upstream.count("crtsh", q="flaky.example") == 2


def test_429_honours_retry_after(upstream, tmp_path):
    session = make_session(upstream, tmp_path, backoff=0.1)
    answer = crtsh_search(session, upstream, "busy.example")
    assert answer.status == 200
    assert upstream.count("crtsh", q="busy.example") == 2
    assert session.fake_clock.sleeps[0] == pytest.approx(3.0)  # Retry-After: 3 beats the 0.1 s backoff


def test_retry_after_too_long_is_reported_not_waited(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    with pytest.raises(UpstreamError) as info:
        crtsh_search(session, upstream, "patience.example")
    assert info.value.status == 429
    assert "3600" in str(info.value)
    assert upstream.count("crtsh", q="patience.example") == 1
    assert session.fake_clock.sleeps == []


def test_answer_slower_than_read_timeout(upstream, tmp_path):
    session = make_session(upstream, tmp_path, retries=1, timeout=(2.0, 0.3))
    with pytest.raises(UpstreamError) as info:
        crtsh_search(session, upstream, "slow.example")
    assert info.value.status is None
    assert "timed out" in str(info.value) or "cut short" in str(info.value)
    assert upstream.count("crtsh", q="slow.example") == 2


def test_truncated_json_is_an_error_never_no_results(upstream, tmp_path):
    session = make_session(upstream, tmp_path, retries=1)
    with pytest.raises(UpstreamError) as info:
        crtsh_search(session, upstream, "truncated.example")
    assert "invalid JSON" in str(info.value)
    assert upstream.count("crtsh", q="truncated.example") == 2
    with pytest.raises(OfflineMiss):
        crtsh_search(make_session(upstream, tmp_path, offline=True), upstream, "truncated.example")


def test_body_shorter_than_content_length_is_an_error(upstream, tmp_path):
    session = make_session(upstream, tmp_path, retries=0)
    with pytest.raises(UpstreamError) as info:
        crtsh_search(session, upstream, "cut.example")
    assert "cut short" in str(info.value)


def test_html_page_with_200_where_json_expected(upstream, tmp_path):
    session = make_session(upstream, tmp_path, retries=0)
    with pytest.raises(UpstreamError) as info:
        crtsh_search(session, upstream, "html200.example")
    assert "expected JSON" in str(info.value)
    assert "Temporarily unavailable" in str(info.value)


def test_empty_result_is_data(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    assert crtsh_search(session, upstream, "empty.example").json() == []
    assert crtsh_search(session, upstream, "empty.example").from_cache
    assert upstream.count("crtsh") == 1


# --- the cache ----------------------------------------------------------------------------------


def test_second_identical_request_is_answered_from_disk(upstream, tmp_path):
    first = crtsh_search(make_session(upstream, tmp_path), upstream, "example.test")
    # a new session (a second run) on the same cache folder makes no request
    second = crtsh_search(make_session(upstream, tmp_path), upstream, "example.test")
    assert upstream.count("crtsh") == 1
    assert second.from_cache and second.content == first.content and second.status == 200


def test_refresh_ignores_the_cache_and_offline_uses_only_it(upstream, tmp_path):
    crtsh_search(make_session(upstream, tmp_path), upstream, "example.test")
    crtsh_search(make_session(upstream, tmp_path, refresh=True), upstream, "example.test")
    assert upstream.count("crtsh") == 2
    offline = make_session(upstream, tmp_path, offline=True)
    assert crtsh_search(offline, upstream, "example.test").from_cache
    with pytest.raises(OfflineMiss) as info:
        crtsh_search(offline, upstream, "never-fetched.example")
    assert "never-fetched.example" in str(info.value)
    assert upstream.count("crtsh") == 2


def test_freshness_by_kind(upstream, tmp_path):
    now = [1_700_000_000.0]
    session = make_session(upstream, tmp_path, now=lambda: now[0])
    crtsh_search(session, upstream, "example.test")  # kind "search": a day
    session.get(f"{upstream.crtsh_url}/?d=9100000003", kind="cert")  # forever
    now[0] += DAY - 60
    crtsh_search(session, upstream, "example.test")
    assert upstream.count("crtsh") == 2
    now[0] += 120  # a day and a minute later
    crtsh_search(session, upstream, "example.test")
    assert upstream.count("crtsh", q="example.test") == 2
    now[0] += 10 * 365 * DAY
    session.get(f"{upstream.crtsh_url}/?d=9100000003", kind="cert")
    assert upstream.count("crtsh", d="9100000003") == 1
    # offline, a stale answer is still an answer
    offline = make_session(upstream, tmp_path, offline=True, now=lambda: now[0])
    assert crtsh_search(offline, upstream, "example.test").from_cache


def test_max_age_is_configurable(upstream, tmp_path):
    now = [1_700_000_000.0]
    session = make_session(upstream, tmp_path, now=lambda: now[0], max_age={"search": 10})
    crtsh_search(session, upstream, "example.test")
    now[0] += 11
    crtsh_search(session, upstream, "example.test")
    assert upstream.count("crtsh") == 2


def test_cache_dir_from_options_env_and_default(monkeypatch, tmp_path):
    import argparse

    import platformdirs

    args = argparse.Namespace(
        cache_dir=str(tmp_path / "opt"), offline=False, refresh=False, crtsh_url=None, bugzilla_url=None
    )
    assert session_from_args(args).cache.dir == tmp_path / "opt"
    monkeypatch.setenv("CA_INCIDENTS_CACHE", str(tmp_path / "env"))
    args.cache_dir = None
    assert session_from_args(args).cache.dir == tmp_path / "env"
    monkeypatch.delenv("CA_INCIDENTS_CACHE")
    expected = platformdirs.user_cache_dir("ca-incidents", appauthor=False)
    assert str(Session().cache.dir) == expected


def test_offline_and_refresh_together_is_a_usage_error():
    import argparse

    from analysis.errors import UsageError

    args = argparse.Namespace(cache_dir=None, offline=True, refresh=True)
    with pytest.raises(UsageError):
        session_from_args(args)


def test_secret_headers_never_reach_cache_or_messages(upstream, tmp_path):
    secret = "s3cr3t-api-key-value"
    session = make_session(upstream, tmp_path, retries=0)
    session.get(f"{upstream.bugzilla_url}/rest/bug/1900002", headers={"X-BUGZILLA-API-KEY": secret})
    assert upstream.requests[-1].headers["X-BUGZILLA-API-KEY"] == secret
    with pytest.raises(UpstreamError) as info:
        session.get(f"{upstream.bugzilla_url}/rest/bug/1999999", headers={"X-BUGZILLA-API-KEY": secret})
    assert secret not in str(info.value) and secret not in repr(info.value.__dict__)
    for root, _, files in os.walk(tmp_path):
        for name in files:
            data = open(os.path.join(root, name), "rb").read()
            assert secret.encode() not in data
    # an authenticated answer is not served to an anonymous request (and vice versa)
    session.get(f"{upstream.bugzilla_url}/rest/bug/1900002")
    assert upstream.count("bugzilla", path="/rest/bug/1900002") == 2


def test_redact_url_and_retry_after_dates():
    assert (
        redact_url("https://b.example/rest/bug?id=1&api_key=abc")
        == "https://b.example/rest/bug?id=1&api_key=***"
    )
    assert redact_url("https://crt.sh/?q=a.example&output=json") == "https://crt.sh/?q=a.example&output=json"
    assert parse_retry_after("120", 0.0) == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("soon", 0.0) is None
    assert parse_retry_after(None, 0.0) is None


def test_cache_entry_records_url_and_kind(upstream, tmp_path):
    crtsh_search(make_session(upstream, tmp_path), upstream, "example.test")
    metas = [
        os.path.join(r, f) for r, _, fs in os.walk(tmp_path / "search") for f in fs if f.endswith(".json")
    ]
    assert len(metas) == 1
    meta = json.load(open(metas[0]))
    assert meta["status"] == 200 and "q=example.test" in meta["url"]
