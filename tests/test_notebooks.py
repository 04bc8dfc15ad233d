"""The notebooks: each runs top to bottom in a real Jupyter kernel on the demo data, and each
.ipynb is the output-free twin of its jupytext .py.

Expected figures come from data/demo/README.md and design.md (worked out by hand), not from the
notebooks' own output. A missing kernel skips these tests with a reason, except under CI
(`CI=true`), where it is a failure.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.notebooks

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
NAMES = ("keyreuse", "incident_report", "corpus", "store")
DEMO_CORPUS = REPO / "data" / "demo" / "corpus"
REAL_DUMP = REPO.parent / "shared" / "realdata" / "bugzilla" / "ca_compliance_bugs_2026-03-15.json"
PROBE = "__probe__ "


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def _runs_this_python(argv: list[str]) -> bool:
    # jupyter_client starts "python", "python3" and "python3.X" with sys.executable.
    exe = argv[0] if argv else ""
    names = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    return exe in names or os.path.realpath(exe) == os.path.realpath(sys.executable)


@pytest.fixture(scope="session")
def kernel_specs(tmp_path_factory):
    """A kernel spec manager whose "python3" kernel runs this interpreter (the venv's python)."""
    try:
        import ipykernel.kernelspec
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError as exc:
        _missing(f"no Jupyter kernel: {exc} (install the dev extras: pip install -e '.[dev]')")
    manager = KernelSpecManager()
    try:
        if _runs_this_python(manager.get_kernel_spec("python3").argv):
            return manager
    except NoSuchKernel:
        pass
    prefix = tmp_path_factory.mktemp("kernels")
    ipykernel.kernelspec.install(kernel_name="python3", prefix=str(prefix))
    return KernelSpecManager(kernel_dirs=[str(prefix / "share" / "jupyter" / "kernels")])


def _read_py(name: str):
    import jupytext

    return jupytext.read(NOTEBOOKS / f"{name}.py")


def run_notebook(kernel_specs, name: str, cwd: Path, probe: str, **params) -> tuple[object, dict]:
    """Execute notebooks/<name>.py with `params` set after the parameters cell's defaults, then a
    probe cell printing `probe` (a Python expression) as JSON. Returns (notebook, probe value)."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = _read_py(name)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n# injected by the test\n" + "".join(f"{k} = {v!r}\n" for k, v in params.items())
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import json as _json, sys as _sys\n"
            f"print({PROBE!r} + _json.dumps({{'prefix': _sys.prefix, 'value': {probe}}}, default=str))"
        )
    )
    km = KernelManager(kernel_name="python3", kernel_spec_manager=kernel_specs)
    client = NotebookClient(
        nb, km=km, timeout=300, allow_errors=False, resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()  # raises CellExecutionError on the first cell that fails
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    line = next(x for x in text.splitlines() if x.startswith(PROBE))
    out = json.loads(line[len(PROBE) :])
    assert Path(out["prefix"]).resolve() == Path(sys.prefix).resolve(), "the kernel runs another Python"
    return nb, out["value"]


def _outputs_text(nb) -> str:
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            parts.append(o.get("text", ""))
            parts.append(str(o.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def _charts(nb) -> list[str]:
    """The charts a notebook drew: SVG images (charts.render_offline), drawn in the kernel."""
    return [
        o["data"]["image/svg+xml"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "image/svg+xml" in o.get("data", {})
    ]


# What a chart needing the network or JavaScript would leave in a notebook.
ONLINE_MARKERS = (
    "cdn.jsdelivr",
    "unpkg.com",
    "https://cdn",
    "vegaEmbed",
    "vega-embed",
    "<script",
    "requirejs",
)


def assert_charts(nb, *titles: str) -> None:
    charts = _charts(nb)
    assert len(charts) == len(titles)
    for chart, title in zip(charts, titles, strict=True):
        assert title in chart and chart.lstrip().startswith("<svg")
    assert_offline(nb)


def assert_offline(nb) -> None:
    """No output refers to a CDN or needs a script: the executed notebook shows offline and in a
    static viewer (the whole notebook file, as it would be saved, is searched)."""
    import nbformat

    text = nbformat.writes(nb)
    found = [m for m in ONLINE_MARKERS if m in text]
    assert found == [], f"the executed notebook still needs the network or JavaScript: {found}"


# --- execution ----------------------------------------------------------------------------------


def test_keyreuse_notebook(kernel_specs, tmp_path):
    out_dir = tmp_path / "out"
    nb, value = run_notebook(
        kernel_specs,
        "keyreuse",
        tmp_path,
        "{'summary': findings.summary, 'violations': len(findings.violations)}",
        out_dir=str(out_dir),
    )
    # data/demo/README.md: 41 certificates on 8 keys, 33 issued after compromise, 3 still valid.
    s = value["summary"]
    assert value["violations"] == s["violating_issuances"] == 33
    assert s["compromised_keys"] == s["reused_compromised_keys"] == 8
    assert s["issuances_with_compromised_keys"] == 41
    assert s["remaining_valid"] == 3
    assert "33 violations" in _outputs_text(nb)
    with (out_dir / "appendix.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 41
    assert sum(r["violation"] == "true" for r in rows) == 33
    assert len({r["SPKI SHA-256"] for r in rows}) == 8
    assert list(rows[0])[:2] == ["Precertificate SHA-256 hash", "Certificate SHA-256 hash"]
    assert_charts(nb, "Certificates issued over time", "Issuance, revocation and compromise per key")


def test_incident_report_notebook(kernel_specs, tmp_path):
    nb, value = run_notebook(
        kernel_specs,
        "incident_report",
        tmp_path,
        "{'kind': parsed['kind'], 'timeline': [r['when_utc'] for r in parsed['timeline']],"
        " 'items': len(parsed['action_items']), 'attestation': draft['attestation'],"
        " 'report_lint': report_findings.to_dict('records'), 'draft_lint': draft_findings.to_dict('records')}",
        out_dir=str(tmp_path),
    )
    # design.md: the demo report's timeline dates, written in UTC+8 (the first is a bare date).
    assert [t[:10] for t in value["timeline"]] == [
        "2018-12-23",  # 2018-12-24 (a date, midnight UTC+8) is 16:00 UTC the day before
        "2022-08-25",
        "2022-11-23",
        "2024-10-26",
        "2024-10-28",
        "2024-10-29",
        "2024-10-31",
        "2024-11-01",
    ]
    assert value["timeline"][3] == "2024-10-26T08:00:00+00:00"  # 16:00 UTC+8
    assert value["items"] == 7
    # Every action item is Complete or Canceled. The data (as of 2024-11-01) still has 3 valid
    # certificates on compromised keys, but "Revoke the three remaining certificates" is due
    # 2024-11-02: the data predates it, so the draft attests and lint warns (once on the report,
    # once on the draft, whose revocation dates come from the report's items).
    assert value["attestation"] is True
    assert [(f["code"], f["severity"]) for f in value["report_lint"]] == [
        ("action_item.unconfirmed_by_data", "warning")
    ]
    assert [(f["code"], f["severity"]) for f in value["draft_lint"]] == [
        ("action_item.unconfirmed_by_data", "warning")
    ]
    closure = (tmp_path / "closure-summary.md").read_text(encoding="utf-8")
    assert closure.startswith("### Report Closure Summary")
    assert "41 certificates on 8 compromised keys, 33 of them issued after" in closure
    assert closure.rstrip().endswith("we request its closure.")
    assert (
        "The data, as of 2024-11-01, was gathered before the revocations were completed and still shows "
        "3 certificates on compromised keys valid." in closure
    )
    assert_charts(nb, "Issuance, revocation and compromise per key")


def test_corpus_notebook(kernel_specs, tmp_path):
    nb, value = run_notebook(
        kernel_specs,
        "corpus",
        tmp_path,
        "{'summary': summary, 'years': by_year.to_dict('records'), 'deadline_rows': len(deadlines)}",
    )
    s = value["summary"]
    listed = json.loads((DEMO_CORPUS / "bugs.json").read_text(encoding="utf-8"))["bugs"]
    assert s["total"] == len(listed) == 10
    assert sum(r["total"] for r in value["years"]) == 10
    assert (s["open"], s["closed"]) == (3, 7)
    assert s["deadlines"] is not None and value["deadline_rows"] > 0
    assert_charts(
        nb,
        "Incident bugs per year",
        "Incident bugs per CA",
        "Incident bugs per whiteboard tag",
        "Days from filing to resolution",
        "CCADB deadlines kept",
    )


STORE_PROBE = (
    "{'ingests': info.ingests, 'entries': info.entries, 'skipped': info.skipped,"
    " 'rows': ingests['entries'].tolist(), 'summary': findings.summary, 'loaded': findings.all_keys_loaded,"
    " 'v1': len(violations_page_1), 'last': last, 'vlast': len(violations_last_page),"
    " 'keys1': keys_page_1['compromised_at'].notna().tolist(), 'd1': len(delays_page_1)}"
)


def test_store_notebook(kernel_specs, tmp_path):
    pytest.importorskip("duckdb")
    nb, value = run_notebook(kernel_specs, "store", tmp_path, STORE_PROBE)
    # data/demo/README.md: 106 certificate entries (104 distinct); the 4 CRLs hold 7, 9, 8, 12
    # entries (36); one ingest for the certificates folder and one per CRL.
    assert (value["ingests"], value["entries"], value["skipped"]) == (5, {"certificates": 106, "crl": 36}, 0)
    assert sorted(value["rows"]) == [7, 8, 9, 12, 106]
    s = value["summary"]
    assert (s["certificate_entries"], s["distinct_certificates"], s["distinct_keys"]) == (106, 104, 51)
    assert (s["violating_issuances"], s["compromised_keys"], s["revocation_delays"]) == (33, 8, 31)
    assert s["remaining_valid"] == 3  # as of the demo's report date
    assert value["loaded"] is False  # the keys were paged from the engine, not loaded
    # 33 violations in pages of 10: 10 on page 1, 3 on page 4 (the last).
    assert (value["v1"], value["last"], value["vlast"]) == (10, 4, 3)
    # Keys: the 8 compromised ones lead, then the first 2 of the 43 others.
    assert value["keys1"] == [True] * 8 + [False] * 2
    assert value["d1"] == 10  # 31 revocation delays: a full first page
    text = _outputs_text(nb)
    assert "violations: page 1 of 4 (33 rows, 10 on this page)" in text
    assert "keys: page 1 of 6 (51 rows, 10 on this page)" in text

    # One page of 50 holds every violation.
    _, value = run_notebook(kernel_specs, "store", tmp_path, "{'v1': len(violations_page_1)}", page_size=50)
    assert value["v1"] == 33


def test_corpus_notebook_on_the_real_dump(kernel_specs, tmp_path):
    if not REAL_DUMP.exists():
        _missing(f"the real Bugzilla dump is missing: {REAL_DUMP}")
    _, value = run_notebook(
        kernel_specs,
        "corpus",
        tmp_path,
        "{'total': summary['total'], 'ttc': summary['time_to_close_days']}",
        bugs=str(REAL_DUMP),
    )
    assert value["total"] == 1688  # the dump's bug count (shared/realdata/MANIFEST.md)
    assert value["ttc"] is None  # no cf_last_resolved in the dump, no history: said, not guessed


# --- pairing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_ipynb_is_the_py_without_outputs(name):
    try:
        import jupytext
        import nbformat
    except ImportError as exc:
        _missing(f"jupytext/nbformat not installed: {exc}")
    py = _read_py(name)
    ipynb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert jupytext.read(NOTEBOOKS / f"{name}.ipynb").metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert [(c.cell_type, c.source) for c in ipynb.cells] == [(c.cell_type, c.source) for c in py.cells], (
        f"notebooks/{name}.ipynb differs from {name}.py: run `jupytext --sync notebooks/{name}.py`"
    )
    for c in ipynb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None, f"{name}.ipynb has outputs"
    first_code = next(c for c in py.cells if c.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", []), f"{name}: first code cell not tagged"
