"""The network inputs of `keyreuse`: crt.sh certificates by SPKI, CRLs by URL (given, from a CCADB
list, or from the certificates' CRL Distribution Points), crt.sh's revocation history and
pwnedkeys. Every download is parsed by our own loaders; an upstream failure is kept as a problem
(exit status 3) while everything else still counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import pandas as pd

from ..certificates import load_certificates, spki_der_by_hash
from ..errors import InputError, Problem, UpstreamError
from ..formats import TIME_DTYPE
from ..inputs import KeyReuseInputs
from ..revocations import CRLInfo, RevocationData, load_crl_bytes
from ..schema import REASON_NAMES, coerce_certificates, coerce_revocations, empty_compromised_keys
from . import crls as crl_source
from . import crtsh, pwnedkeys
from .http import Session, UpstreamProblem, has_upstream_failure


def _cert_frames_from_downloads(items: list[tuple[bytes, dict]]) -> tuple[list[pd.DataFrame], list[Problem]]:
    frames, problems = [], []
    for pem, meta in items:
        frame, probs = load_certificates(pem, label=meta["source"])
        problems.extend(probs)
        if frame.empty:
            continue
        frame["crtsh_id"] = pd.array([meta["crtsh_id"]] * len(frame), dtype="Int64")
        first_seen = meta.get("first_seen")
        frame["first_seen"] = (
            pd.Series([first_seen] * len(frame), dtype="object")
            .pipe(lambda s: pd.to_datetime(s, utc=True))
            .astype(TIME_DTYPE)
        )
        frame["issuer_ca_id"] = pd.array([meta.get("issuer_ca_id")] * len(frame), dtype="Int64")
        frames.append(frame)
    return frames, problems


def _local_cert_paths(inputs: KeyReuseInputs) -> list[Path]:
    """Every local certificate file loaded (regular files only)."""
    out = []
    for path in dict.fromkeys(s.split("#block ")[0] for s in inputs.certificates["source"].astype(str)):
        p = Path(path)
        if p.is_file():
            out.append(p)
    return out


def _local_cert_bytes(inputs: KeyReuseInputs) -> list[bytes]:
    """The bytes of every local certificate file loaded, for their CRL Distribution Points."""
    out = []
    for p in _local_cert_paths(inputs):
        try:
            out.append(p.read_bytes())
        except OSError:
            continue  # unreadable now: the loader reported it when it could not read it
    return out


@dataclass(frozen=True)
class NetworkInputs:
    """What to fetch for a key-reuse run (each field mirrors a `keyreuse` option)."""

    crtsh_spkis: Sequence[str] = ()  # --crtsh-spki
    crl_urls: Sequence[str] = ()  # --crl URL
    crl_lists: Sequence[str | PathLike] = ()  # --crl-list FILE.json
    crl_from_certs: bool = False  # --crl-from-certs (URLs from data: public addresses only)
    crtsh_revocations: bool = False  # --crtsh-revocations
    crtsh_db: str | None = None  # --crtsh-db DSN
    pwnedkeys: bool = False  # --pwnedkeys

    def any(self) -> bool:
        return bool(
            self.crtsh_spkis
            or self.crl_urls
            or self.crl_lists
            or self.crl_from_certs
            or self.crtsh_revocations
            or self.pwnedkeys
        )


def _db_revocations(
    dsn: str | None, offline: bool, certs: pd.DataFrame
) -> tuple[pd.DataFrame, list[CRLInfo], list[Problem]]:
    """crt.sh's crl_revoked rows for the certificates whose crt.sh issuer id is known."""
    if "issuer_ca_id" not in certs.columns or certs["issuer_ca_id"].isna().all():
        return (
            pd.DataFrame(),
            [],
            [
                Problem(
                    "--crtsh-revocations",
                    None,
                    "no certificate with a crt.sh issuer id (use --crtsh-spki or a fetched folder)",
                )
            ],
        )
    known = certs[certs["issuer_ca_id"].notna()]
    pairs = list(
        dict.fromkeys(zip(known["issuer_ca_id"].astype(int), known["serial"].astype(str), strict=True))
    )
    frame, problems = crtsh.fetch_revocations_db(dsn, pairs, offline=offline)
    issuer_of = dict(zip(known["issuer_ca_id"].astype(int), known["issuer_dn"].astype(str), strict=False))
    rows = []
    for r in frame.to_dict("records"):
        code = r.get("reason_code")
        code = 0 if code is None or pd.isna(code) else int(code)
        if code not in REASON_NAMES:
            problems.append(
                Problem(
                    str(r.get("source")),
                    f"ca_id {r['ca_id']} serial {r['serial']}",
                    f"unknown CRL reason code {code}; entry skipped",
                )
            )
            continue
        rows.append(
            {
                "issuer_dn": issuer_of[int(r["ca_id"])],
                "serial": r["serial"],
                "revoked_at": r["revoked_at"],
                "reason": REASON_NAMES[code],
                "reason_code": code,
                "source": f"crtsh-db:ca_id {r['ca_id']}",
            }
        )
    infos = []
    if not has_upstream_failure(problems):
        # Every issuer asked about is covered, even when crt.sh knows no revocation for it.
        for ca_id in dict.fromkeys(known["issuer_ca_id"].astype(int)):
            infos.append(CRLInfo(f"crt.sh database ca_id {ca_id}", issuer_of[ca_id], None, None, 0))
    return coerce_revocations(pd.DataFrame(rows)) if rows else pd.DataFrame(), infos, problems


