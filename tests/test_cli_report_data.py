"""`report appendix` through the command line on the demo: names and SANs are filled (the key-reuse
fast path skips them; the report commands must not)."""

from __future__ import annotations

import csv
import io
import json

from analysis.cli import main
from analysis.demo import DEMO_DIR

EXPECTED = json.loads((DEMO_DIR / "expected.json").read_text())


def test_appendix_rows_carry_subject_and_dnsnames(capsys):
    assert main(["report", "appendix", "--demo"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 41
    assert all(r["Subject"].startswith("CN=") for r in rows)
    assert all(r["dNSNames"] for r in rows)
    # K1-0, the certificate whose revocation set the first compromise time (data/demo/README.md)
    first = next(c for c in EXPECTED["certificates"] if c["id"] == "K1-0")
    row = next(r for r in rows if r["Serial # (hex)"] == first["serial"])
    assert row["Subject"] == f"CN={first['subject_cn']}"
    assert first["subject_cn"] in row["dNSNames"].split(", ")
