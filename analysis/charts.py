"""Altair chart builders shared by the dashboard and the notebooks.

Every builder is a pure function of frames: it aggregates in pandas first (so no chart carries
more than `MAX_MARKS` rows, whatever the data's size), then returns an `alt.Chart` with a title,
axis titles with units, and times on a UTC scale (the axis says "UTC"). Nothing here touches
Streamlit or the disk.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

MAX_MARKS = 5000
# Bucket sizes tried in order until the marks fit (pandas offsets, axis wording).
_BUCKETS = (
    ("D", "day"),
    ("W-MON", "week"),
    ("MS", "month"),
    ("QS", "quarter"),
    ("YS", "year"),
)
ISSUANCE_CATEGORIES = ("Issued after compromise", "Compromised key, issued before compromise", "Other keys")
ISSUANCE_COLORS = ("#d62728", "#ff9f1c", "#9aa5b1")
EVENT_COLORS = {
    "issuance": "#4c78a8",
    "issuance after compromise": "#d62728",
    "compromise time": "#000000",
}
REASON_COLORS = {
    "keyCompromise": "#b5179e",
    "superseded": "#2a9d8f",
    "cessationOfOperation": "#e9c46a",
    "affiliationChanged": "#8ab17d",
    "unspecified": "#6c757d",
    "privilegeWithdrawn": "#f4a261",
    "cACompromise": "#7209b7",
}
OUTCOME_COLORS = {
    "kept": "#2a9d8f",
    "missed": "#d62728",
    "pending": "#e9c46a",
    "unknown": "#adb5bd",
    "not_applicable": "#dee2e6",
}


def render_offline(fmt: str = "svg") -> None:
    """Draw charts as static SVG (or "png") in notebooks: Vega runs inside Python (vl-convert), so a
    chart shows without a network, without JavaScript and in static viewers (GitHub, nbviewer),
    where Altair's default HTML output loads vega-embed from a CDN. The dashboard is not affected
    (Streamlit draws the chart specs itself)."""
    alt.renderers.enable(fmt)


def _iso(series: pd.Series) -> pd.Series:
    """UTC times as ISO text with Z (Vega parses it as an absolute time)."""
    s = pd.to_datetime(series, utc=True)
    return s.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


# Time units for time axes, finest first: (name, pandas floor, one step, label format, pandas tick
# frequency, tooltip time unit). A chart uses the finest unit that gives at most MAX_BARS periods over its span.
TIME_UNITS = (
    ("minute", "min", pd.Timedelta(minutes=1), "%Y-%m-%d %H:%M", "min", "utcyearmonthdatehoursminutes"),
    ("hour", "h", pd.Timedelta(hours=1), "%Y-%m-%d %H:00", "h", "utcyearmonthdatehours"),
    ("day", "D", pd.Timedelta(days=1), "%Y-%m-%d", "D", "utcyearmonthdate"),
    ("week", "W", pd.Timedelta(weeks=1), "%Y-%m-%d", "W-MON", "utcyearmonthdate"),
    ("month", "M", pd.DateOffset(months=1), "%Y-%m", "MS", "utcyearmonth"),
    ("year", "Y", pd.DateOffset(years=1), "%Y", "YS", "utcyear"),
)
MAX_BARS = 100
MAX_TICKS = 12
# Counts are whole numbers: no 0.5-certificate ticks.
COUNT_AXIS = {"tickMinStep": 1, "format": "d"}


def time_unit(times: pd.Series, max_periods: int = MAX_BARS) -> tuple:
    """The finest of `TIME_UNITS` whose periods over the span of `times` number at most
    `max_periods` (seconds apart -> minute, days -> day, years -> month or year)."""
    t = pd.to_datetime(times, utc=True).dropna()
    if t.empty:
        return TIME_UNITS[4]
    lo, hi = t.min(), t.max()
    for unit in TIME_UNITS:
        if _periods(lo, hi, unit) <= max_periods:
            return unit
    return TIME_UNITS[-1]


def _periods(lo: pd.Timestamp, hi: pd.Timestamp, unit: tuple) -> int:
    name = unit[0]
    if name == "month":
        return (hi.year - lo.year) * 12 + hi.month - lo.month + 1
    if name == "year":
        return hi.year - lo.year + 1
    return int((hi - lo) / unit[2]) + 1


def floor_to(times: pd.Series, unit: tuple) -> pd.Series:
    """UTC times floored to the start of their `unit` period (weeks start on Monday)."""
    t = pd.to_datetime(times, utc=True).dt.tz_localize(None)
    name = unit[0]
    if name in ("minute", "hour", "day"):
        out = t.dt.floor(unit[1])
    elif name == "week":
        out = t.dt.to_period("W-SUN").dt.start_time
    else:
        out = t.dt.to_period(unit[1]).dt.start_time
    return out.dt.tz_localize("UTC")


def _datetime(t: pd.Timestamp) -> dict:
    """A Vega-Lite DateTime in UTC: Streamlit's renderer drops plain millisecond tick values, and a
    domain in milliseconds next to one in DateTimes (Vega-Lite's own) makes an infinite extent."""
    t = pd.Timestamp(t).tz_convert("UTC")
    return {
        "year": t.year,
        "month": t.month,
        "date": t.day,
        "hours": t.hour,
        "minutes": t.minute,
        "seconds": t.second,
        "utc": True,
    }


def _time_axis(
    title: str, unit: tuple | None = None, lo: pd.Timestamp | None = None, hi: pd.Timestamp | None = None
) -> alt.Axis:
    """A UTC time axis labelled in `unit`, with ticks at whole units between `lo` and `hi` (every
    unit, or every few when there are more than MAX_TICKS), so a span of seconds is not drawn as a
    second-by-second axis and a month is not labelled twice. The ticks are explicit values: Vega's
    own time-interval tick counts fail for minutes and hours (vega-scale 8)."""
    if unit is None or lo is None or hi is None:
        return alt.Axis(title=title, labelOverlap=True, format="%Y-%m")
    step = max(1, -(-_periods(lo, hi, unit) // MAX_TICKS))
    start = floor_to(pd.Series([lo]), unit).iloc[0]
    ticks = pd.date_range(start, hi, freq=f"{step}{unit[4]}")
    ticks = ticks[ticks >= lo] if len(ticks[ticks >= lo]) else ticks
    # The scale is UTC, so the labels are UTC; formatType "utc" on top of it breaks the format.
    return alt.Axis(
        title=title,
        format=unit[3],
        labelOverlap=True,
        values=[_datetime(t) for t in ticks],
        labelAngle=0,
    )


def _empty(title: str, message: str) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"message": [message]}))
        .mark_text(size=14, color="#6c757d")
        .encode(text="message:N")
        .properties(title=title, height=80)
    )


