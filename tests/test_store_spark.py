"""The rules SQL on Spark (local[2]): identical findings to the pandas path on the demo incident and
on the rules scenarios that exercise compromise, delays, undated keys and --scope issuer.

One SparkSession for the module: each start costs 10+ seconds. Spark needs a Java runtime; .ci/run
installs Debian's headless JRE, and under CI a missing one fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil

import pytest

from analysis.store import find_key_reuse_store, ingest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    if os.environ.get("CI") == "true":
        pytest.fail("no Java runtime: .ci/run should have installed default-jre-headless", pytrace=False)
    pytest.skip("no Java runtime (apt install default-jre-headless)", allow_module_level=True)

from test_store_differential import CASES, assert_identical  # noqa: E402

# A few (each costs seconds on Spark): the demo already covers same-issuer violations and delays.
SCENARIOS = [
    "test_compromise_from_second_issuer_and_scope_issuer",
    "test_undated_key_file_makes_every_issuance_a_violation",
    "test_unrevoked_and_still_valid_is_a_delay_and_remaining_valid",
]


@pytest.fixture(scope="module")
def spark():
    from analysis.store.spark import start_session

    session = start_session("local[2]")
    yield session
    session.stop()


def test_demo_incident_on_spark(spark, tmp_path):
    from analysis.demo import demo_as_of, demo_paths
    from analysis.inputs import load_keyreuse_inputs

    d = demo_paths()
    ingest(tmp_path / "s", certs=d["certs"], crls=d["crls"])
    a = load_keyreuse_inputs(d["certs"], d["crls"]).analyse(as_of=demo_as_of())
    b = find_key_reuse_store(tmp_path / "s", as_of=demo_as_of(), engine="spark", spark=spark, all_keys=True)
    assert b.to_dict() == a.to_dict()
    # The demo's designed figures (data/demo/README.md), on Spark.
    assert (b.summary["violating_issuances"], b.summary["revocation_delays"]) == (33, 31)


@pytest.mark.parametrize("name", SCENARIOS)
def test_rules_scenarios_on_spark(name, spark, monkeypatch):
    import tempfile

    import pandas as pd

    from analysis.keyreuse import find_key_reuse
    from analysis.schema import coerce_certificates, coerce_compromised_keys, coerce_revocations
    from analysis.store import ingest_frames

    def spark_run(certs, revs=(), comp=(), **kw):
        kw.setdefault("as_of", CASES.AS_OF)
        c = coerce_certificates(pd.DataFrame(certs))
        r = coerce_revocations(pd.DataFrame(list(revs))) if revs else None
        k = coerce_compromised_keys(pd.DataFrame(list(comp))) if comp else None
        a = find_key_reuse(c, r, k, **kw)
        with tempfile.TemporaryDirectory(prefix="store-") as d:
            ingest_frames(d, certificates=c, revocations=r, compromised=k)
            b = find_key_reuse_store(d, engine="spark", spark=spark, all_keys=True, **kw)
        assert_identical(a, b)
        return a

    monkeypatch.setattr(CASES, "run", spark_run)
    getattr(CASES, name)()
