"""Coverage-guided fuzzing of the same targets with atheris, where it installs (`make fuzz`).

    python tests/fuzz_atheris.py der|crl|report [libFuzzer options, e.g. -runs=100000 -max_total_time=300]

Seeds come from fuzz_targets; a crash or a failed check stops the run and leaves the input in
./crash-* for a regression test.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import atheris  # noqa: E402

with atheris.instrument_imports(include=["analysis"]):
    import analysis.certificates  # noqa: F401
    import analysis.der  # noqa: F401
    import analysis.reports  # noqa: F401
    import analysis.revocations  # noqa: F401

from fuzz_targets import TARGETS  # noqa: E402


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(sorted(TARGETS))} [libFuzzer options]")
    target, seeds = TARGETS[sys.argv[1]]
    corpus = Path("fuzz-corpus") / sys.argv[1]
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(seeds()):
        (corpus / f"seed-{i}").write_bytes(seed)
    atheris.Setup([sys.argv[0], str(corpus), *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
