"""A labeled corpus of real training curves that every check is measured against.

- ``runs``: real training of the digits MLP, the digits CNN and the charlm
  transformer, with switches that make each pathology (small training set,
  small validation set, high constant learning rate, a learning-rate jump, a
  sign bug, an unshuffled loader, regularizers);
- ``cases``: which runs make each entry and what an expert reading its curves
  would raise (``fire``), not raise (``silent``) or call expected;
- ``make_corpus``: trains every case and writes ``corpus.json.gz`` (seeded:
  the same bytes on one machine and torch version);
- ``harness``: an entry as ``ExperimentData``, every check scored
  (precision/recall) and the Markdown table: ``python -m tests.analysis.corpus.harness``;
- ``view``: every entry's curves with its labels, to check them by eye.

``tests/analysis/test_corpus.py`` fails a check below 0.95 precision or recall.
"""