def pick_bucket(times: pd.Series, groups: pd.Series | None = None, limit: int = MAX_MARKS) -> tuple[str, str]:
    """The finest bucket (day, week, month, quarter, year) whose (group, bucket) count fits `limit`."""
    t = pd.to_datetime(times, utc=True).dropna()
    if t.empty:
        return _BUCKETS[0]
    for freq, word in _BUCKETS:
        b = t.dt.tz_localize(None).dt.to_period(_period(freq))
        n = (
            pd.DataFrame({"g": groups.loc[t.index].to_numpy(), "b": b.astype(str).to_numpy()})
            .drop_duplicates()
            .shape[0]
            if groups is not None
            else b.nunique()
        )
        if n <= limit:
            return freq, word
    return _BUCKETS[-1]


def _period(freq: str) -> str:
    return {"D": "D", "W-MON": "W-SUN", "MS": "M", "QS": "Q", "YS": "Y"}[freq]


def _floor(times: pd.Series, freq: str) -> pd.Series:
    t = pd.to_datetime(times, utc=True).dt.tz_localize(None)
    return t.dt.to_period(_period(freq)).dt.start_time.dt.tz_localize("UTC")


def count_marks(chart: alt.TopLevelMixin) -> int:
    """How many data rows a chart carries (an upper bound of its marks); for tests and checks."""
    spec = chart.to_dict()
    return sum(len(rows) for rows in spec.get("datasets", {}).values())


# --- key reuse ---------------------------------------------------------------------------------


def issuance_categories(issuances: pd.DataFrame) -> pd.Series:
    cat = pd.Series(ISSUANCE_CATEGORIES[2], index=issuances.index)
    cat[issuances["key_compromised"].astype(bool)] = ISSUANCE_CATEGORIES[1]
    cat[issuances["violation"].astype(bool)] = ISSUANCE_CATEGORIES[0]
    return cat


