"""Build evals/gold_corpus.jsonl: the corpus-scale gold set over the 2,000 CT.gov XML records.

    python evals/build_gold_corpus.py [--corpus DIR] [--out FILE] [--check]

Every expected answer is computed from the records by `goldgen/` (its own lxml reading of the
XML, independent of trialqa's parser): lists exhaustively over all records, numbers by
arithmetic, single trials by checking that a description picks exactly one record, absences by
full-text search of every file. Seeds are fixed and iteration is sorted, so a re-run
reproduces the file byte for byte; `--check` exits 1 when the file differs from a fresh build.

Kinds (one module each): described, list, eligibility, aggregate, follow-up, abstain, lay.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from goldgen import abstain, aggregate, described, eligibility, followup, lay, lists  # noqa: E402
from goldgen.common import require  # noqa: E402
from goldgen.records import load  # noqa: E402

KINDS = (
    ("described", described), ("list", lists), ("eligibility", eligibility), ("aggregate", aggregate),
    ("follow-up", followup), ("abstain", abstain), ("lay", lay),
)
MIN_PER_KIND = 15
DEFAULT_OUT = HERE / "gold_corpus.jsonl"


def default_corpus() -> Path:
    shared = os.environ.get("TRIALQA_SHARED") or str(HERE.parent.parent / "shared")
    return Path(shared) / "corpus" / "ctgov-xml"


def build(corpus: Path) -> list[dict[str, object]]:
    """Every case, kind by kind, after the whole-set checks."""
    recs = load(corpus)
    require(len(recs) >= 1000, f"{corpus}: only {len(recs)} records")
    known = {r.nct for r in recs}
    cases: list[dict[str, object]] = []
    for kind, module in KINDS:
        made = module.build(recs)
        require(len(made) >= MIN_PER_KIND, f"{kind}: {len(made)} cases < {MIN_PER_KIND}")
        require(all(c["category"] == kind for c in made), f"{kind}: wrong category")
        cases += made
    ids = [c["id"] for c in cases]
    require(len(set(ids)) == len(ids), "duplicate case ids")
    prompts = [p.lower() for c in cases for p in (c.get("turns") or [c["question"]])]  # type: ignore[union-attr]
    require(len(set(prompts)) == len(prompts), "two cases ask the same question (in any turn)")
    for c in cases:
        for nct in [*c["expect_trials"], *c["forbid_trials"]]:  # type: ignore[misc]
            require(nct in known, f"{c['id']}: {nct} is not a record")
    return cases


def render(cases: list[dict[str, object]]) -> str:
    return "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases)


def _validate(text: str) -> None:
    """Check every line against the product's Case model when trialqa is importable."""
    try:
        from trialqa.evals import Case
    except ImportError:
        return
    for line in text.splitlines():
        Case.model_validate_json(line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=None, help="directory of CT.gov XML records")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 when --out differs from a fresh build")
    args = ap.parse_args(argv)
    corpus = args.corpus or default_corpus()
    if not corpus.is_dir():
        print(f"error: {corpus}: no such corpus directory (set TRIALQA_SHARED or pass --corpus)", file=sys.stderr)
        return 2
    text = render(build(corpus))
    _validate(text)
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'up to date' if same else 'differs from a fresh build'}")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    counts: dict[str, int] = {}
    for line in text.splitlines():
        kind = json.loads(line)["category"]
        counts[kind] = counts.get(kind, 0) + 1
    print(f"wrote {args.out}: {sum(counts.values())} cases (" + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
