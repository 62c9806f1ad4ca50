"""Evaluation harness: synthetic tracing populations with ground truth, and the metrics.

- ``population``: ``generate_population`` / ``write_population``, a seeded population of
  missing-person reports and found records in the import format, with the true pairs and
  their labels (scenario, category, gap, region, photos). Its tables live in small modules:
  ``census`` (surnames, provinces, dialects, given names), ``categories`` (who goes missing,
  the documented mix), ``dialects`` and ``chars`` (sound confusions), ``corruption`` (how
  stations record names), ``traits`` (marks and conditions), ``faces`` (photo supply).
- ``metrics``: recall@k, precision/recall over a threshold, reviewer workload, calibration
  and per-label breakdowns, as small pure functions.

The generator is written independently of ``matching`` so that it does not share the
matcher's idea of how names go wrong.
"""
