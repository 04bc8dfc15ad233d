"""Chart builders (analysis/charts.py): aggregation before plotting, the 5,000-mark cap, titles, axis
titles with units and zones, and empty states."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from analysis import app_data, charts


def _spec_text(chart) -> str:
    return str(chart.to_dict())


def _issuances(n: int, keys: int, seed: int = 1) -> pd.DataFrame:
    """A synthetic issuances frame: n issuances over 2015-2025 on `keys` keys; key 0 compromised in 2020."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2015-01-01", tz="UTC")
    issued = t0 + pd.to_timedelta(rng.integers(0, 10 * 365 * 24 * 3600, n), unit="s")
    names = [hashlib.sha256(str(k).encode()).hexdigest() for k in range(keys)]
    spki = pd.Series([names[k] for k in rng.integers(0, keys, n)])
    comp_at = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
    hit = spki == names[0] if keys else pd.Series([], dtype=bool)
    comp_at[hit] = pd.Timestamp("2020-01-01", tz="UTC")
    return pd.DataFrame(
        {
            "spki_sha256": spki,
            "issued_at": issued,
            "compromised_at": comp_at,
            "key_compromised": hit,
            "violation": hit & (issued > pd.Timestamp("2020-01-01", tz="UTC")),
            "revoked_at": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]"),
        }
    )


def test_issuance_over_time_counts_by_hand():
    t = pd.to_datetime(["2020-01-05", "2020-01-20", "2020-02-01", "2020-04-21", "2020-04-22"], utc=True)
    iss = pd.DataFrame(
        {
            "spki_sha256": ["a", "a", "b", "a", "c"],
            "issued_at": t,
            "compromised_at": pd.to_datetime(
                ["2020-01-10", "2020-01-10", None, "2020-01-10", None], utc=True
            ),
            "key_compromised": [True, True, False, True, False],
            "violation": [False, True, False, True, False],
        }
    )
    chart = charts.issuance_over_time(iss)
    spec = chart.to_dict()
    bars = [rows for rows in spec["datasets"].values() if rows and "category" in rows[0]][0]
    # 2020-01-05 .. 2020-04-22 is 109 days (over the 100-bar limit), so weeks, starting on Monday:
    # Sun 01-05 -> 2019-12-30, Mon 01-20 -> 01-20, Sat 02-01 -> 01-27, Tue 04-21 and Wed 04-22 -> 04-20.
    got = {(r["period"][:10], r["category"]): r["certificates"] for r in bars}
    assert got == {
        ("2019-12-30", "Compromised key, issued before compromise"): 1,
        ("2020-01-20", "Issued after compromise"): 1,
        ("2020-01-27", "Other keys"): 1,
        ("2020-04-20", "Issued after compromise"): 1,
        ("2020-04-20", "Other keys"): 1,
    }
    text = _spec_text(chart)
    assert "Certificates issued over time" in text
    assert "Issue time (week, UTC)" in text and "Certificates per week" in text
    assert "compromise time of each key (UTC)" in text


def test_demo_charts_stay_small_and_say_utc():
    ds = app_data.demo_dataset()
    f = app_data.analyse(ds)
    report, _, _ = app_data.load_dataset_report(ds)
    over = charts.issuance_over_time(f.issuances)
    tl = charts.key_timeline(app_data.events(f, report))
    for chart in (over, tl):
        assert charts.count_marks(chart) <= charts.MAX_MARKS
    bars = [r for rows in over.to_dict()["datasets"].values() for r in rows if "category" in r]
    assert sum(r["certificates"] for r in bars) == 84  # every issuance of the demo
    assert sum(r["certificates"] for r in bars if r["category"] == "Issued after compromise") == 33
    assert "Time (UTC)" in _spec_text(tl)


@pytest.mark.parametrize("n", [200_000])
def test_big_inputs_are_aggregated_below_the_cap(n):
    iss = _issuances(n, keys=2_000)
    chart = charts.issuance_over_time(iss)
    assert charts.count_marks(chart) <= charts.MAX_MARKS
    # A timeline of 40 busy keys (5,000 events each): they must be bucketed coarser than a day.
    sub = _issuances(n, keys=40, seed=2)
    events = pd.DataFrame(
        {
            "time": sub["issued_at"],
            "kind": "issuance",
            "key": sub["spki_sha256"],
            "reason": None,
            "text": "issued",
        }
    )
    tl = charts.key_timeline(events)
    assert charts.count_marks(tl) <= charts.MAX_MARKS
    assert "grouped per day" not in _spec_text(tl)


def test_pick_bucket_by_hand():
    # 2020-01-01 (a Wednesday) to 2020-02-29: 60 days, 9 weeks (Mon-Sun), 2 months, 1 quarter.
    days = pd.Series(pd.date_range("2020-01-01", periods=60, freq="D", tz="UTC"))
    assert charts.pick_bucket(days, limit=60) == ("D", "day")
    assert charts.pick_bucket(days, limit=59) == ("W-MON", "week")
    assert charts.pick_bucket(days, limit=9) == ("W-MON", "week")
    assert charts.pick_bucket(days, limit=8) == ("MS", "month")
    assert charts.pick_bucket(days, limit=1) == ("QS", "quarter")
    two_years = pd.Series(pd.to_datetime(["2020-01-01", "2021-06-01"], utc=True))
    assert charts.pick_bucket(two_years, limit=1) == ("YS", "year")