def add_network_inputs(
    inputs: KeyReuseInputs, session: Session, wanted: NetworkInputs
) -> tuple[KeyReuseInputs, bool]:
    """Add what `wanted` names to the local inputs; returns (inputs, upstream_failed)."""
    problems: list[Problem] = []
    new_inputs: list[dict] = []
    cert_frames: list[pd.DataFrame] = []
    downloaded: list[bytes] = []

    for spki in wanted.crtsh_spkis:
        items, probs = crtsh.fetch_spki_certificates(session, spki)
        problems.extend(probs)
        frames, probs = _cert_frames_from_downloads(items)
        problems.extend(probs)
        cert_frames.extend(frames)
        downloaded.extend(pem for pem, _ in items)
        new_inputs.append(
            {
                "kind": "crtsh-spki",
                "path_or_url": f"{session.base_url('crtsh')}/?spkisha256={spki}",
                "entries": sum(len(f) for f in frames),
            }
        )
    certs = inputs.certificates
    if cert_frames:
        certs = coerce_certificates(
            pd.concat([f for f in [inputs.certificates, *cert_frames] if len(f)], ignore_index=True)
        )

    urls = list(wanted.crl_urls)
    for path in wanted.crl_lists:
        try:
            urls.extend(crl_source.load_crl_list(path))
        except InputError as exc:
            problems.append(Problem(str(path), None, str(exc)))
    from_data: set[str] = set()
    if wanted.crl_from_certs:
        found, probs = crl_source.crl_urls_from_certificates(_local_cert_bytes(inputs) + downloaded)
        problems.extend(probs)
        # A certificate is data, not the user: its URLs may not reach the machine's own network.
        from_data = set(found) - set(urls)
        urls.extend(found)
    rev_frames: list[pd.DataFrame] = []
    infos: list[CRLInfo] = []
    for url in dict.fromkeys(urls):
        try:
            data = crl_source.fetch_crl(session, url, untrusted=url in from_data)
        except UpstreamError as exc:
            problems.append(UpstreamProblem.from_error(exc, url))
            new_inputs.append({"kind": "crl", "path_or_url": url, "entries": 0})
            continue
        except ValueError as exc:
            problems.append(Problem(url, None, str(exc)))
            continue
        rd = load_crl_bytes(data, url)
        rev_frames.append(rd.frame)
        infos.extend(rd.crls)
        problems.extend(rd.problems)
        new_inputs.append({"kind": "crl", "path_or_url": url, "entries": int(len(rd.frame))})

    if wanted.crtsh_revocations:
        frame, more_infos, probs = _db_revocations(wanted.crtsh_db, session.offline, certs)
        problems.extend(probs)
        infos.extend(more_infos)
        if len(frame):
            rev_frames.append(frame)
        new_inputs.append(
            {"kind": "crtsh-revocations", "path_or_url": "crt.sh database", "entries": int(len(frame))}
        )

    comp = empty_compromised_keys()
    if wanted.pwnedkeys:
        # The keys themselves, so each attestation's signature is checked against its own key.
        keys = spki_der_by_hash([*_local_cert_paths(inputs), *downloaded])
        comp, probs = pwnedkeys.check_pwnedkeys(
            session, certs["spki_sha256"].dropna().unique().tolist(), keys=keys
        )
        problems.extend(probs)
        new_inputs.append(
            {"kind": "pwnedkeys", "path_or_url": session.base_url("pwnedkeys"), "entries": int(len(comp))}
        )

    extra = KeyReuseInputs(
        certificates=coerce_certificates(pd.concat(cert_frames, ignore_index=True))
        if cert_frames
        else inputs.certificates.iloc[0:0],
        revocations=RevocationData(
            coerce_revocations(pd.concat([f for f in rev_frames if len(f)], ignore_index=True))
            if any(len(f) for f in rev_frames)
            else inputs.revocations.frame.iloc[0:0],
            infos,
            [],
        ),
        compromised=comp,
        problems=problems,
        inputs=new_inputs,
    )
    merged = inputs.extend(extra)
    return merged, has_upstream_failure(problems)
