"""The Bugzilla corpus for the Incidents page: views, filters, the bug table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from ..demo import DEMO_CORPUS_AS_OF
from ..errors import Problem
from .datasets import Dataset
from .display import EMPTY, _n, _utc_text, for_display


@dataclass
class CorpusViews:
    """Everything the Incidents page shows, already computed."""

    bugs: pd.DataFrame
    summary: dict
    ttc: pd.DataFrame
    deadlines: pd.DataFrame | None
    problems: list[dict] = field(default_factory=list)


def load_corpus_views(dataset: Dataset, as_of: str | None = None) -> CorpusViews | None:
    """The data set's corpus (bugs.json + bug folders) with its views, or None when it has none."""
    from .. import incidents

    dirs = dataset.files("corpus")
    if not dirs:
        return None
    d = dirs[0]
    corpus = incidents.load_corpus(d / "bugs.json", d)
    # The incident's analysis time is not the corpus's: the demo corpus has its own fixed day,
    # a fetched corpus is judged as of now.
    when = as_of or (DEMO_CORPUS_AS_OF if dataset.is_demo else None)
    summary = incidents.compute_summary(corpus, as_of=when)
    ttc = incidents.time_to_close(corpus.bugs, corpus.history)
    deadlines = None
    if corpus.comments is not None and not corpus.comments.empty:
        deadlines = incidents.compute_deadlines(corpus.bugs, corpus.comments, corpus.history, as_of=when)
    return CorpusViews(
        bugs=corpus.bugs,
        summary=summary,
        ttc=ttc,
        deadlines=deadlines,
        problems=[p.to_dict() for p in corpus.problems],
    )


def filter_bugs(
    bugs: pd.DataFrame,
    *,
    cas: Iterable[str] = (),
    tags: Iterable[str] = (),
    years: tuple[int, int] | None = None,
    status: str = "all",
) -> pd.DataFrame:
    """Bugs matching every filter given (a CA / tag filter matches any of the chosen ones)."""
    m = pd.Series(True, index=bugs.index)
    cas, tags = set(cas), set(tags)
    if cas:
        m &= bugs["cas"].map(lambda v: bool(cas & set(v if len(v) else ["unknown"])))
    if tags:
        m &= bugs["tags"].map(lambda v: bool(tags & set(v)))
    if years:
        m &= bugs["year"].between(years[0], years[1])
    if status == "open":
        m &= bugs["is_open"]
    elif status == "closed":
        m &= ~bugs["is_open"]
    return bugs[m]


def bug_table(bugs: pd.DataFrame, bugzilla_url: str = "https://bugzilla.mozilla.org") -> pd.DataFrame:
    """One row per bug: "Bug" is its Bugzilla link (the page shows the bug number as the link's
    text, never a bare "open"), "Status" has the resolution beside it ("RESOLVED FIXED")."""
    ids = bugs["id"].astype(int).astype(str)
    status = bugs["status"].fillna("").astype(str)
    if "resolution" in bugs.columns:
        status = (status + " " + bugs["resolution"].fillna("").astype(str)).str.strip()
    return pd.DataFrame(
        {
            "Bug": bugzilla_url + "/show_bug.cgi?id=" + ids,
            "Status": status.replace("", EMPTY),
            "Summary": bugs["summary"].fillna("").astype(str),
            "CA": bugs["cas"].map(lambda v: ", ".join(v) if len(v) else "unknown"),
            "Tags": bugs["tags"].map(lambda v: ", ".join(v) or EMPTY),
            "Created (UTC)": _utc_text(bugs["creation_time"]),
            "Resolved (UTC)": _utc_text(bugs["resolved_at"]),
        }
    ).reset_index(drop=True)


def problems_frame(problems: Iterable[Problem | Mapping]) -> pd.DataFrame:
    rows = [p.to_dict() if isinstance(p, Problem) else dict(p) for p in problems]
    return for_display(
        pd.DataFrame(
            [{"Input": r.get("input"), "Where": r.get("position"), "Reason": r.get("reason")} for r in rows],
            columns=["Input", "Where", "Reason"],
        )
    )


def corpus_views_filtered(
    views: CorpusViews,
    *,
    cas: Iterable[str] = (),
    tags: Iterable[str] = (),
    years: tuple[int, int] | None = None,
    status: str = "all",
) -> dict:
    """Everything the Incidents page draws for a filter: metrics, chart specs and tables."""
    from .. import charts, incidents

    sub = filter_bugs(views.bugs, cas=cas, tags=tags, years=years, status=status)
    ttc = views.ttc[views.ttc["id"].isin(sub["id"])]
    dl = views.deadlines[views.deadlines["bug_id"].isin(sub["id"])] if views.deadlines is not None else None
    share = None
    if dl is not None and len(dl):
        judged = dl[dl["outcome"].isin(["kept", "missed"])]
        share = float((judged["outcome"] == "kept").mean()) if len(judged) else None
    n_closed = int((~sub["is_open"]).sum())
    if not ttc.empty:
        median_reason = None
    elif n_closed == 0:
        median_reason = "no bug in this selection is closed"
    else:
        median_reason = (
            f"{_n(n_closed, 'closed bug')} but none with a resolution time the data gives "
            "(cf_last_resolved or the history), or only INVALID/DUPLICATE ones"
        )
    if dl is None or not len(dl):
        deadline_reason = (
            "deadlines are judged from comments, and no bug in this selection has its comments loaded"
        )
    elif share is None:
        deadline_reason = (
            "no rule could be judged kept or missed yet (all pending, not applicable or unknown)"
        )
    else:
        deadline_reason = None
    out = {
        "n": int(len(sub)),
        "open": int(sub["is_open"].sum()),
        "median_days": None if ttc.empty else float(ttc["days"].median()),
        "median_reason": median_reason,
        "deadline_share": share,
        "deadline_reason": deadline_reason,
        "has_deadlines": dl is not None and len(dl) > 0,
    }
    if sub.empty:
        return out
    out.update(
        {
            "year_spec": charts.bugs_per_year(incidents.counts_by_year(sub)).to_dict(),
            "ca_spec": charts.bugs_per_category(
                incidents.counts_by_ca(sub), "ca", title="Bugs per CA", label="CA"
            ).to_dict(),
            "tag_spec": charts.bugs_per_category(
                incidents.counts_by_tag(sub), "tag", title="Bugs per whiteboard tag", label="Tag"
            ).to_dict(),
            "ttc_spec": charts.time_to_close(ttc).to_dict(),
            "deadline_spec": charts.deadline_adherence(dl).to_dict() if out["has_deadlines"] else None,
            "deadlines": None
            if not out["has_deadlines"]
            else for_display(
                dl.rename(columns={"bug_id": "Bug", "rule": "Rule", "outcome": "Outcome", "detail": "Detail"})
            ),
            "bugs": for_display(bug_table(sub)),
        }
    )
    return out


def corpus_filters(views: CorpusViews) -> dict:
    """The filter choices (years, CAs, tags present in the corpus) and the time it is judged at."""
    bugs = views.bugs
    return {
        "as_of": views.summary.get("as_of"),
        "years": sorted(int(y) for y in bugs["year"].dropna().unique()),
        "cas": sorted({c for v in bugs["cas"] for c in (v if len(v) else ["unknown"])}, key=str.casefold),
        "tags": sorted({t for v in bugs["tags"] for t in v}),
    }
