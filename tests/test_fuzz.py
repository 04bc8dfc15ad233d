"""The fuzz targets in fuzz_targets.py, briefly: mutated real certificates, CRLs and reports, and
raw random bytes. `make fuzz` runs them with many more examples (FUZZ_EXAMPLES)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:
    from fuzz_targets import TARGETS, mutate
except ImportError:  # tests/ imported as a package
    from tests.fuzz_targets import TARGETS, mutate

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
ops = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 1 << 20), st.integers(0, 255)), max_size=6)


def _run(name: str, seed_index: int, edits, raw: bytes | None) -> None:
    target, seeds = TARGETS[name]
    corpus = seeds()
    assert corpus, f"no seeds for {name}"
    data = raw if raw is not None else mutate(corpus[seed_index % len(corpus)], edits)
    target(data)


def _fuzz(name: str):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=os.environ.get("FUZZ_RANDOM") is None,  # the suite is reproducible; make fuzz explores
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(st.integers(0, 1000), ops, st.one_of(st.none(), st.binary(max_size=600)))
    def run(seed_index, edits, raw):
        _run(name, seed_index, edits, raw)

    return run


test_fuzz_der_readers = _fuzz("der")
test_fuzz_crl_parser = _fuzz("crl")
test_fuzz_report_parser = _fuzz("report")


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_seed_passes_unmutated(name):
    target, seeds = TARGETS[name]
    for seed in seeds():
        target(seed)
