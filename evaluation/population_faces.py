"""Synthetic faces for a generated population's views, which carry none.

Scoring work depends on faces (how many records have them, how many each), so tests
and benchmarks of the scorer need some without the development photos. Each person gets
a centre drawn from the built-in face statistics (``evaluation/data/face_statistics.npz``,
see :mod:`evaluation.bench.face_vectors`), each face the centre plus one photo's spread;
the two records of a true pair are the same person, so their faces are close. A face's
photo year and the age in it are left unknown, or drawn from childhood to old age, so
every face stratum occurs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from evaluation.bench.face_vectors import BUILTIN_STATISTICS, FaceStatistics
from evaluation.population import TruePair
from matching.views import FaceView, FoundView, MissingView, PersonView

FACES_A_RECORD = (0.6, 0.3, 0.1)
POOR_EVERY = 8
"""One synthetic face in this many is a poor photo (small, blurred or turned)."""
"""Chance that a record with faces has 1, 2 or 3."""


def with_faces(
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    truth: Sequence[TruePair],
    *,
    seed: int,
    share: float = 0.6,
    statistics: FaceStatistics | None = None,
) -> tuple[list[MissingView], list[FoundView]]:
    """The views, a ``share`` of each side given 1-3 faces (seeded)."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    stats = statistics or FaceStatistics.read(BUILTIN_STATISTICS)
    rng = random.Random(f"xunqin-population-faces:{seed}")
    draws = np.random.default_rng(rng.getrandbits(64))
    person = {("m", v.ref): k for k, v in enumerate(missing)}
    person.update({("f", v.ref): len(missing) + k for k, v in enumerate(found)})
    for pair in truth:  # one person, two records
        person[("f", pair.found_ref)] = person[("m", pair.missing_ref)]
    centres = stats.between.draw(len(missing) + len(found), draws) + stats.mean.astype(np.float32)
    face_ids = iter(range(1, 10**9))

    def faces(side: str, view: PersonView) -> tuple[FaceView, ...]:
        if rng.random() >= share:
            return ()
        n = rng.choices(range(1, len(FACES_A_RECORD) + 1), FACES_A_RECORD)[0]
        spread = stats.within.draw(n, draws)
        centre = centres[person[(side, view.ref)]]
        return tuple(
            FaceView(
                face_id=(face_id := next(face_ids)),
                embedding=(centre + spread[k]).astype(np.float32),
                taken_year=rng.choice((None, rng.randint(1985, 2026))),
                age_at_photo=rng.choice((None, rng.randint(1, 15), rng.randint(16, 80))),
                # One face in eight poor (from the ids: the seeded draws stay as they were).
                poor=face_id % POOR_EVERY == 0,
            )
            for k in range(n)
        )

    return (
        [replace(v, faces=faces("m", v)) for v in missing],
        [replace(v, faces=faces("f", v)) for v in found],
    )