def test_empty_inputs_say_what_is_missing():
    empty = _issuances(0, keys=1)
    assert "No certificates loaded" in _spec_text(charts.issuance_over_time(empty))
    from analysis.timeline import build_events

    assert "No events" in _spec_text(charts.key_timeline(build_events()))
    assert "No bugs match" in _spec_text(
        charts.bugs_per_year(pd.DataFrame(columns=["year", "total", "open", "closed"]))
    )
    assert "No closed bug" in _spec_text(charts.time_to_close(pd.DataFrame(columns=["id", "year", "days"])))
    assert "cannot be judged" in _spec_text(charts.deadline_adherence(None))


def test_corpus_charts_by_hand():
    by_year = pd.DataFrame({"year": [2023, 2024], "total": [3, 2], "open": [1, 0], "closed": [2, 2]})
    text = _spec_text(charts.bugs_per_year(by_year))
    assert "Year the bug was filed (UTC)" in text and "'title': 'Bugs'" in text
    ttc = pd.DataFrame(
        {"id": [1, 2, 3, 4], "year": [2023, 2023, 2023, 2024], "days": [10.0, 20.0, 30.0, 5.0]}
    )
    spec = charts.time_to_close(ttc).to_dict()
    rows = next(iter(spec["datasets"].values()))
    got = {r["year"]: (r["n"], r["median"], r["p25"], r["p75"]) for r in rows}
    assert got == {"2023": (3, 20.0, 15.0, 25.0), "2024": (1, 5.0, 5.0, 5.0)}
    assert "Days to close" in _spec_text(charts.time_to_close(ttc))
    counts = pd.DataFrame({"ca": [f"CA {i}" for i in range(30)], "total": range(30, 0, -1), "open": [0] * 30})
    spec = charts.bugs_per_category(counts, "ca", title="Bugs per CA", label="CA", top=25).to_dict()
    rows = next(iter(spec["datasets"].values()))
    # 25 named bars and one "others (5)" bar summing the last five (5+4+3+2+1 = 15 bugs, less than
    # the largest bar's 30, so it is drawn)
    assert len({r["ca"] for r in rows}) == 26 and "Top 25 of 30" in str(spec)
    assert sum(r["bugs"] for r in rows if r["ca"] == "others (5)") == 15
    assert "the other 5 have 15 bugs in all (the last bar)" in str(spec)
    # 20 CAs with 1 bug each and 100 more with 1 each: the rest (100) would dwarf the bars of 1
    many = pd.DataFrame({"ca": [f"CA {i:03}" for i in range(120)], "total": [1] * 120, "open": [0] * 120})
    spec = charts.bugs_per_category(many, "ca", title="Bugs per CA", label="CA").to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert len({r["ca"] for r in rows}) == 20 and "the other 100 have 100 bugs in all" in str(spec)
    dl = pd.DataFrame({"bug_id": [1, 2, 3], "rule": ["r", "r", "s"], "outcome": ["kept", "missed", "kept"]})
    rows = next(iter(charts.deadline_adherence(dl).to_dict()["datasets"].values()))
    assert sorted((r["rule"], r["outcome"], r["bugs"]) for r in rows) == [
        ("r", "kept", 1),
        ("r", "missed", 1),
        ("s", "kept", 1),
    ]


@pytest.mark.parametrize(
    "times, unit",
    [
        (["2010-01-01T08:30:00Z", "2010-01-01T08:30:07Z"], "minute"),  # PKITS: seconds apart
        (["2024-10-26T00:00Z", "2024-10-27T12:00Z"], "hour"),  # 37 hours
        (["2024-10-01", "2024-11-15"], "day"),  # 46 days
        (["2024-01-01", "2024-12-31"], "week"),  # 53 weeks
        (["2021-01-01", "2024-10-31"], "month"),  # 200 weeks, 46 months
        (["2018-12-24", "2024-10-31"], "month"),  # the demo: 71 months
        (["2014-03-26", "2026-03-15"], "year"),  # 145 months, 13 years
    ],
)
def test_the_time_unit_follows_the_span(times, unit):
    assert charts.time_unit(pd.Series(pd.to_datetime(times, utc=True)))[0] == unit


def _when(dt: dict) -> pd.Timestamp:
    """A Vega-Lite DateTime (as the charts write tick values) as a UTC timestamp."""
    assert dt["utc"] is True
    return pd.Timestamp(
        year=dt["year"], month=dt["month"], day=dt["date"], hour=dt["hours"], minute=dt["minutes"], tz="UTC"
    )


def _axis(spec: dict, channel: str) -> dict:
    layers = spec.get("layer") or [spec]
    return layers[0]["encoding"][channel].get("axis") or {}


