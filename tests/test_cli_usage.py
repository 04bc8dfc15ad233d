"""Command-line usability: a mistyped option shows the subcommand's usage, startup does not load
the analysis libraries, `keyreuse --format csv` is shareable, and the appendix has one row order."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest

from analysis import app_data
from analysis.cli import main
from analysis.demo import DEMO_DIR


@pytest.mark.parametrize(
    "argv, usage, hint",
    [
        (["keyreuse", "--frmat", "json"], "usage: ca-incidents keyreuse ", "did you mean --format?"),
        (["report", "parse", "--demo", "--formt", "json"], "usage: ca-incidents report parse ", "--format"),
        (["fetch", "bugs", "--sinse", "2024-01-01"], "usage: ca-incidents fetch bugs ", "--since"),
    ],
)
def test_a_mistyped_option_prints_the_subcommands_usage(capsys, argv, usage, hint):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage)
    assert "unrecognized arguments" in err and hint in err
    assert "usage: ca-incidents [-h]" not in err


def test_repeatable_options_say_so_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["keyreuse", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "PEM bundle, DER file or folder (repeatable)" in out
    assert "look every key up on pwnedkeys (repeatable)" not in out  # a flag, not repeatable


def test_help_and_usage_do_not_import_the_analysis_libraries():
    # --help builds every command's parser; none of them may pull in pandas, the HTTP clients or
    # the analysis modules (they load when a command runs).
    code = (
        "import sys\n"
        "from analysis.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = [m for m in ('pandas', 'numpy', 'requests', 'cryptography', 'analysis.certificates',"
        " 'analysis.keyreuse', 'analysis.reports', 'analysis.incidents', 'analysis.sources.http') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_keyreuse_csv_has_no_local_paths_and_lowercase_flags(capsys):
    assert main(["keyreuse", "--demo", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 33  # the demo's 33 violations (data/demo/README.md)
    assert str(DEMO_DIR) not in "".join(r["compromise_source"] for r in rows)
    assert {r["compromise_source"].split("#")[0] for r in rows} <= {
        "crl:example-trust-rsa2018-2022-01-01.crl",
        "crl:example-trust-ecc2020-2022-01-01.crl",
        "crl:example-trust-rsa2018-2024-11-01.crl",
        "crl:example-trust-ecc2020-2024-11-01.crl",
    }
    assert {r["same_issuer"] for r in rows} | {r["before_br_6_1_1_3_4"] for r in rows} <= {"true", "false"}


def test_the_appendix_lists_the_same_rows_in_the_same_order_from_cli_and_dashboard(capsys):
    assert main(["report", "appendix", "--demo"]) == 0
    cli = capsys.readouterr().out
    dashboard, n = app_data.appendix_csv(app_data.analyse(app_data.demo_dataset()))
    assert n == 41  # 41 certificates on the eight compromised keys
    assert cli == dashboard
    rows = list(csv.DictReader(io.StringIO(cli)))
    order = [(r["SPKI SHA-256"], r["Not before"]) for r in rows]
    assert [r[0] for r in order] == sorted(r[0] for r in order)  # grouped by key
    assert {r["violation"] for r in rows} == {"true", "false"}  # the flags keyreuse csv now matches
