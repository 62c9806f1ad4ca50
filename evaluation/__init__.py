"""Evaluation harness: synthetic tracing populations with ground truth, and the metrics.

- ``population``: ``generate_population`` / ``write_population``, a seeded population of
  missing-person reports and found records in the import format, with the true pairs and
  their labels (scenario, category, gap, region, photos). Its tables live in small modules:
  ``census`` (surnames, provinces, dialects, given names), ``categories`` (who goes missing,
  the documented mix), ``dialects`` and ``chars`` (sound confusions), ``corruption`` (how
  stations record names), ``traits`` (marks and conditions), ``faces`` (photo supply).
- ``metrics``: recall@k, precision/recall over a threshold, reviewer workload, calibration
  and per-label breakdowns, as small pure functions.
- ``harness`` runs a population through the real import and re-match beside the
  ``baselines`` and the ``first_scorer`` (the first, hand-set scorer, with its comparisons
  ``simple_names``, ``first_attributes`` and ``first_faces``); ``report`` writes it up.
- ``build_default_model`` makes the shipped ``matching/evidence_model/default_model.json``
  again, from the development photos and a generated population (``population_views``).
- ``bench``: the benchmarks.

Arrows: ``evaluation`` uses ``records``, ``indexes`` and ``matching``, never ``api``; only
the ``xunqin`` command line's ``eval`` and ``demo`` commands (and the tests) import it.

The generator is written independently of ``matching`` so that it does not share the
matcher's idea of how names go wrong.
"""
