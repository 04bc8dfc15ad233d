"""`sweep --via http`: the sweep without crt.sh's database, for CAs with small CRLs.

The CA's CRLs (a CCADB JSON list or URLs/files) give its keyCompromise serials; crt.sh's JSON
search by serial, narrowed to rows whose issuer is the CRL's issuer (by distinguished name, never
by serial alone), and one PEM download give each revoked certificate's key; crt.sh's search by SPKI
gives every certificate on that key. Everything goes through the project's polite HTTP session
(rate limit, retries, cache, --offline) and ends in `find_key_reuse`, as the database route does.
Revocations come only from the CRLs given, and the coverage notes say which issuers that leaves out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..certificates import load_certificates
from ..errors import InputError, Problem, UpstreamError, UsageError
from ..formats import format_time
from ..keyreuse import find_key_reuse
from ..names import NameParseError, dn_key
from ..revocations import CRLInfo, RevocationData, load_crl_bytes
from ..schema import coerce_certificates, coerce_revocations, empty_revocations
from ..sweep import CASweep, SweepResult, count_violations
from . import crls as crl_source
from . import crtsh
from .http import Session, UpstreamProblem, has_upstream_failure
from .keyreuse_inputs import _cert_frames_from_downloads as cert_frames

KEY_COMPROMISE = 1
HTTP_NOTE = (
    "Sweep (--via http): keyCompromise entries come from the CRLs given, matched to crt.sh's "
    "certificates by issuer name and serial; certificates not yet in crt.sh are invisible to it, and "
    "revocations by other CAs count only where their CRLs were given."
)


def _key_or_none(name: object) -> str | None:
    try:
        return dn_key(str(name))
    except (NameParseError, ValueError):
        return None


def sweep_http(
    session: Session,
    crl_lists: Sequence[str] = (),
    crls: Sequence[str] = (),
    *,
    ca_ids: Sequence[int] = (),
    ca_names: Sequence[str] = (),
    scope: str = "global",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    as_of: dt.datetime | None = None,
    sink=None,
) -> SweepResult:
    """The sweep through crt.sh's web search: `crl_lists` are CCADB JSON files of CRL URLs, `crls`
    CRL URLs or files; `ca_ids`/`ca_names` keep the entries whose certificate crt.sh lists under
    those CAs (crt.sh id; part of the name, any case). Raises UsageError when no CRL was given.
    `sink` (analysis.sweep.ResultSink, e.g. a store) gets each CRL's entries and each key's
    certificates as they arrive, then `finish` with the CRLs' issuers, the problems and inputs."""
    sources: list[str] = []
    problems: list[Problem] = []
    for path in crl_lists:
        try:
            sources.extend(crl_source.load_crl_list(path))
        except InputError as exc:
            problems.append(Problem(str(path), None, str(exc)))
    sources.extend(crls)
    if not sources:
        if problems:  # nothing usable at all: a usage error that names what was wrong
            raise UsageError("no usable CRL list: " + "; ".join(str(p) for p in problems))
        raise UsageError("--via http needs the CA's CRLs: --crl-list FILE.json or --crl URL")
    inputs: list[dict] = []

    # 1. The CRLs: every entry (they are the revocations), the keyCompromise ones to follow.
    frames, infos = [], []
    for src in dict.fromkeys(sources):
        try:
            if str(src).startswith(("http://", "https://")):
                data = crl_source.fetch_crl(session, src)
            else:
                data = Path(src).read_bytes()
        except UpstreamError as exc:
            problems.append(UpstreamProblem.from_error(exc, str(src)))
            inputs.append({"kind": "crl", "path_or_url": str(src), "entries": 0})
            continue
        except (OSError, ValueError) as exc:
            problems.append(Problem(str(src), None, str(exc)))
            continue
        rd = load_crl_bytes(data, str(src))
        frames.append(rd.frame)
        if sink is not None:
            sink.add_revocations(coerce_revocations(rd.frame))
        infos.extend(rd.crls)
        problems.extend(rd.problems)
        inputs.append({"kind": "crl", "path_or_url": str(src), "entries": int(len(rd.frame))})
    revs = (
        pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else None
    )
    revs = coerce_revocations(revs) if revs is not None else empty_revocations()
    kc = revs[(revs["reason_code"] == KEY_COMPROMISE).fillna(False).astype(bool)]
    if since is not None:
        kc = kc[kc["revoked_at"] >= pd.Timestamp(since)]
    if until is not None:
        kc = kc[kc["revoked_at"] < pd.Timestamp(until)]
    kc = kc.drop_duplicates(["issuer_dn", "serial"])

    # 2. Each keyCompromise serial -> crt.sh's rows from that issuer -> the revoked certificate's key.
    wanted_ids = {int(i) for i in ca_ids}
    names = [n.lower() for n in ca_names]
    lines: dict[int, CASweep] = {}
    spkis: dict[str, None] = {}
    for issuer, serial in zip(kc["issuer_dn"].tolist(), kc["serial"].tolist(), strict=True):
        try:
            rows, probs = crtsh.search_serial(session, serial)
        except UpstreamError as exc:
            problems.append(UpstreamProblem.from_error(exc, f"{issuer} serial {serial}"))
            continue
        problems.extend(probs)
        want = _key_or_none(issuer)
        rows = rows[[_key_or_none(n) == want for n in rows["issuer_name"].tolist()]] if len(rows) else rows
        if wanted_ids:
            rows = rows[rows["issuer_ca_id"].isin(wanted_ids)]
        if names:
            rows = rows[[any(n in str(v).lower() for n in names) for v in rows["issuer_name"].tolist()]]
        if not len(rows):
            continue
        first = rows.iloc[0]
        line = lines.setdefault(
            int(first["issuer_ca_id"]), CASweep(int(first["issuer_ca_id"]), str(first["issuer_name"]))
        )
        line.keycompromise_entries += 1
        items, probs = crtsh.fetch_row_certificates(session, rows.iloc[:1], progress=False)
        problems.extend(probs)
        if not items:
            line.entries_without_certificate += 1
            continue
        frame, probs = load_certificates(items[0][0], label=items[0][1]["source"], names=False)
        problems.extend(probs)
        for spki in frame["spki_sha256"].dropna().unique().tolist():
            spkis[spki] = None
            line.keys.add(spki)

    # 3. Every certificate on those keys, at any CA.
    cert_list: list[pd.DataFrame] = []
    for spki in spkis:
        items, probs = crtsh.fetch_spki_certificates(session, spki, progress=False)
        problems.extend(probs)
        got, probs = cert_frames(items)
        problems.extend(probs)
        cert_list.extend(got)
        if sink is not None:
            for frame in got:
                sink.add_certificates(coerce_certificates(frame))
        inputs.append(
            {
                "kind": "crtsh-spki",
                "path_or_url": f"{session.base_url('crtsh')}/?spkisha256={spki}",
                "entries": sum(len(f) for f in got),
            }
        )
    certs = (
        coerce_certificates(pd.concat(cert_list, ignore_index=True))
        if cert_list
        else coerce_certificates(pd.DataFrame())
    )
    given = list(problems)
    findings = find_key_reuse(
        certs,
        RevocationData(revs, [i for i in infos if isinstance(i, CRLInfo)], []),
        None,
        scope=scope,
        as_of=as_of,
        problems=problems,
        inputs=inputs,
    )
    findings.notes.insert(1, HTTP_NOTE)
    summaries = sorted(lines.values(), key=lambda c: c.ca_id)
    count_violations(findings, summaries, certs)
    stats = {
        "via": "http",
        "since": format_time(since) if since else None,
        "until": format_time(until) if until else None,
        "crls": len(infos),
        "keycompromise_entries": int(len(kc)),
        "certificates_downloaded": int(len(certs)),
    }
    result = SweepResult(findings, summaries, stats, has_upstream_failure(problems))
    if sink is not None:
        sink.finish(
            crls=[i for i in infos if isinstance(i, CRLInfo)],
            problems=given,
            inputs=findings.inputs,
            sweep={**stats, "failed": result.failed, "cas": [c.to_dict() for c in summaries]},
        )
    return result
