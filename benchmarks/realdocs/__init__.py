"""The real-document benchmark's parts: the corpus (Debian manuals), the questions, the scoring.

The runner is ``benchmarks/real_documents.py``; ``corpus.json`` lists the documents by package and
path, ``questions.jsonl`` the questions with their expected sources and facts.
"""