def test_a_span_of_seconds_gets_a_minute_axis_and_whole_counts():
    t = pd.to_datetime(["2010-01-01T08:30:00Z"] * 3 + ["2010-01-01T08:30:05Z"], utc=True)
    iss = pd.DataFrame(
        {
            "spki_sha256": ["a", "b", "c", "d"],
            "issued_at": t,
            "compromised_at": pd.Series(pd.NaT, index=range(4), dtype="datetime64[ns, UTC]"),
            "key_compromised": [False] * 4,
            "violation": [False] * 4,
        }
    )
    spec = charts.issuance_over_time(iss).to_dict()
    x, y = _axis(spec, "x"), _axis(spec, "y")
    # Domain one minute either side (08:29 .. 08:32): a tick on each whole minute, labelled to the minute.
    ticks = [_when(v).strftime("%H:%M:%S") for v in x["values"]]
    assert ticks == ["08:29:00", "08:30:00", "08:31:00", "08:32:00"] and x["format"] == "%Y-%m-%d %H:%M"
    assert y["tickMinStep"] == 1 and y["format"] == "d"
    bars = [rows for rows in spec["datasets"].values() if rows and "category" in rows[0]][0]
    assert [(r["period"], r["certificates"]) for r in bars] == [("2010-01-01T08:30:00Z", 4)]


def test_category_bars_are_each_labelled_with_whole_number_ticks():
    counts = pd.DataFrame(
        {
            "ca": ["Microsoft PKI Services (Microsoft Corporation)", "Sectigo", "DigiCert"],
            "total": [3, 2, 1],
            "open": [1, 0, 0],
        }
    )
    spec = charts.bugs_per_category(counts, "ca", title="Bugs per CA", label="CA").to_dict()
    y, x = _axis(spec, "y"), _axis(spec, "x")
    assert y["labelOverlap"] is False and y["labelLimit"] >= 300  # the long name is not cut
    assert x["tickMinStep"] == 1 and x["format"] == "d"
    assert spec["height"] == {"step": 20}  # one row per bar, never squeezed into a fixed height
    totals = [rows for rows in spec["datasets"].values() if rows and "state" not in rows[0]][0]
    assert [(r["ca"], r["total"]) for r in totals] == [
        ("Microsoft PKI Services (Microsoft Corporation)", 3),
        ("Sectigo", 2),
        ("DigiCert", 1),
    ]


def _render(chart) -> str:
    """The chart drawn by Vega itself (vl-convert: no browser, no network): SVG text."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_dict())


@pytest.mark.parametrize(
    "times",
    [
        ["2010-01-01T08:30:00Z"] * 4,  # PKITS: every certificate in the same second
        ["2024-10-26T00:00Z", "2024-10-27T12:00Z"],  # hours
        ["2024-10-01", "2024-11-15"],  # days
        ["2024-01-01", "2024-12-31"],  # weeks
        ["2018-12-24", "2024-10-31"],  # months
        ["2014-03-26", "2026-03-15"],  # years
    ],
)
def test_every_time_unit_draws(times):
    t = pd.Series(pd.to_datetime(times, utc=True))
    n = len(t)
    iss = pd.DataFrame(
        {
            "spki_sha256": [f"{i:064x}" for i in range(n)],
            "issued_at": t,
            "compromised_at": pd.Series([t.iloc[0]] + [pd.NaT] * (n - 1), dtype="datetime64[ns, UTC]"),
            "key_compromised": [True] + [False] * (n - 1),
            "violation": [False] * n,
        }
    )
    unit = charts.time_unit(t)[0]
    svg = _render(charts.issuance_over_time(iss))
    assert f"Certificates per {unit}" in svg and f"Issue time ({unit}, UTC)" in svg


def test_the_demo_charts_draw():
    demo = app_data.analyse(app_data.demo_dataset())
    assert "Certificates issued over time" in _render(charts.issuance_over_time(demo.issuances))
    ev = app_data.events(demo, None, keys=None)
    assert "Issuance, revocation and compromise per key" in _render(charts.key_timeline(ev))
    views = app_data.load_corpus_views(app_data.demo_dataset())
    out = app_data.corpus_views_filtered(views)
    import altair as alt

    for key in ("year_spec", "ca_spec", "tag_spec", "ttc_spec", "deadline_spec"):
        assert "<svg" in _render(alt.Chart.from_dict(out[key])), key


def test_long_spans_get_at_most_twelve_ticks_on_whole_units():
    t = pd.Series(pd.to_datetime(["2014-03-26", "2026-03-15"], utc=True))
    iss = pd.DataFrame(
        {
            "spki_sha256": ["a", "b"],
            "issued_at": t,
            "compromised_at": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns, UTC]"),
            "key_compromised": [False, False],
            "violation": [False, False],
        }
    )
    x = _axis(charts.issuance_over_time(iss).to_dict(), "x")
    years = [_when(v) for v in x["values"]]
    # years 2013 (one before) .. 2028 (two after): 16 periods -> a tick every 2 years, on 1 January
    assert [y.year for y in years] == [2013, 2015, 2017, 2019, 2021, 2023, 2025, 2027]
    assert all((y.month, y.day, y.hour) == (1, 1, 0) for y in years) and x["format"] == "%Y"
