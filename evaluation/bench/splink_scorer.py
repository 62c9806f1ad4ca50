"""Splink 4 on DuckDB scoring given pairs with the nearest comparisons it has to ours.

Only the benchmark uses this (Splink is a development dependency; the product never
imports it). Each of our comparisons becomes a Splink comparison whose levels are
Splink's library levels where a column meets the same column (exact, Jaro-Winkler,
array intersections, absolute differences, distance in km) and custom SQL levels where
ours crosses columns (a birth year against an age range, a missing date against a found
date, the closest of several faces). Every level has a fixed m and u taken from our
model's tables, so Splink only scores: it is never trained. Splink has one m and u a
level: where our comparison has strata, the level takes the stratum named in
:data:`STRATA`. What each comparison leaves out is said where it is built.

Splink scores the pairs it is given through its own blocking: each record lists the
positions of its pairs (``pair_keys``), and the rule blocks on that list exploded, so
the join yields exactly the given pairs, each once.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import duckdb
import numpy as np
import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from numpy.typing import NDArray
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from evaluation.bench.splink_columns import COLUMNS, SQL_TYPES
from matching.evidence_model.comparisons.age import (
    BASE_TOLERANCE,
    ELDERLY_FROM,
    ELDERLY_SLOPE,
    GAP_CAP,
    GAP_SLOPE,
    OFF_FACTOR,
    WITHIN_SLACK,
)
from matching.evidence_model.comparisons.height import ADULT_SD_CM
from matching.evidence_model.comparisons.place import FAR_KM, NEAR_KM, REGION_KM, SAME_PLACE_KM
from matching.evidence_model.comparisons.timing import GAP_BOUNDS, SLACK_DAYS
from matching.evidence_model.face_calibration import FACE_EDGES
from matching.evidence_model.params import ModelParams

if TYPE_CHECKING:  # Splink's base class of levels is not in its public modules
    from splink.internals.comparison_level_creator import ComparisonLevelCreator as Level

REPORTS: Final = "left_reports"
FOUND: Final = "right_found"
"""Table names: Splink puts the alphabetically first table on the left of every pair."""

STRATA: Final = {"face": "adult_recent", "age": "wide", "time": "adult", "height": "adult",
                 "place": "later"}  # fmt: skip
"""The stratum whose m and u a comparison's levels take (others have one stratum)."""


class _Levels:
    """Gives Splink levels the m and u of one of our comparison's levels (in the stratum
    that :data:`STRATA` names)."""

    def __init__(self, params: ModelParams, comparison: str) -> None:
        self._params = params.comparison(comparison)
        self._stratum = self._params.stratum(STRATA.get(comparison, self._params.strata[0].label))

    def __call__(self, level: Level, ours: str) -> Level:
        """``level`` with the m and u of our level ``ours``."""
        k = self._params.levels.index(ours) - 1  # m and u leave out the null level
        return level.configure(
            m_probability=self._stratum.m[k], u_probability=self._stratum.u[k],
            label_for_charts=ours,
        )  # fmt: skip


def _null(sql: str) -> Level:
    return cll.CustomLevel(sql).configure(is_null_level=True, label_for_charts="null")


CLOSEST_FACES: Final = (
    "list_min(flatten(list_transform(faces_l, a -> list_transform(faces_r, "
    "b -> array_distance(a, b)))))"
)


def face_comparison(params: ModelParams) -> cl.CustomComparison:
    """The closest of the two records' faces (Euclidean, as ours), in our bins. Left
    out: the strata by the ages in the photos and the years between them."""
    at = _Levels(params, "face")
    labels = params.comparison("face").levels[1:]
    levels = [_null("faces_l IS NULL OR faces_r IS NULL")]
    levels += [at(cll.CustomLevel(f"{CLOSEST_FACES} < {edge}"), label)
               for edge, label in zip(FACE_EDGES, labels, strict=False)]  # fmt: skip
    levels.append(at(cll.ElseLevel(), labels[-1]))
    return cl.CustomComparison(output_column_name="face", comparison_levels=[*levels])