def issuance_over_time(issuances: pd.DataFrame, *, title: str = "Certificates issued over time") -> alt.Chart:
    """Stacked bars of issuances per period (month unless the span needs coarser), split into
    issued after compromise / compromised key before compromise / other keys, with each compromise
    time marked by a rule (aggregated per period when there are many)."""
    if issuances.empty:
        return _empty(title, "No certificates loaded")
    cat = issuance_categories(issuances)
    comp = issuances.loc[issuances["compromised_at"].notna()].drop_duplicates("spki_sha256")
    span = pd.concat([issuances["issued_at"], comp["compromised_at"]], ignore_index=True)
    unit = time_unit(span)
    word, step = unit[0], unit[2]
    agg = (
        pd.DataFrame({"period": floor_to(issuances["issued_at"], unit), "category": cat})
        .groupby(["period", "category"], observed=True)
        .size()
        .rename("certificates")
        .reset_index()
    )
    # An explicit domain one period wider on each side: a single period would otherwise fill the axis.
    bounds = floor_to(pd.Series([span.min(), span.max()]), unit)
    lo, hi = bounds.iloc[0] - step, bounds.iloc[1] + step * 2
    domain = [_datetime(lo), _datetime(hi)]
    # Explicit bar extents (period start to end): a local-time timeUnit on a UTC scale draws no bars.
    agg["period_end"] = _iso(agg["period"] + step)
    agg["period"] = _iso(agg["period"])
    bars = (
        alt.Chart(agg)
        .mark_bar()
        .encode(
            x=alt.X(
                "period:T",
                title=f"Issue time ({word}, UTC)",
                scale=alt.Scale(type="utc", domainMin=domain[0], domainMax=domain[1]),
                axis=_time_axis(f"Issue time ({word}, UTC)", unit, lo, hi),
            ),
            x2="period_end:T",
            y=alt.Y(
                "sum(certificates):Q",
                title=f"Certificates per {word}",
                stack="zero",
                axis=alt.Axis(**COUNT_AXIS),
            ),
            color=alt.Color(
                "category:N",
                title="Certificate",
                scale=alt.Scale(domain=list(ISSUANCE_CATEGORIES), range=list(ISSUANCE_COLORS)),
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("category:N"),
            tooltip=[
                alt.Tooltip(f"{unit[5]}(period):T", title=f"{word.capitalize()} (UTC)"),
                alt.Tooltip("category:N", title="Certificate"),
                alt.Tooltip("sum(certificates):Q", title="Certificates"),
            ],
        )
    )
    layers = [bars]
    if len(comp):
        if len(comp) > 200:
            rules = (
                pd.DataFrame({"when": floor_to(comp["compromised_at"], unit)})
                .groupby("when")
                .size()
                .rename("keys")
                .reset_index()
            )
        else:
            rules = pd.DataFrame(
                {"when": comp["compromised_at"], "keys": 1, "key": comp["spki_sha256"].str.slice(0, 16)}
            )
        rules["when"] = _iso(rules["when"])
        rules["label"] = "key compromise time"
        tips = [alt.Tooltip("utcyearmonthdatehoursminutes(when):T", title="Compromised (UTC)")]
        tips += [alt.Tooltip("key:N", title="SPKI SHA-256")] if "key" in rules else [alt.Tooltip("keys:Q")]
        layers.append(
            alt.Chart(rules)
            .mark_rule(color="black", strokeDash=[4, 3], opacity=0.7)
            .encode(x=alt.X("when:T"), tooltip=tips)  # the bars set the shared scale: one domain, no conflict
        )
    return (
        alt.layer(*layers)
        .properties(
            title=alt.Title(title, subtitle="Dashed lines: compromise time of each key (UTC)"), height=320
        )
        .configure_legend(labelLimit=320)
    )


def key_timeline(
    events: pd.DataFrame,
    *,
    title: str = "Issuance, revocation and compromise per key",
    zone_note: str = "UTC",
) -> alt.Chart:
    """One row per key: issuances (bucketed so marks stay under the cap), revocations coloured by
    reason, the key's compromise time, and the report's own timeline events as vertical rules.

    `events` is `analysis.timeline.build_events` (time, kind, key, text, reason, stated; kind
    "report" rows have no key). Pan and zoom on the time axis.
    """
    data = events[(events["kind"] != "report") & events["time"].notna()]
    report = events[(events["kind"] == "report") & events["time"].notna()]
    if data.empty and report.empty:
        return _empty(
            title, "No events: load certificates with compromised keys, or a report with a timeline"
        )
    ev = pd.DataFrame(
        {
            "when": data["time"],
            "key": data["key"].astype(str).str.slice(0, 12),
            "event": data["kind"].astype(str),
            "detail": data["text"].astype(str),
        }
    )
    after = data["text"].astype(str).str.contains("after the key's compromise", regex=False)
    ev.loc[(data["kind"] == "issuance") & after, "event"] = "issuance after compromise"
    ev.loc[data["kind"] == "compromise", "event"] = "compromise time"
    rev = data["kind"] == "revocation"
    ev.loc[rev, "event"] = "revoked: " + data.loc[rev, "reason"].fillna("unspecified").astype(str)
    all_times = pd.concat([data["time"], report["time"]], ignore_index=True)
    axis_unit = time_unit(all_times, max_periods=MAX_TICKS * 4)
    t_all = pd.to_datetime(all_times, utc=True)
    # One whole unit of room on each side of the events' units.
    first = floor_to(pd.Series([t_all.min()]), axis_unit).iloc[0] - axis_unit[2]
    last = floor_to(pd.Series([t_all.max()]), axis_unit).iloc[0] + axis_unit[2] * 2
    axis = _time_axis(f"Time ({zone_note})", axis_unit, first, last)
    budget = MAX_MARKS - len(report)
    freq, word = pick_bucket(ev["when"], ev["key"] + "|" + ev["event"], limit=max(budget, 100))
    # Events within a unit or two (PKITS: a second apart) get a fixed domain of whole units, so one
    # second is not stretched across the chart; nothing to zoom then (a domain and Vega-Lite's
    # scale-bound zoom together make an infinite extent). Longer spans keep pan and zoom.
    tiny = _periods(t_all.min(), t_all.max(), axis_unit) <= 2
    x_scale = (
        alt.Scale(type="utc", padding=14, domain=[_datetime(first), _datetime(last)])
        if tiny
        else alt.Scale(type="utc", padding=14)
    )
    layers = []
    domain = ["issuance", "issuance after compromise", "compromise time"]
    if len(ev):
        ev["bucket"] = _floor(ev["when"], freq)
        agg = (
            ev.groupby(["key", "event", "bucket"], observed=True)
            .agg(n=("when", "size"), first=("when", "min"), detail=("detail", "first"))
            .reset_index()
        )
        agg["when"] = _iso(agg["first"])
        agg = agg.drop(columns=["first", "bucket"])
        agg["detail"] = agg["detail"].where(agg["n"] == 1, agg["n"].astype(str) + " events in this " + word)
        domain += sorted(e for e in agg["event"].unique() if e.startswith("revoked: "))
        colors = [
            EVENT_COLORS.get(d) or REASON_COLORS.get(d.removeprefix("revoked: "), "#6c757d") for d in domain
        ]
        shapes = ["circle", "circle", "diamond", *["triangle-down"] * (len(domain) - 3)]
        zoom = alt.selection_interval(bind="scales", encodings=["x"])
        layers.append(
            alt.Chart(agg)
            .mark_point(filled=True, opacity=0.85)
            .encode(
                x=alt.X("when:T", scale=x_scale, axis=axis),
                y=alt.Y("key:N", title="Key (SPKI SHA-256, first 12 hex)", sort=None),
                color=alt.Color(
                    "event:N",
                    title="Event",
                    scale=alt.Scale(domain=domain, range=colors),
                    legend=alt.Legend(orient="bottom", columns=3),
                ),
                shape=alt.Shape("event:N", scale=alt.Scale(domain=domain, range=shapes), legend=None),
                size=alt.Size(
                    "n:Q", title=f"Events per {word}", scale=alt.Scale(range=[30, 300]), legend=None
                ),
                tooltip=[
                    alt.Tooltip("key:N", title="Key"),
                    alt.Tooltip("event:N", title="Event"),
                    alt.Tooltip("utcyearmonthdatehoursminutes(when):T", title="When (UTC)"),
                    alt.Tooltip("n:Q", title="Events"),
                    alt.Tooltip("detail:N", title="Detail"),
                ],
            )
            .add_params(*([] if tiny else [zoom]))
        )
    if len(report):
        rep = pd.DataFrame(
            {
                "when": _iso(report["time"]),
                "stated": report["stated"].astype(str),
                "text": report["text"].astype(str).str.slice(0, 200),
            }
        )
        layers.append(
            alt.Chart(rep)
            .mark_rule(color="#6f42c1", strokeDash=[2, 2], strokeWidth=1.5)
            .encode(
                x=alt.X("when:T", scale=x_scale, axis=axis),
                tooltip=[
                    alt.Tooltip("utcyearmonthdatehoursminutes(when):T", title="Report event (UTC)"),
                    alt.Tooltip("stated:N", title="As stated"),
                    alt.Tooltip("text:N", title="Event"),
                ],
            )
        )
    return alt.layer(*layers).properties(
        title=alt.Title(
            title,
            subtitle=("Purple dashed lines: the report's own timeline. " if len(report) else "")
            + f"Marks are grouped per {word}."
            + ("" if tiny else " Drag to pan, scroll to zoom."),
        ),
        # A step per key row: a fixed height with a discrete y axis collapses in Streamlit's renderer.
        height=alt.Step(26) if len(ev) else 120,
    )


# --- the incident corpus ------------------------------------------------------------------------


def bugs_per_year(by_year: pd.DataFrame, *, title: str = "Incident bugs per year") -> alt.Chart:
    """`incidents.counts_by_year` (year, total, open, closed) as stacked open/closed bars."""
    if by_year.empty:
        return _empty(title, "No bugs match")
    long = by_year.melt(id_vars="year", value_vars=["closed", "open"], var_name="state", value_name="bugs")
    long["year"] = long["year"].astype(int).astype(str)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year the bug was filed (UTC)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("bugs:Q", title="Bugs", stack=True, axis=alt.Axis(**COUNT_AXIS)),
            color=alt.Color(
                "state:N",
                title="State",
                scale=alt.Scale(domain=["closed", "open"], range=["#4c78a8", "#f58518"]),
            ),
            tooltip=[alt.Tooltip("year:O", title="Year"), "state:N", alt.Tooltip("bugs:Q", title="Bugs")],
        )
        .properties(title=title, height=260)
    )


