"""pwnedkeys: is a key known to be compromised? ``GET <base>/<lowercase hex SPKI SHA-256>`` answers
404 (not known) or 200 with an attestation: a JSON Web Signature in flattened JSON form,
``{"protected", "payload", "signature"}`` (base64url), whose protected header names the algorithm
(``RS256``, ``ES256``, ``ES384``, ``ES512``) and, as ``kid``, the key's SPKI SHA-256, whose payload
says the key is pwned, and which is signed by the compromised key itself (pwnedkeys.com/api/v1).

A 200 counts only when the attestation has that form and names the key asked about; when the
key's SubjectPublicKeyInfo is known (from the certificates loaded) its signature must verify too.
Anything else (truncated JSON, ``[[[[``, another key's attestation, a bad signature, an HTML page)
is an upstream failure (exit status 3) and is never cached. Good answers are cached for a day,
and re-checked when read back from the cache.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping

import pandas as pd

from ..errors import Problem, UpstreamError
from ..safety import load_json
from ..schema import COMPROMISED_KEY_COLUMNS
from .crtsh import normalize_spki
from .http import Answer, InvalidAnswer, Session, UpstreamProblem, snippet_of

SOURCE = "pwnedkeys"
MAGIC = "key is pwned"  # the phrase every attestation payload carries
# JOSE algorithm -> (key kind, hash name, bytes per signature half for ECDSA)
ALGORITHMS: dict[str, tuple[str, str, int]] = {
    "RS256": ("rsa", "sha256", 0),
    "ES256": ("ec", "sha256", 32),
    "ES384": ("ec", "sha384", 48),
    "ES512": ("ec", "sha512", 66),
}
_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def _unb64(text: str, what: str) -> bytes:
    if not _B64URL.match(text):
        raise InvalidAnswer(f"attestation {what} is not base64url", retry=False)
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidAnswer(f"attestation {what} is not base64url", retry=False) from None


def check_attestation(body: bytes, spki_sha256: str, spki_der: bytes | None = None) -> str:
    """Check a pwnedkeys 200 body; returns the JOSE algorithm. Raises InvalidAnswer naming what is
    wrong: not JSON (retried: it may be cut short), or not an attestation for this key (not retried)."""
    if body.lstrip()[:1] == b"<":
        raise InvalidAnswer(f"an HTML page, not an attestation: {snippet_of(body)!r}")
    try:
        obj = load_json(body)
    except ValueError as exc:
        raise InvalidAnswer(f"not an attestation (invalid JSON: {str(exc)[:80]})") from None
    if not isinstance(obj, dict) or not all(
        isinstance(obj.get(k), str) and obj.get(k) for k in ("protected", "payload", "signature")
    ):
        raise InvalidAnswer(
            "not an attestation: expected a JSON object with protected, payload and signature", retry=False
        )
    try:
        header = json.loads(_unb64(obj["protected"], "header"))
    except (ValueError, RecursionError):
        raise InvalidAnswer("attestation header is not JSON", retry=False) from None
    if not isinstance(header, dict):
        raise InvalidAnswer("attestation header is not a JSON object", retry=False)
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise InvalidAnswer(f"attestation algorithm {str(alg)[:20]!r} is not one pwnedkeys uses", retry=False)
    kid = header.get("kid")
    if not isinstance(kid, str) or kid.lower() != spki_sha256.lower():
        raise InvalidAnswer(f"attestation is for another key (kid {str(kid)[:70]!r})", retry=False)
    payload = _unb64(obj["payload"], "payload")
    if MAGIC.encode() not in payload:
        raise InvalidAnswer(f"attestation payload does not say the {MAGIC}", retry=False)
    signature = _unb64(obj["signature"], "signature")
    if spki_der is not None:
        _verify(alg, spki_der, f"{obj['protected']}.{obj['payload']}".encode("ascii"), signature)
    return alg


def _verify(alg: str, spki_der: bytes, signed: bytes, signature: bytes) -> None:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    kind, hash_name, half = ALGORITHMS[alg]
    digest = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}[hash_name]()
    try:
        key = serialization.load_der_public_key(spki_der)
    except (ValueError, UnsupportedAlgorithm):
        return  # a key cryptography cannot load: the form checks above are all we can do
    try:
        if kind == "rsa":
            if not isinstance(key, rsa.RSAPublicKey):
                raise InvalidSignature
            key.verify(signature, signed, padding.PKCS1v15(), digest)
        else:
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != _EC_CURVES[alg]:
                raise InvalidSignature
            if len(signature) != 2 * half:
                raise InvalidSignature
            r = int.from_bytes(signature[:half], "big")
            s = int.from_bytes(signature[half:], "big")
            key.verify(encode_dss_signature(r, s), signed, ec.ECDSA(digest))
    except InvalidSignature:
        raise InvalidAnswer(
            f"attestation signature ({alg}) does not verify with the key", retry=False
        ) from None


def check_pwnedkey(session: Session, spki_sha256: str, spki_der: bytes | None = None) -> bool:
    """True when pwnedkeys lists the key as compromised (with a valid attestation), False when it
    does not know it. `spki_der`, the key's SubjectPublicKeyInfo, lets the signature be checked.

    Raises ValueError for a malformed hash, UpstreamError when pwnedkeys fails or answers junk.
    """
    spki = normalize_spki(spki_sha256)

    def validate(answer: Answer) -> None:
        if answer.status == 200:
            if "html" in answer.content_type.lower():
                raise InvalidAnswer(f"an HTML page, not an attestation: {snippet_of(answer.content)!r}")
            check_attestation(answer.content, spki, spki_der)

    answer = session.get(
        f"{session.base_url('pwnedkeys')}/{spki}",
        kind="pwnedkeys",
        ok_statuses=(200, 404),
        validate=validate,
        revalidate=True,
    )
    return answer.status == 200


def check_pwnedkeys(
    session: Session,
    spkis: Iterable[str],
    *,
    keys: Mapping[str, bytes] | None = None,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """One lookup per distinct SPKI. Returns the hits as a compromised-keys frame (spki_sha256,
    reported_at undated, source "pwnedkeys") and the problems: a malformed hash, or an
    UpstreamProblem for a lookup that failed or answered junk (the other keys are still checked).
    `keys` maps SPKI SHA-256 to the DER SubjectPublicKeyInfo, for checking signatures."""
    from tqdm import tqdm

    keys = {k.lower(): v for k, v in (keys or {}).items()}
    problems: list[Problem] = []
    todo: dict[str, None] = {}
    for s in spkis:
        try:
            todo[normalize_spki(s)] = None
        except ValueError as exc:
            problems.append(Problem(SOURCE, None, str(exc)))
    hits = []
    for spki in tqdm(
        list(todo), desc="pwnedkeys", unit="key", disable=None if progress is None else not progress
    ):
        try:
            if check_pwnedkey(session, spki, keys.get(spki)):
                hits.append(spki)
        except UpstreamError as exc:
            problems.append(UpstreamProblem.from_error(exc, f"spki {spki}"))
    frame = pd.DataFrame(
        {
            "spki_sha256": pd.Series(hits, dtype="string"),
            "reported_at": pd.Series([pd.NaT] * len(hits), dtype=COMPROMISED_KEY_COLUMNS["reported_at"]),
            "source": pd.Series([SOURCE] * len(hits), dtype="string"),
        }
    )
    return frame, problems