def name_comparison(params: ModelParams) -> cl.CustomComparison:
    """Names and aliases: the same name (the first with Splink's term-frequency
    adjustment, as ours adjusts by the name's frequency), the same toneless pinyin,
    pinyin alike by Jaro-Winkler, names alike by Jaro-Winkler (a character lost or
    changed), the same surname. Left out: dialect rules, mishearings, 小名, traditional
    and simplified forms, characters with several readings."""
    at = _Levels(params, "name")
    tf = params.tf_minimum
    return cl.CustomComparison(output_column_name="name", comparison_levels=[
        cll.NullLevel("names"),
        at(cll.ExactMatchLevel("name", term_frequency_adjustments=True), "exact").configure(
            tf_minimum_u_value=tf),
        at(cll.ArrayIntersectLevel("names"), "exact"),
        at(cll.ArrayIntersectLevel("pinyins"), "same_sound"),
        at(cll.PairwiseStringDistanceFunctionLevel("pinyins", "jaro_winkler", 0.92), "near_sound"),
        at(cll.PairwiseStringDistanceFunctionLevel("names", "jaro_winkler", 0.88),
           "nickname_or_partial"),
        at(cll.ArrayIntersectLevel("surnames"), "surname_only"),
        at(cll.ElseLevel(), "different"),
    ])  # fmt: skip


def sex_comparison(params: ModelParams) -> cl.CustomComparison:
    """The same sex or not (as ours)."""
    at = _Levels(params, "sex")
    return cl.CustomComparison(output_column_name="sex", comparison_levels=[
        cll.NullLevel("sex"), at(cll.ExactMatchLevel("sex"), "same"),
        at(cll.ElseLevel(), "different"),
    ])  # fmt: skip


def age_comparison(params: ModelParams) -> cl.CustomComparison:
    """The age the birth year gives at the found date, outside the estimated range by
    our tolerances (as ours). Left out: the strata of narrow and wide ranges."""
    at = _Levels(params, "age")
    implied = "(year(found_on_r) - birth_year_l)"
    outside = f"greatest(0, age_min_r - {implied}, {implied} - age_max_r)"
    years = "coalesce(date_diff('day', lost_on_l, found_on_r) / 365.25, 0)"
    tolerance = (f"({BASE_TOLERANCE} + {ELDERLY_SLOPE} * greatest(0, {implied} - {ELDERLY_FROM})"
                 f" + {GAP_SLOPE} * least(greatest(0, {years}), {GAP_CAP}))")  # fmt: skip
    born = f"{implied} >= 0"
    return cl.CustomComparison(output_column_name="age", comparison_levels=[
        _null("birth_year_l IS NULL OR age_min_r IS NULL OR found_on_r IS NULL"),
        at(cll.CustomLevel(f"{born} AND {outside} <= {WITHIN_SLACK}"), "within"),
        at(cll.CustomLevel(f"{born} AND {outside} <= {tolerance}"), "near"),
        at(cll.CustomLevel(f"{born} AND {outside} <= {OFF_FACTOR} * {tolerance}"), "off"),
        at(cll.ElseLevel(), "far"),
    ])  # fmt: skip


def time_comparison(params: ModelParams) -> cl.CustomComparison:
    """Days from the missing date to the found date, in our bands (as ours). Left out:
    the strata of a child, an adult and an unknown age when lost."""
    at = _Levels(params, "time")
    days = "date_diff('day', lost_on_l, found_on_r)"
    labels = dict(zip((1, 3, 4, 5), ("days", "months", "years", "long"), strict=True))
    levels = [_null("lost_on_l IS NULL OR found_on_r IS NULL"),
              at(cll.CustomLevel(f"{days} BETWEEN 0 AND {GAP_BOUNDS[0][0]}"), "days"),
              at(cll.CustomLevel(f"{days} BETWEEN {-SLACK_DAYS} AND -1"),
                 "before_slack")]  # fmt: skip
    levels += [at(cll.CustomLevel(f"{days} BETWEEN 0 AND {bound}"), labels[level])
               for bound, level in GAP_BOUNDS[1:]]  # fmt: skip
    levels += [at(cll.CustomLevel(f"{days} > {GAP_BOUNDS[-1][0]}"), "very_long"),
               at(cll.ElseLevel(), "before")]  # fmt: skip
    return cl.CustomComparison(output_column_name="time", comparison_levels=[*levels])


