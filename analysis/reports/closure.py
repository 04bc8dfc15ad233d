"""The Report Closure Summary block."""

from __future__ import annotations

from .segmenting import _collect_fields, _Section
from .vocabulary import _ATTESTATION_RE, _CLOSURE_LABELS, CLOSURE_FIELDS, _key, _strip_md

# --- closure summary --------------------------------------------------------------------------


def _parse_closure(section: _Section) -> dict:
    out: dict = {k: None for k in CLOSURE_FIELDS}
    for label, value, _line in _collect_fields(section.lines):
        name = _CLOSURE_LABELS.get(_key(label))
        if name and out[name] is None:
            # a rendered page runs the attestation line into the last field: keep it out
            if value and _ATTESTATION_RE.search(value):
                value = _ATTESTATION_RE.split(value)[0].strip()
            out[name] = value or None
    flat = " ".join(_strip_md(t) for _, t in section.lines)
    out["attestation"] = bool(_ATTESTATION_RE.search(flat))
    out["source_line"] = section.heading.line
    return out


# --- one text ---------------------------------------------------------------------------------
