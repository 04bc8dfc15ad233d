"""ca-incidents: WebPKI CA compliance incidents as data.

The public API; everything else is internal and may change.
"""

__version__ = "0.1.0"

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
    # reports, drafting, incidents
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

# Every public name imports its module on first use (PEP 562): `ca-incidents --help` and small
# commands never pay for pandas.
_LAZY = {
    "fill_names": "certificates",
    "load_certificate_bytes": "certificates",
    "load_certificates": "certificates",
    "DEMO_DIR": "demo",
    "demo_as_of": "demo",
    "demo_paths": "demo",
    "Error": "errors",
    "InputError": "errors",
    "OfflineMiss": "errors",
    "Problem": "errors",
    "UpstreamError": "errors",
    "UsageError": "errors",
    "format_serial": "formats",
    "format_time": "formats",
    "normalize_serial": "formats",
    "parse_serial": "formats",
    "parse_time": "formats",
    "parse_zone": "formats",
    "KeyReuseInputs": "inputs",
    "load_keyreuse_inputs": "inputs",
    "Findings": "keyreuse",
    "build_issuances": "keyreuse",
    "find_key_reuse": "keyreuse",
    "load_compromised_keys": "keys",
    "spki_sha256_from_key": "keys",
    "dn_key": "names",
    "match_issuer": "names",
    "parse_dn": "names",
    "same_dn": "names",
    "RevocationData": "revocations",
    "load_crl_bytes": "revocations",
    # the public loader reads incident spreadsheets too, so it is the input layer's
    "load_revocations": "inputs:load_revocation_files",
    "load_revocations_csv": "revocations",
    "validate_certificates": "schema",
    "validate_compromised_keys": "schema",
    "validate_revocations": "schema",
    "build_events": "timeline",
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
    if name in _LAZY:
        import importlib

        module, _, attr = _LAZY[name].partition(":")
        return getattr(importlib.import_module(f".{module}", __name__), attr or name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
