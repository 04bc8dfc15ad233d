"""pwnedkeys: is a key known to be compromised? ``GET <base>/<lowercase hex SPKI SHA-256>`` answers
200 (known compromised, with an attestation) or 404 (not known). Both are answers and are cached
for a day; anything else (429 after retries, 5xx, an HTML page with 200) is an upstream failure.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..errors import Problem, UpstreamError
from ..schema import COMPROMISED_KEY_COLUMNS
from .crtsh import normalize_spki
from .http import Answer, InvalidAnswer, Session, UpstreamProblem, snippet_of

SOURCE = "pwnedkeys"


def _not_html(answer: Answer) -> None:
    if answer.status == 200 and (
        "html" in answer.content_type.lower() or answer.content.lstrip()[:1] == b"<"
    ):
        raise InvalidAnswer(f"an HTML page, not an attestation: {snippet_of(answer.content)!r}")


def check_pwnedkey(session: Session, spki_sha256: str) -> bool:
    """True when pwnedkeys lists the key as compromised, False when it does not know it.

    Raises ValueError for a malformed hash, UpstreamError when pwnedkeys fails.
    """
    spki = normalize_spki(spki_sha256)
    answer = session.get(
        f"{session.base_url('pwnedkeys')}/{spki}",
        kind="pwnedkeys",
        ok_statuses=(200, 404),
        validate=_not_html,
    )
    return answer.status == 200


def check_pwnedkeys(
    session: Session, spkis: Iterable[str], *, progress: bool | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """One lookup per distinct SPKI. Returns the hits as a compromised-keys frame (spki_sha256,
    reported_at undated, source "pwnedkeys") and the problems: a malformed hash, or an
    UpstreamProblem for a lookup that failed (the other keys are still checked)."""
    from tqdm import tqdm

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
            if check_pwnedkey(session, spki):
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
