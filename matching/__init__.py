"""Matching: names, attribute comparisons, evidence scoring, explanations, sharing chance
between rivals.

Pure scoring: given views of records (``views``) and face embeddings, it computes. It
opens no session and keeps no file of its own; the re-match job, the searches and the
intake that do are the use cases' (``usecases/``).
"""
