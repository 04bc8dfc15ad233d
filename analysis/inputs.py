"""Local key-reuse inputs loaded together (files at the edge, analysis in keyreuse.py).

The command line, the dashboard and the notebooks all go through `load_keyreuse_inputs`, so a
file reads the same everywhere and every skipped item lands in one `problems` list.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from .certificates import load_certificates
from .errors import Problem
from .keyreuse import Findings, find_key_reuse
from .keys import load_compromised_keys
from .revocations import RevocationData, load_revocations
from .schema import coerce_certificates, empty_compromised_keys, empty_revocations

PathLike = str | os.PathLike


@dataclass
class KeyReuseInputs:
    """Certificates, revocations and compromised keys as loaded, with provenance and problems."""

    certificates: pd.DataFrame
    revocations: RevocationData
    compromised: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)

    def analyse(self, *, scope: str = "global", as_of: dt.datetime | str | None = None) -> Findings:
        """Run the key-reuse rules on these inputs."""
        return find_key_reuse(
            self.certificates,
            self.revocations,
            self.compromised,
            scope=scope,
            as_of=as_of,
            problems=self.problems,
            inputs=self.inputs,
        )

    def extend(self, other: KeyReuseInputs) -> KeyReuseInputs:
        """Both sets of inputs together (e.g. local files plus fetched ones)."""
        certs = [f for f in (self.certificates, other.certificates) if len(f)]
        revs = [f for f in (self.revocations.frame, other.revocations.frame) if len(f)]
        comp = [f for f in (self.compromised, other.compromised) if len(f)]
        return KeyReuseInputs(
            certificates=coerce_certificates(pd.concat(certs, ignore_index=True))
            if certs
            else self.certificates,
            revocations=RevocationData(
                pd.concat(revs, ignore_index=True) if revs else empty_revocations(),
                self.revocations.crls + other.revocations.crls,
                [],
            ),
            compromised=pd.concat(comp, ignore_index=True) if comp else empty_compromised_keys(),
            problems=self.problems + other.problems,
            inputs=self.inputs + other.inputs,
        )


def load_keyreuse_inputs(
    certs: Iterable[PathLike | bytes] = (),
    crls: Iterable[PathLike] = (),
    revocations: Iterable[PathLike] = (),
    compromised: Iterable[PathLike] = (),
    *,
    names: bool = True,
    progress: bool | None = False,
) -> KeyReuseInputs:
    """Load local files: certificates (PEM/DER/dirs), CRL files, revocation CSV/xlsx, key lists."""
    problems: list[Problem] = []
    inputs: list[dict] = []
    cert_frames = []
    for item in certs:
        frame, probs = load_certificates(item, names=names, progress=progress)
        cert_frames.append(frame)
        problems.extend(probs)
        label = "<bytes>" if isinstance(item, bytes) else str(item)
        inputs.append({"kind": "certificates", "path_or_url": label, "entries": int(len(frame))})
    cert_frames = [f for f in cert_frames if len(f)]
    certificates = (
        coerce_certificates(pd.concat(cert_frames, ignore_index=True))
        if cert_frames
        else load_certificates([])[0]
    )
    if "_offset" not in certificates.columns:
        certificates["_offset"] = 0

    rev_frames, crl_infos = [], []
    for kind, items in (("crl", crls), ("revocations", revocations)):
        for item in items:
            data = load_revocation_files([item])
            rev_frames.append(data.frame)
            crl_infos.extend(data.crls)
            problems.extend(data.problems)
            inputs.append({"kind": kind, "path_or_url": str(item), "entries": int(len(data.frame))})
    rev_frames = [f for f in rev_frames if len(f)]
    rev = RevocationData(
        pd.concat(rev_frames, ignore_index=True) if rev_frames else empty_revocations(), crl_infos, []
    )

    comp_frames = []
    for item in compromised:
        frame, probs = load_compromised_keys([item])
        comp_frames.append(frame)
        problems.extend(probs)
        inputs.append({"kind": "compromised", "path_or_url": str(item), "entries": int(len(frame))})
    comp_frames = [f for f in comp_frames if len(f)]
    comp = pd.concat(comp_frames, ignore_index=True) if comp_frames else empty_compromised_keys()
    return KeyReuseInputs(certificates, rev, comp, problems, inputs)


def load_revocation_files(paths: Iterable[PathLike]) -> RevocationData:
    """CRLs, revocation CSVs and incident spreadsheets (xlsx, or CSV in a spreadsheet's own layout)
    into one frame: spreadsheets go to analysis.sources.spreadsheets, the rest to the core
    analysis.revocations, which never imports the sources."""
    from .sources.spreadsheets import spreadsheet_revocations

    return load_revocations(paths, reader=spreadsheet_revocations)
