"""Everything that touches the outside world: crt.sh, Bugzilla, CRL hosts, pwnedkeys.

All HTTP goes through one `Session` (analysis/sources/http.py): User-Agent, timeouts, retries with
backoff, per-host rate limits and the on-disk cache. Batch functions return ``(result, problems)``;
a problem that is an `UpstreamProblem` means an upstream failed (exit status 3).
"""

from __future__ import annotations

from .http import Session, UpstreamProblem, has_upstream_failure

__all__ = ["Session", "UpstreamProblem", "has_upstream_failure"]
