"""The Parquet store and the key-reuse rules as SQL (DuckDB on one machine, Spark beyond).

`ingest` appends local inputs to a store; `find_key_reuse_store` runs design.md's rules over it
and returns the same `Findings` as `analysis.keyreuse.find_key_reuse`. duckdb and pyspark are
imported only when a store is analysed.
"""

from .engine import DEFAULT_MEMORY_LIMIT, StoreFindings, find_key_reuse_store
from .ingest import IngestResult, ingest, ingest_frames
from .layout import Store, open_store

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "IngestResult",
    "Store",
    "StoreFindings",
    "find_key_reuse_store",
    "ingest",
    "ingest_frames",
    "open_store",
]
