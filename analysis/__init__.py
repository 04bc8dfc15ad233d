"""ca-incidents: WebPKI CA compliance incidents as data.

The public API; everything else is internal and may change.
"""

__version__ = "0.1.0"

from .certificates import fill_names, load_certificate_bytes, load_certificates
from .demo import DEMO_DIR, demo_as_of, demo_paths
from .errors import Error, InputError, OfflineMiss, Problem, UpstreamError, UsageError
from .formats import format_serial, format_time, normalize_serial, parse_serial, parse_time, parse_zone
from .inputs import KeyReuseInputs, load_keyreuse_inputs
from .keyreuse import Findings, build_issuances, find_key_reuse
from .keys import load_compromised_keys, spki_sha256_from_key
from .names import dn_key, match_issuer, parse_dn, same_dn
from .revocations import RevocationData, load_crl_bytes, load_revocations, load_revocations_csv
from .schema import (
    validate_certificates,
    validate_compromised_keys,
    validate_revocations,
)
from .timeline import build_events

__all__ = [
    "__version__",
    # errors
    "Error",
    "InputError",
    "UsageError",
    "UpstreamError",
    "OfflineMiss",
    "Problem",
    # formats and names
    "parse_serial",
    "format_serial",
    "normalize_serial",
    "format_time",
    "parse_time",
    "parse_zone",
    "parse_dn",
    "dn_key",
    "same_dn",
    "match_issuer",
    # loading
    "load_certificates",
    "load_certificate_bytes",
    "fill_names",
    "load_crl_bytes",
    "load_revocations",
    "load_revocations_csv",
    "RevocationData",
    "load_compromised_keys",
    "spki_sha256_from_key",
    "load_keyreuse_inputs",
    "KeyReuseInputs",
    "validate_certificates",
    "validate_revocations",
    "validate_compromised_keys",
    # analysis
    "find_key_reuse",
    "build_issuances",
    "Findings",
    "build_events",
    # demo
    "DEMO_DIR",
    "demo_paths",
    "demo_as_of",
    # reports, drafting, incidents (imported lazily: see __getattr__)
    "parse_report",
    "parse_comments",
    "load_report",
    "lint_report",
    "draft_closure_summary",
    "to_closure_markdown",
    "draft_full_report",
    "appendix_rows",
    "to_appendix_csv",
    "load_corpus",
    "load_bugs",
    "compute_summary",
    "related_incidents",
]

_LAZY = {
    "parse_report": "reports",
    "parse_comments": "reports",
    "load_report": "reports",
    "lint_report": "drafting",
    "draft_closure_summary": "drafting",
    "to_closure_markdown": "drafting",
    "draft_full_report": "drafting",
    "appendix_rows": "drafting",
    "to_appendix_csv": "drafting",
    "load_corpus": "incidents",
    "load_bugs": "incidents",
    "compute_summary": "incidents",
    "related_incidents": "incidents",
}


def __getattr__(name: str):
    # Reports and the corpus import only when asked, so `keyreuse` starts fast.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