OTHERS = "others"


def top_with_others(counts: pd.DataFrame, category: str, top: int, value: str = "total") -> pd.DataFrame:
    """The `top` largest rows, then one "others (N)" row summing every numeric column of the rest."""
    c = counts.sort_values([value, category], ascending=[False, True], kind="stable")
    if len(c) <= top:
        return c.reset_index(drop=True)
    head, rest = c.head(top), c.iloc[top:]
    others = {category: f"{OTHERS} ({len(rest)})"}
    others.update(
        {k: int(rest[k].sum()) for k in c.columns if k != category and pd.api.types.is_numeric_dtype(c[k])}
    )
    return pd.concat([head, pd.DataFrame([others])], ignore_index=True)


def bugs_per_category(
    counts: pd.DataFrame, category: str, *, title: str, label: str, top: int = 20
) -> alt.Chart:
    """Horizontal bars of bugs per `category` (`counts_by_ca` / `counts_by_tag`: total, open):
    the `top` largest, then one "others (N)" bar for the rest, or only the subtitle's note when
    that bar would dwarf the named ones; every bar
    has its name (one row each, names up to 40 characters) and its total at the end."""
    if counts.empty:
        return _empty(title, "No bugs match")
    c = top_with_others(counts, category, top)
    sub = None
    if len(counts) > top:
        rest = int(c["total"].iloc[-1])
        sub = f"Top {top} of {len(counts)}; the other {len(counts) - top} have {rest:,} bugs in all"
        if rest > int(c["total"].iloc[:-1].max()):
            # One bar for the rest would dwarf the named ones: the subtitle says it instead.
            c = c.iloc[:-1]
        else:
            sub += " (the last bar)"
    long = c.assign(closed=c["total"] - c["open"]).melt(
        id_vars=category, value_vars=["closed", "open"], var_name="state", value_name="bugs"
    )
    long["bugs"] = long["bugs"].astype(int)
    order = c[category].tolist()
    y = alt.Y(
        f"{category}:N",
        title=label,
        sort=order,
        axis=alt.Axis(labelLimit=320, labelOverlap=False),
    )
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=y,
            x=alt.X("bugs:Q", title="Bugs", stack=True, axis=alt.Axis(**COUNT_AXIS)),
            color=alt.Color(
                "state:N",
                title="State",
                scale=alt.Scale(domain=["closed", "open"], range=["#4c78a8", "#f58518"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip(f"{category}:N", title=label),
                "state:N",
                alt.Tooltip("bugs:Q", title="Bugs"),
            ],
        )
    )
    totals = (
        alt.Chart(c[[category, "total"]].assign(total=c["total"].astype(int)))
        .mark_text(align="left", dx=3, fontSize=11, color="#333")
        .encode(y=y, x=alt.X("total:Q"), text=alt.Text("total:Q", format="d"))
    )
    # A step per bar: a fixed height with a discrete axis collapses in Streamlit's renderer.
    return alt.layer(bars, totals).properties(
        title=alt.Title(title, subtitle=sub) if sub else title, height=alt.Step(20)
    )


