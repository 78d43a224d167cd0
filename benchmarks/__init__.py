"""`make bench`: time every stage of trialqa on this machine and write the figures as JSON.

Not part of the installed package: a top-level folder of the repository, one module per
phase, run with `python -m benchmarks` from the repository root (see run.py).

    common.py          Config, statistics, corpora and cached indexes, child processes
    ingest.py          parse the 2,000 XML records
    ask.py             answers over the gold questions, warm and cold, instant and model-written
    cold.py            `trialqa ask` as a shell runs it: whole command, instant and model answers,
                       with and without `trialqa serve`
    baseline.py        a typical local RAG (fixed-size chunks, top 4, one prompt, the same GGUF)
                       over the same questions, and the ratios
    index.py           build the seeds, 2,000 and 6,786-record indexes fresh, then re-index
    search.py          warm hybrid-search latency
    trec.py            nDCG@10 per TREC cohort beside BM25
    corpus_answers.py  list/count/aggregate answers over the 2,000-record index
    ivf.py             IVF-PQ against exact search
    retrieval.py, eligibility.py   phases with `run() -> dict`, written elsewhere (optional)
    tune_ranking.py    not a phase: chooses the trial-ranking settings on one TREC cohort
    report.py          targets and the printed table

Indexes and the unpacked extra corpus live under .bench/ (or TRIALQA_BENCH_CACHE), never
in indexes/. `--quick` uses the seeds only with fewer runs; `--fakes` swaps in
HashingEmbedder and ScriptedGenerator to check the plumbing (its figures mean nothing).
"""
