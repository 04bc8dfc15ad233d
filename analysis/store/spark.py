"""The same rules SQL on Spark: the statements of rules.py translated by sqlglot (DuckDB -> Spark).

Local mode by default (`local[2]`); `master` may name a cluster (spark://..., yarn, k8s://...).
The store's files are read by path, so on a cluster the store must sit where every executor can
read it (a shared file system, or an object store such as s3a://, with the store's manifest paths
pointing there).
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from ..errors import UsageError
from . import rules
from .layout import Store

_REVS_COLUMNS = "issuer_dn, issuer_key, serial, revoked_at, reason, reason_code, source, seq"


class SparkEngine:
    """Spark SQL over the store's Parquet files (pyspark; needs a Java runtime)."""

    name = "spark"

    def __init__(self, master: str | None = None, spark=None) -> None:
        self._own = spark is None
        if spark is None:
            spark = start_session(master)
        self.spark = spark
        self._cached: dict = {}

    def load(self, store: Store, name_map: dict[str, str]) -> None:
        sp = self.spark
        sp.read.parquet(*store.files("certs")).createOrReplaceTempView("certs_raw")
        sp.read.parquet(*store.files("revocations")).createOrReplaceTempView("revs_file")
        sp.read.parquet(*store.files("compromised")).createOrReplaceTempView("comp_raw")
        sp.sql(
            "CREATE OR REPLACE TEMP VIEW certs AS SELECT cert_sha256, spki_sha256, issuer_dn, issuer_key, serial, "
            "unix_micros(not_before) AS nb, unix_micros(not_after) AS na, is_precert, is_ca, key_type, crtsh_id, "
            "unix_micros(first_seen) AS fs, unix_micros(sct_time) AS sct, source, seq, dup FROM certs_raw"
        )
        sp.sql(
            "CREATE OR REPLACE TEMP VIEW revs_raw AS SELECT issuer_dn, issuer_key, serial, "
            "unix_micros(revoked_at) AS revoked_at, reason, reason_code, source, seq FROM revs_file"
        )
        sp.sql(
            "CREATE OR REPLACE TEMP VIEW comp AS SELECT spki_sha256, unix_micros(reported_at) AS reported_at, "
            "source, seq FROM comp_raw"
        )
        from .engine import _revs_view

        sp.sql(
            rules.to_spark(
                _revs_view(name_map).replace("CREATE OR REPLACE VIEW", "CREATE OR REPLACE TEMP VIEW")
            )
        )

    def table(self, sql: str) -> pa.Table:
        return self.spark.sql(rules.to_spark(sql)).toArrow()

    def batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        # toLocalIterator streams partition by partition to the driver.
        df = self.spark.sql(rules.to_spark(sql))
        rows: list = []
        schema = None
        for row in df.toLocalIterator():
            rows.append(row.asDict())
            if len(rows) >= 65536:
                yield _batch(rows, schema)
                rows = []
        if rows:
            yield _batch(rows, schema)

    def create(self, name: str, data: pa.Table) -> None:
        if not data.num_rows:
            cols = ", ".join(f"CAST(NULL AS STRING) AS {c}" for c in data.column_names)
            self.spark.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {cols} WHERE FALSE")
        else:
            self.spark.createDataFrame(data).createOrReplaceTempView(name)

    def view(self, name: str, sql: str) -> None:
        self.spark.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {rules.to_spark(sql)}")

    def materialize(self, name: str, sql: str) -> None:
        old = self._cached.pop(name, None)
        if old is not None:
            old.unpersist()
        df = self.spark.sql(rules.to_spark(sql)).cache()
        df.count()
        df.createOrReplaceTempView(name)
        self._cached[name] = df

    def close(self) -> None:
        for df in self._cached.values():
            df.unpersist()
        if self._own:
            self.spark.stop()


def _batch(rows: list[dict], schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(rows)


def start_session(master: str | None = None):
    """A SparkSession for the rules (UTC session time zone, Arrow transfers)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise UsageError(f"--engine spark needs pyspark (pip install 'ca-incidents[spark]'): {exc}") from None
    builder = (
        SparkSession.builder.appName("ca-incidents keyreuse")
        .master(master or "local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4" if (master or "local").startswith("local") else "200")
    )
    try:
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        return spark
    except Exception as exc:  # no Java runtime, or the master cannot be reached
        raise UsageError(
            f"could not start Spark ({master or 'local[2]'}): {str(exc).splitlines()[0]}"
        ) from None