def height_comparison(params: ModelParams) -> cl.CustomComparison:
    """Heights within one, two and three and a half of our adult standard deviations.
    Left out: a child's height carried along a growth curve, shrinking with age."""
    at = _Levels(params, "height")
    return cl.CustomComparison(output_column_name="height", comparison_levels=[
        cll.NullLevel("height_cm"),
        *(at(cll.AbsoluteDifferenceLevel("height_cm", sds * ADULT_SD_CM), label)
          for sds, label in ((1.0, "close"), (2.0, "near"), (3.5, "off"))),
        at(cll.ElseLevel(), "far"),
    ])  # fmt: skip


def place_comparison(params: ModelParams) -> cl.CustomComparison:
    """The same city or the distance between the places, in our bands. Left out: a
    place known only to its province, and the strata of how soon the person was found."""
    at = _Levels(params, "place")
    km = [(NEAR_KM, "near"), (REGION_KM, "region"), (FAR_KM, "far")]
    return cl.CustomComparison(output_column_name="place", comparison_levels=[
        _null("latitude_l IS NULL OR latitude_r IS NULL"),
        at(cll.Or(cll.ExactMatchLevel("city"),
                  cll.DistanceInKMLevel("latitude", "longitude", SAME_PLACE_KM)), "same_place"),
        *(at(cll.DistanceInKMLevel("latitude", "longitude", limit), label)
          for limit, label in km),
        at(cll.ElseLevel(), "very_far"),
    ])  # fmt: skip


def hometown_comparison(params: ModelParams) -> cl.CustomComparison:
    """The stated city, then shared precise provinces, dialect areas, any province (as
    ours). Left out: the stratum of a child grown up away."""
    at = _Levels(params, "hometown")
    return cl.CustomComparison(output_column_name="hometown", comparison_levels=[
        cll.NullLevel("home_provinces"),
        at(cll.ExactMatchLevel("home_city"), "same_city"),
        at(cll.ArrayIntersectLevel("home_narrow"), "same_province"),
        at(cll.ArrayIntersectLevel("home_areas"), "same_area"),
        at(cll.ArrayIntersectLevel("home_provinces"), "broad_overlap"),
        at(cll.ElseLevel(), "different"),
    ])  # fmt: skip


def marks_comparison(params: ModelParams) -> cl.CustomComparison:
    """A shared mark (kind, part and side), else a shared kind. Left out: rare marks,
    families of marks, a part said on one side only."""
    at = _Levels(params, "marks")
    return cl.CustomComparison(output_column_name="marks", comparison_levels=[
        cll.NullLevel("marks"), at(cll.ArrayIntersectLevel("marks"), "agree"),
        at(cll.ArrayIntersectLevel("mark_kinds"), "partial"), at(cll.ElseLevel(), "disagree"),
    ])  # fmt: skip


def health_comparison(params: ModelParams) -> cl.CustomComparison:
    """A shared condition, else a shared family. Left out: rare conditions, catch-all
    words, related families, conditions a station cannot see."""
    at = _Levels(params, "health")
    return cl.CustomComparison(output_column_name="health", comparison_levels=[
        cll.NullLevel("conditions"), at(cll.ArrayIntersectLevel("conditions"), "agree"),
        at(cll.ArrayIntersectLevel("condition_families"), "related"),
        at(cll.ElseLevel(), "disagree"),
    ])  # fmt: skip


