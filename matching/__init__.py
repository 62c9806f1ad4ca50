"""Matching: names, attribute comparisons, evidence scoring, candidates, re-matching.

Uses ``records`` (the store) and ``indexes`` (faces); never the API.
"""
