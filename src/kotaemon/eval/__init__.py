"""Batch testing: a question set asked through the service's RAG pipeline, measured for
knowledge-base coverage and answer quality, compared with a previous run, and reported as JSON
and self-contained HTML (``kotaemon eval``, ``/v1/evals``).

============  ===============================================================================
questions     question sets: JSONL, CSV, BEIR folders, SQuAD files
runner        runs a set through ``RAGPipeline.astream``, one stored result per question
results       what is recorded per question (coverage, ranking, answer scores, cost)
metrics       EM, token F1 (CJK by character), containment, hit@k, MRR, nDCG, ROC AUC
summary       aggregates by tag, kinds of "not covered", separation AUCs
clusters      uncovered questions grouped by topic
compare       improved / regressed / unchanged against a baseline
gates         CI thresholds and the exit status of a failed gate
judge         the LLM judge (only with an LLM configured)
report, svg   the JSON report and the HTML page with inline SVG charts
session       the CLI's run from file to report; worker: the queue's eval job
============  ===============================================================================
"""
