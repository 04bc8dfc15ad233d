"""The DuckDB plan's units of work (analysis/store/units.py): partitions grouped up to a row budget,
big ones split by key hash, and the (issuer, serial) hashes that repeat across units. Expected
groupings and repeats are worked out by hand from the row counts and hashes written here."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from analysis.store.layout import CERT_SCHEMA, open_store
from analysis.store.units import PairHashes, merge_issuer_figures, units_of


def _store_with(tmp_path, rows_per_prefix: dict[str, int]):
    st = open_store(tmp_path / "s", create=True)
    for prefix, n in rows_per_prefix.items():
        cols = {f.name: pa.nulls(n, f.type) for f in CERT_SCHEMA}
        cols["spki_sha256"] = pa.array([prefix * 64] * n)
        rel = st.write_table("certs", pa.table(cols), prefix=prefix)
        with st.writing():
            st.add_files("certs", [rel])
    return open_store(tmp_path / "s")


def test_small_partitions_share_a_unit_and_a_big_one_is_split(tmp_path):
    # Budget 10 rows. Partitions in prefix order: "" (the store's empty file, 0 rows), 0: 4 rows,
    # 1: 5, 2: 3, 3: 25, 4: 10. By hand: ""+0+1 = 9 rows; adding 2 would make 12, so that unit
    # closes and 2 opens one; 3 (25 > 10) is a unit of its own at once, in ceil(25/10) = 3 splits;
    # 4 would make 2's unit 13, so it closes and 4 is the last unit.
    st = _store_with(tmp_path, {"0": 4, "1": 5, "2": 3, "3": 25, "4": 10})
    units = units_of(st, 10)
    prefixes = [
        (sorted({f.split("spki_prefix=")[1][0] if "spki_prefix=" in f else "-" for f in files}), k)
        for files, k in units
    ]
    assert prefixes == [(["-", "0", "1"], 1), (["3"], 3), (["2"], 1), (["4"], 1)]
    # Every file is in exactly one unit.
    every = sorted(f for files, _ in units for f in files)
    assert every == sorted(st.files("certs"))


def test_hashes_repeated_across_units_are_found_with_their_units(tmp_path):
    p = PairHashes(str(tmp_path))
    top = np.uint64(1) << np.uint64(63)  # another bucket than the small numbers
    p.add(np.array([1, 2, 3], dtype=np.uint64), 0)
    p.add(np.array([3, 4, top | np.uint64(1)], dtype=np.uint64), 1)
    p.add(np.array([top | np.uint64(1), 9], dtype=np.uint64), 2)
    assert p.repeated() == {3: {0, 1}, int(top) + 1: {1, 2}}
    assert not any(tmp_path.iterdir())  # the bucket files are gone


def test_issuer_figures_of_units_add_up():
    import pandas as pd

    a = pd.DataFrame(
        {
            "issuer_key": ["x", "y"],
            "first_opos": [5, 7],
            "first_leaf_opos": [5, None],
            "issuances": [2, 1],
            "entries": [3, 1],
            "distinct_certs": [3, 1],
            "unit": [0, 0],
        }
    )
    b = pd.DataFrame(
        {
            "issuer_key": ["x"],
            "first_opos": [2],
            "first_leaf_opos": [9],
            "issuances": [4],
            "entries": [4],
            "distinct_certs": [2],
            "unit": [1],
        }
    )
    merged, units = merge_issuer_figures([a, b])
    x = merged.set_index("issuer_key").loc["x"]
    # x: first issuance at 2 (unit 1), first leaf issuance at 5 (unit 0); 6 issuances, 7 entries, 5 certs.
    assert (x["first_opos"], x["first_leaf_opos"], x["issuances"], x["entries"], x["distinct_certs"]) == (
        2,
        5,
        6,
        7,
        5,
    )
    # Units looked up for names: x's first (1) and first leaf (0); y's first (0).
    assert units == {0, 1}