def splink_settings(params: ModelParams) -> SettingsCreator:
    """Splink's settings: our prior, a comparison for each of ours, blocking on the
    pairs' keys; the output keeps only the ids and the weights."""
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=params.prior,
        comparisons=[make(params) for make in (
            face_comparison, name_comparison, sex_comparison, age_comparison, time_comparison,
            height_comparison, place_comparison, hometown_comparison, marks_comparison,
            health_comparison)],
        blocking_rules_to_generate_predictions=[
            block_on("pair_keys", arrays_to_explode=["pair_keys"])],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )  # fmt: skip


@dataclass(frozen=True)
class SplinkScores:
    """Splink's output rows: pair ``k`` is report row ``i[k]`` against found row
    ``j[k]``, weighing ``weights[k]`` (log2 Bayes factor with the prior)."""

    i: NDArray[np.int64]
    j: NDArray[np.int64]
    weights: NDArray[np.float64]


_BLOCKING_TIME = re.compile(r"Blocking time: ([0-9.]+) seconds")


class _Said(logging.Handler):
    """Remembers the seconds Splink says its blocking took."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.blocking: float | None = None

    def emit(self, record: logging.LogRecord) -> None:
        match = _BLOCKING_TIME.search(record.getMessage())
        if match:
            self.blocking = float(match.group(1))


@contextmanager
def _listening() -> Iterator[_Said]:
    said = _Said()
    logger = logging.getLogger("splink")
    logger.addHandler(said)
    try:
        yield said
    finally:
        logger.removeHandler(said)


@dataclass(frozen=True)
class SplinkPass:
    """One scoring pass: the scores, the seconds ``predict`` took, and how many of them
    Splink's log says went on blocking (None if it did not say)."""

    scores: SplinkScores
    seconds: float
    blocking_seconds: float | None


class SplinkScorer:
    """Both sides' records in DuckDB, and a Splink linker that scores their pairs.

    ``reports`` and ``found`` are frames of :data:`~.splink_columns.COLUMNS`, each
    record's ``pair_keys`` listing its pairs' positions. Making one loads the tables;
    :meth:`score` scores every pair once.
    """

    def __init__(self, params: ModelParams, reports: pd.DataFrame, found: pd.DataFrame) -> None:
        self._con = duckdb.connect()
        for name, frame in ((REPORTS, reports), (FOUND, found)):
            self._con.register("frame", frame)
            columns = ", ".join(f"CAST({c} AS {SQL_TYPES[c]}) AS {c}" for c in COLUMNS)
            self._con.execute(f"CREATE TABLE {name} AS SELECT {columns} FROM frame")
            self._con.unregister("frame")
        self._linker = Linker([REPORTS, FOUND], splink_settings(params),
                              db_api=DuckDBAPI(connection=self._con),
                              input_table_aliases=[REPORTS, FOUND])  # fmt: skip
        self._linker.table_management.compute_tf_table("name")

    @property
    def threads(self) -> int:
        """The threads DuckDB runs a query on."""
        row = self._con.execute("SELECT current_setting('threads')").fetchone()
        return int(row[0]) if row else 1

    def score(self) -> SplinkPass:
        """Score every pair once; the seconds are ``predict``'s alone."""
        with _listening() as said:
            started = time.perf_counter()
            predictions = self._linker.inference.predict()
            seconds = time.perf_counter() - started
        table = predictions.physical_name
        try:
            sides = self._con.execute(
                f"SELECT DISTINCT source_dataset_l, source_dataset_r FROM {table}"
            ).fetchall()
            if sides and sides != [(REPORTS, FOUND)]:
                raise RuntimeError(f"Splink paired the tables as {sides}, not reports to found")
            got = self._con.execute(
                f"SELECT unique_id_l, unique_id_r, match_weight FROM {table}"
            ).fetchnumpy()
        finally:
            predictions.drop_table_from_database_and_remove_from_cache()
        scores = SplinkScores(np.asarray(got["unique_id_l"], dtype=np.int64),
                              np.asarray(got["unique_id_r"], dtype=np.int64),
                              np.asarray(got["match_weight"], dtype=np.float64))  # fmt: skip
        return SplinkPass(scores, seconds, said.blocking)

    def close(self) -> None:
        """Close the DuckDB connection."""
        self._con.close()
