"""pwnedkeys: 200 = known compromised, 404 = not known; rate-limited, cached, failures kept apart."""

from __future__ import annotations

import pytest

from analysis.schema import validate_compromised_keys
from analysis.sources import pwnedkeys
from analysis.sources.http import UpstreamError, UpstreamProblem

try:
    from upstream_server import (  # noqa: F401
        SPKI_429,
        SPKI_503,
        SPKI_OTHER,
        SPKI_REUSED,
        SPKI_UNKNOWN,
        make_session,
        upstream,
        upstream_server,
    )
except ImportError:  # tests/ imported as a package
    from tests.upstream_server import (  # noqa: F401
        SPKI_429,
        SPKI_503,
        SPKI_OTHER,
        SPKI_REUSED,
        SPKI_UNKNOWN,
        make_session,
        upstream,
        upstream_server,
    )


def test_hits_become_undated_compromised_keys(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    frame, problems = pwnedkeys.check_pwnedkeys(
        session, [SPKI_REUSED, SPKI_OTHER, SPKI_REUSED.upper(), "not-a-hash", SPKI_UNKNOWN], progress=False
    )
    validate_compromised_keys(frame)
    assert frame["spki_sha256"].tolist() == [SPKI_REUSED]
    assert frame["source"].tolist() == ["pwnedkeys"]
    assert frame["reported_at"].isna().all()
    assert [p.reason for p in problems if not isinstance(p, UpstreamProblem)] == [
        "not a SHA-256 hex digest: 'not-a-hash'"
    ]
    assert upstream.count("pwnedkeys") == 3  # one lookup per distinct SPKI
    assert upstream.requests[0].path == f"/{SPKI_REUSED}"
    # a second run asks nothing: both 200 and 404 are answers and are cached
    again, _ = pwnedkeys.check_pwnedkeys(make_session(upstream, tmp_path), [SPKI_REUSED, SPKI_OTHER])
    assert again["spki_sha256"].tolist() == [SPKI_REUSED]
    assert upstream.count("pwnedkeys") == 3


def test_429_with_retry_after_then_hit(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    assert pwnedkeys.check_pwnedkey(session, SPKI_429) is True
    assert upstream.count("pwnedkeys") == 2
    assert session.fake_clock.sleeps[0] == pytest.approx(3.0)


def test_failure_is_an_upstream_problem_and_others_still_checked(upstream, tmp_path):
    session = make_session(upstream, tmp_path, retries=1)
    frame, problems = pwnedkeys.check_pwnedkeys(session, [SPKI_503, SPKI_REUSED], progress=False)
    assert frame["spki_sha256"].tolist() == [SPKI_REUSED]
    assert len(problems) == 1 and isinstance(problems[0], UpstreamProblem) and problems[0].status == 503
    with pytest.raises(UpstreamError):
        pwnedkeys.check_pwnedkey(make_session(upstream, tmp_path, retries=0), SPKI_503)


def test_offline_answers_from_cache_and_misses(upstream, tmp_path):
    pwnedkeys.check_pwnedkeys(make_session(upstream, tmp_path), [SPKI_REUSED])
    offline = make_session(upstream, tmp_path, offline=True)
    frame, problems = pwnedkeys.check_pwnedkeys(offline, [SPKI_REUSED, SPKI_OTHER])
    assert frame["spki_sha256"].tolist() == [SPKI_REUSED]
    assert len(problems) == 1 and SPKI_OTHER in problems[0].input and "offline" in problems[0].reason
    assert upstream.count("pwnedkeys") == 1
