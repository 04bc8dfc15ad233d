"""The dashboard's data layer: data sets, the workspace folder, and page-ready frames.

No Streamlit here (analysis/ never imports it): `app_pages/_data.py` wraps these functions in
`st.cache_data`, and the pages only render what comes back. Everything is keyed by a `Dataset`,
which names its files by kind; its `fingerprint` changes whenever a file is added or replaced, so
the caches above never serve an old answer after an upload.

Data sets:

* the demo incident (`data/demo`, analysed as of `demo_as_of()`),
* workspace data sets: folders under ``<cache dir>/workspace/<name>/`` with one subfolder per kind
  (``certs``, ``crls``, ``revocations``, ``compromised``, ``report``, ``corpus``). The cache dir is
  env ``CA_INCIDENTS_CACHE``, else the platform's user cache directory for ``ca-incidents``.

Upload names are reduced to a safe base name (`safe_filename`) and every write is checked to stay
inside its data set's folder (`save_upload`).

One module per concern: `datasets` (finding and naming data sets), `workspace` (files into a data
set), `display` (how values are shown), `keyreuse_views`, `report_views`, `corpus_views` (what
each page draws) and `fetching` (crt.sh and Bugzilla into a data set).
"""

from __future__ import annotations

from ..errors import InputError, Problem
from ..formats import short_source
from ..uploads import safe_filename
from .corpus_views import (
    CorpusViews,
    bug_table,
    corpus_filters,
    corpus_views_filtered,
    filter_bugs,
    load_corpus_views,
    problems_frame,
)
from .datasets import (
    DEMO,
    KIND_LABELS,
    KINDS,
    Dataset,
    cache_dir,
    create_dataset,
    delete_dataset,
    demo_dataset,
    get_dataset,
    list_datasets,
    safe_dataset_name,
    workspace_dataset,
    workspace_dir,
)
from .display import EMPTY, for_display, plural
from .fetching import FetchResult, _session, fetch_bugs, fetch_crtsh, parse_bug_ids, parse_crtsh_queries
from .keyreuse_views import (
    FIGURES,
    MAX_TIMELINE_KEYS,
    analyse,
    events,
    events_table,
    findings_json,
    key_certificates,
    key_choices,
    key_table,
    load_inputs,
    overview,
    report_zone,
    violations_csv,
)
from .report_views import (
    action_items_table,
    appendix_csv,
    claimed_vs_data,
    closure_draft,
    lint_table,
    lint_text,
    load_dataset_report,
)
from .workspace import (
    REFUSED_FILE,
    clear_refusals,
    forget_refusal,
    merge_bug_list,
    record_refusal,
    refused_uploads,
    save_upload,
    workspace_files,
)

__all__ = [
    "CorpusViews",
    "DEMO",
    "Dataset",
    "EMPTY",
    "FIGURES",
    "FetchResult",
    "InputError",
    "KINDS",
    "KIND_LABELS",
    "MAX_TIMELINE_KEYS",
    "Problem",
    "REFUSED_FILE",
    "_session",
    "action_items_table",
    "analyse",
    "appendix_csv",
    "bug_table",
    "cache_dir",
    "claimed_vs_data",
    "clear_refusals",
    "closure_draft",
    "corpus_filters",
    "corpus_views_filtered",
    "create_dataset",
    "delete_dataset",
    "demo_dataset",
    "events",
    "events_table",
    "fetch_bugs",
    "fetch_crtsh",
    "filter_bugs",
    "findings_json",
    "for_display",
    "forget_refusal",
    "get_dataset",
    "key_certificates",
    "key_choices",
    "key_table",
    "lint_table",
    "lint_text",
    "list_datasets",
    "load_corpus_views",
    "load_dataset_report",
    "load_inputs",
    "merge_bug_list",
    "overview",
    "parse_bug_ids",
    "parse_crtsh_queries",
    "plural",
    "problems_frame",
    "record_refusal",
    "refused_uploads",
    "report_zone",
    "safe_dataset_name",
    "safe_filename",
    "save_upload",
    "short_source",
    "violations_csv",
    "workspace_dataset",
    "workspace_dir",
    "workspace_files",
]