def time_to_close(ttc: pd.DataFrame, *, title: str = "Days from filing to resolution") -> alt.Chart:
    """Per filing year: the median (point) and the middle half (bar, 25th-75th percentile) of days
    to close, from `incidents.time_to_close` (year, days)."""
    if ttc.empty:
        return _empty(title, "No closed bug with a known resolution time")
    g = ttc.groupby("year")["days"]
    agg = pd.DataFrame(
        {"n": g.size(), "median": g.median(), "p25": g.quantile(0.25), "p75": g.quantile(0.75)}
    ).reset_index()
    agg["year"] = agg["year"].astype(int).astype(str)
    base = alt.Chart(agg).encode(
        x=alt.X("year:O", title="Year the bug was filed (UTC)", axis=alt.Axis(labelAngle=0))
    )
    tips = [
        alt.Tooltip("year:O", title="Year"),
        alt.Tooltip("n:Q", title="Bugs"),
        alt.Tooltip("median:Q", title="Median days", format=".1f"),
        alt.Tooltip("p25:Q", title="25th percentile", format=".1f"),
        alt.Tooltip("p75:Q", title="75th percentile", format=".1f"),
    ]
    band = base.mark_bar(opacity=0.35, color="#4c78a8", size=28).encode(
        y=alt.Y("p25:Q", title="Days to close"), y2="p75:Q", tooltip=tips
    )
    mid = base.mark_point(filled=True, size=90, color="#1d3557").encode(y="median:Q", tooltip=tips)
    return alt.layer(band, mid).properties(
        title=alt.Title(title, subtitle="Point: median; bar: 25th to 75th percentile"), height=260
    )


