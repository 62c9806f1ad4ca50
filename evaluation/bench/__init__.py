"""Benchmarks: each measures one part of the service against a baseline in the same run
and writes JSON and Markdown (``make bench``, ``make bench-face-index``, ``make load``;
results under ``bench/results/``).

- ``name_queries``: finding a report from the name a station wrote down, recall and speed.
- ``intake``: face intake and photo search speed, against face_recognition's own path.
- ``pairs``: memory of the re-match's weak-name pairs.
- ``face_index_scale``: the FAISS face index, exact against HNSW, at national sizes, on
  vectors from ``face_vectors`` (synthetic embeddings that behave like dlib's).
- ``load``: ``xunqin serve`` under officers, reviewers and readers at once.
- ``rematch_ray``: the full re-match on 1 and 2 local workers and on Ray with 1 and 2
  CPUs (``process_memory``: the peak of the whole process tree), and what a national
  store would take on a cluster (``cluster_estimate``).
- ``blocking_bound``: what a bound on each found person's blocked pairs would keep of the
  true pairs, by three rankings.

Like all of ``evaluation``, they never import ``api``: the service is started as its own
process where one is needed.
"""