def deadline_adherence(deadlines: pd.DataFrame, *, title: str = "CCADB deadlines kept") -> alt.Chart:
    """Outcome counts per rule from `incidents.compute_deadlines` (bug_id, rule, outcome)."""
    if deadlines is None or deadlines.empty:
        return _empty(title, "No bug with comments loaded: deadlines cannot be judged")
    agg = deadlines.groupby(["rule", "outcome"]).size().rename("bugs").reset_index()
    domain = [o for o in OUTCOME_COLORS if o in set(agg["outcome"])]
    return (
        alt.Chart(agg)
        .mark_bar()
        .encode(
            y=alt.Y("rule:N", title="Rule", axis=alt.Axis(labelLimit=320, labelOverlap=False)),
            x=alt.X("bugs:Q", title="Bugs", stack=True, axis=alt.Axis(**COUNT_AXIS)),
            color=alt.Color(
                "outcome:N",
                title="Outcome",
                scale=alt.Scale(domain=domain, range=[OUTCOME_COLORS[o] for o in domain]),
            ),
            order=alt.Order("outcome:N"),
            tooltip=["rule:N", "outcome:N", alt.Tooltip("bugs:Q", title="Bugs")],
        )
        .properties(title=title, height=alt.Step(36))
    )


def share_table(summary: Mapping) -> pd.DataFrame:
    """Deadline shares from an `incidents.compute_summary` dict as a small frame (percent)."""
    shares = summary.get("deadlines") or {}
    counts = summary.get("deadline_counts") or {}
    rows = [
        {
            "Rule": rule,
            "Kept (%)": None if share is None else round(100 * share, 1),
            **{k.replace("_", " ").capitalize(): v for k, v in (counts.get(rule) or {}).items()},
        }
        for rule, share in shares.items()
    ]
    return pd.DataFrame(rows)
