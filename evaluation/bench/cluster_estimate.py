"""What a full re-match of a national store would take on a Ray cluster, from measures.

Nothing here is measured: it is arithmetic on what ``evaluation.bench.rematch_ray``
measured, kept apart so that each assumption is one line of code and one line of the
result page.

- **Pairs.** Blocking's pairs are counted at two sizes of the same generated population
  (reports and found persons in the same 10:1 proportion), split by what chose them.
  Pairs chosen by names or by sex, birth year and province grow with both sides: the
  exponent between the two sizes is carried to the target size. Pairs only the
  weak-name reach adds are capped by its budget (``weak_name_budget``).
  A second scenario keeps each report's pairs as at the measured size: what blocking
  would have to become.
- **Scoring** (spread over the cluster): pairs over the pairs/s of one Ray CPU, as
  measured with one CPU (the whole scoring phase, so the head's share of it is in it).
- **Head node** (does not spread): loading the records, in proportion to them; storing
  each block's plausible pairs as it comes back, in proportion to those pairs (which
  also bounds the scoring phase from below); settling, between two bounds because one
  size cannot tell its two costs apart: per candidate written, with candidates per
  record as measured (low), or per plausible pair read (high).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from evaluation.markdown import table_lines

PLAUSIBLE_PAIR_BYTES = 24
"""Memory settling holds per plausible pair, beside its arrays (README, known limits)."""
HOUR = 3600.0


@dataclass(frozen=True)
class PairCount:
    """Blocking's pairs on one population, by what chose them."""

    reports: int
    found_persons: int
    pairs: int
    """Every pair blocking chose: what a full run scores."""
    by_names_or_attributes: int
    """Pairs whose names match, or of one sex, a fitting birth year and a shared province."""
    weak_name_only: int
    """Pairs only the weak-name reach chose."""
    weak_name_served: int
    """Found persons whose names cannot find their report."""
    weak_name_reach: int
    """Reports each of them reached at most."""

    @property
    def per_report(self) -> float:
        """Pairs per report."""
        return self.pairs / max(1, self.reports)


@dataclass(frozen=True)
class MeasuredRun:
    """The figures of one full run the estimate scales."""

    reports: int
    found_persons: int
    pairs_scored: int
    plausible: int
    kept: int
    seconds_loading: float
    seconds_scoring: float
    seconds_head_blocks: float
    """Of the scoring, the head's time storing each block's plausible pairs."""
    seconds_storing: float
    """Settling: choosing, sharing, explaining and writing the candidates."""

    @property
    def records(self) -> int:
        """Reports and found persons."""
        return self.reports + self.found_persons

    @property
    def pairs_per_second(self) -> float:
        """Pairs over the whole scoring phase."""
        return self.pairs_scored / max(self.seconds_scoring, 1e-9)


@dataclass(frozen=True)
class Scenario:
    """One way the pairs could grow, and what it costs (hours)."""

    name: str
    pairs: float
    plausible: float
    kept: float
    scoring_cpu_hours: float
    cluster_scoring_hours: float
    """CPU-hours over the cluster's CPUs."""
    head_blocks_hours: float
    """The head storing blocks' plausible pairs: the scoring phase is never shorter."""
    loading_hours: float
    settle_per_candidate_hours: float
    settle_per_plausible_hours: float
    plausible_gib: float

    @property
    def scoring_hours(self) -> float:
        """The scoring phase: the cluster's share or the head's, whichever is longer."""
        return max(self.cluster_scoring_hours, self.head_blocks_hours)

    @property
    def settle_hours(self) -> tuple[float, float]:
        """Settling, the lower and the higher of its two bounds."""
        low, high = sorted((self.settle_per_candidate_hours, self.settle_per_plausible_hours))
        return low, high

    @property
    def head_hours(self) -> tuple[float, float]:
        """What the head node does, low and high: loading, storing blocks, settling."""
        low, high = self.settle_hours
        fixed = self.loading_hours + self.head_blocks_hours
        return fixed + low, fixed + high

    @property
    def total_hours(self) -> tuple[float, float]:
        """The whole run, low and high: loading, scoring, settling."""
        low, high = self.settle_hours
        fixed = self.loading_hours + self.scoring_hours
        return fixed + low, fixed + high


@dataclass(frozen=True)
class ClusterEstimate:
    """A full re-match of ``reports`` x ``found_persons`` on ``cpus`` Ray CPUs."""

    reports: int
    found_persons: int
    cpus: int
    weak_name_budget: int
    small: PairCount
    large: PairCount
    run: MeasuredRun
    exponent: float
    """How the pairs by names or attributes grow with the population (2: with both sides)."""
    weak_name_pairs: float
    """The weak-name reach's pairs at the target size: its budget at most."""
    grown: Scenario
    bounded: Scenario

    @classmethod
    def from_measures(
        cls,
        counts: Sequence[PairCount],
        run: MeasuredRun,
        *,
        reports: int = 10_000_000,
        found_persons: int = 1_000_000,
        cpus: int = 1000,
        weak_name_budget: int = 5_000_000,
    ) -> ClusterEstimate:
        """The estimate from pair counts at two or more sizes (the smallest and largest
        are used) and a full run on Ray with one CPU at the largest."""
        if len(counts) < 2:
            raise ValueError("pairs must be counted at two sizes at least")
        small, large = sorted(counts, key=lambda c: c.reports)[:: len(counts) - 1]
        if small.reports == large.reports:
            raise ValueError("pairs must be counted at two different sizes")
        exponent = math.log(large.by_names_or_attributes / max(1, small.by_names_or_attributes))
        exponent /= math.log(large.reports / small.reports)
        scale = reports / large.reports
        served = large.weak_name_served / max(1, large.found_persons) * found_persons
        weak = min(weak_name_budget, served * max(1, large.weak_name_reach))
        grown_pairs = large.by_names_or_attributes * scale**exponent + weak

        def scenario(name: str, pairs: float) -> Scenario:
            records_scale = (reports + found_persons) / run.records
            plausible = pairs * run.plausible / max(1, run.pairs_scored)
            kept = run.kept * records_scale
            cpu_seconds = pairs / max(run.pairs_per_second, 1e-9)
            head_blocks = run.seconds_head_blocks * plausible / max(1, run.plausible)
            return Scenario(
                name=name,
                pairs=pairs,
                plausible=plausible,
                kept=kept,
                scoring_cpu_hours=cpu_seconds / HOUR,
                cluster_scoring_hours=cpu_seconds / cpus / HOUR,
                head_blocks_hours=head_blocks / HOUR,
                loading_hours=run.seconds_loading * records_scale / HOUR,
                settle_per_candidate_hours=run.seconds_storing * kept / max(1, run.kept) / HOUR,
                settle_per_plausible_hours=(
                    run.seconds_storing * plausible / max(1, run.plausible) / HOUR
                ),
                plausible_gib=plausible * PLAUSIBLE_PAIR_BYTES / 2**30,
            )

        return cls(
            reports=reports,
            found_persons=found_persons,
            cpus=cpus,
            weak_name_budget=weak_name_budget,
            small=small,
            large=large,
            run=run,
            exponent=exponent,
            weak_name_pairs=weak,
            grown=scenario("pairs grow as measured", grown_pairs),
            bounded=scenario("pairs per report held", large.per_report * reports),
        )

    def markdown_lines(self) -> list[str]:
        """The estimate as a section of the result page, its arithmetic shown."""
        s, b, r, g = self.small, self.large, self.run, self.grown
        ratio = self.reports / b.reports
        records_ratio = (self.reports + self.found_persons) / r.records
        weak_served = b.weak_name_served / max(1, b.found_persons) * self.found_persons
        lines = [
            f"## Estimate: {self.reports:,} reports x {self.found_persons:,} found persons "
            f"on {self.cpus:,} Ray CPUs",
            "",
            "Arithmetic on the figures above, not a measure; every input is named. Same "
            "proportions as the bench (a tenth as many found persons as reports), no photos.",
            "",
            "**Pairs.** Blocking's pairs counted on the same generated population at two "
            "sizes, by what chose them:",
            "",
            f"- {s.reports:,} x {s.found_persons:,}: {s.pairs:,} pairs "
            f"({s.per_report:.1f} per report); {s.by_names_or_attributes:,} by names or "
            f"attributes, {s.weak_name_only:,} by the weak-name reach alone "
            f"({s.weak_name_served:,} found persons served, up to {s.weak_name_reach:,} "
            "reports each).",
            f"- {b.reports:,} x {b.found_persons:,}: {b.pairs:,} pairs "
            f"({b.per_report:.1f} per report); {b.by_names_or_attributes:,} by names or "
            f"attributes, {b.weak_name_only:,} by the weak-name reach alone "
            f"({b.weak_name_served:,} served, up to {b.weak_name_reach:,} each).",
            f"- Pairs by names or attributes grow as size^{self.exponent:.2f} "
            f"(log({b.by_names_or_attributes:,} / {s.by_names_or_attributes:,}) / "
            f"log({b.reports:,} / {s.reports:,})); 2 would be in proportion to reports x "
            "found persons, each found person matching a share of all reports by name or "
            "by sex, birth year and province.",
            f"- At {ratio:,.0f}x the size: {b.by_names_or_attributes:,} x "
            f"{ratio:,.0f}^{self.exponent:.2f} = {g.pairs - self.weak_name_pairs:,.3g}, plus the "
            f"weak-name pairs, capped by their budget: min({self.weak_name_budget:,}, "
            f"{weak_served:,.0f} served x {b.weak_name_reach:,}) = {self.weak_name_pairs:,.3g}. "
            f"**{g.pairs:,.3g} pairs** ({g.pairs / self.reports:,.0f} per report).",
            f"- Had blocking kept each report's pairs as at {b.reports:,} reports: "
            f"{b.per_report:.1f} x {self.reports:,} = **{self.bounded.pairs:,.3g} pairs**.",
            "",
            f"**Rates** from the Ray run with 1 CPU at {r.reports:,} reports: "
            f"{r.pairs_scored:,} pairs in {r.seconds_scoring:.1f} s of scoring = "
            f"{r.pairs_per_second:,.0f} pairs/s per CPU (the whole phase: the head's "
            f"blocking and block storing are in it); {r.plausible:,} plausible pairs "
            f"({r.plausible / max(1, r.pairs_scored):.1%} of those scored) stored by the "
            f"head in {r.seconds_head_blocks:.1f} s as blocks came back; settling "
            f"{r.seconds_storing:.1f} s for {r.plausible:,} plausible pairs read and "
            f"{r.kept:,} candidates written ({r.kept / r.records:.1f} per record); loading "
            f"{r.seconds_loading:.1f} s for {r.records:,} records.",
            "",
            "**Each scenario** (times in hours):",
            "",
        ]
        rows: list[tuple[str, str, Callable[[Scenario], str]]] = [
            ("pairs", "pairs", lambda c: f"{c.pairs:.3g}"),
            ("plausible pairs", f"pairs x {r.plausible / max(1, r.pairs_scored):.3f}",
             lambda c: f"{c.plausible:.3g}"),
            ("candidates", f"{r.kept / r.records:.1f} per record", lambda c: f"{c.kept:.3g}"),
            ("scoring, CPU-hours", f"pairs / {r.pairs_per_second:,.0f} / 3600",
             lambda c: f"{c.scoring_cpu_hours:,.0f}"),
            (f"scoring on {self.cpus:,} CPUs", f"CPU-hours / {self.cpus:,}",
             lambda c: f"{c.cluster_scoring_hours:,.2f}"),
            ("head: storing blocks' pairs",
             f"plausible x {r.seconds_head_blocks:.1f} / {r.plausible:,} / 3600",
             lambda c: f"{c.head_blocks_hours:,.1f}"),
            ("scoring phase", "the longer of the two above", lambda c: f"{c.scoring_hours:,.1f}"),
            ("head: loading", f"{r.seconds_loading:.1f} x {records_ratio:,.0f} / 3600",
             lambda c: f"{c.loading_hours:,.2f}"),
            ("head: settling, per candidate",
             f"{r.seconds_storing:.1f} x candidates / {r.kept:,} / 3600",
             lambda c: f"{c.settle_per_candidate_hours:,.1f}"),
            ("head: settling, per plausible pair",
             f"{r.seconds_storing:.1f} x plausible / {r.plausible:,} / 3600",
             lambda c: f"{c.settle_per_plausible_hours:,.1f}"),
            ("head node alone", "loading + storing blocks + settling",
             lambda c: "{:,.1f} to {:,.1f}".format(*c.head_hours)),
            ("whole run", "loading + scoring phase + settling",
             lambda c: "{:,.1f} to {:,.1f}".format(*c.total_hours)),
            ("plausible pairs held while settling, GiB", f"plausible x {PLAUSIBLE_PAIR_BYTES} B",
             lambda c: f"{c.plausible_gib:,.1f}"),
        ]  # fmt: skip
        lines += table_lines(
            ["", "how", self.grown.name, self.bounded.name],
            [[label, how, cell(self.grown), cell(self.bounded)] for label, how, cell in rows],
        )
        lines += ["", *self._reading(), ""]
        return lines

    def _reading(self) -> list[str]:
        def told(c: Scenario) -> str:
            head_low, head_high = c.head_hours
            total_low, _ = c.total_hours
            return (
                f"{c.pairs:.3g} pairs are {_duration(c.scoring_cpu_hours)} of CPU time, "
                f"{_duration(c.cluster_scoring_hours)} on {self.cpus:,} CPUs; the head "
                f"node alone, which more CPUs do not help, needs {_duration(head_low)} to "
                f"{_duration(head_high)} (storing {c.plausible:.3g} plausible pairs as "
                f"blocks come back, then settling them, {c.plausible_gib:,.1f} GiB held): "
                f"{head_low / max(total_low, 1e-9):.0%} of the run at the low bound"
            )

        scenarios = (self.grown, self.bounded)
        shares = [c.head_hours[0] / max(c.total_hours[0], 1e-9) for c in scenarios]
        verdict = (
            "Either way the single-node settle/store step dominates: more CPUs shorten "
            "only the scoring."
            if min(shares) >= 0.5
            else "Scoring on the cluster is the larger part in at least one scenario."
        )
        return [
            f"**What dominates.** As blocking grows now: {told(self.grown)}. With each "
            f"report's pairs held as measured: {told(self.bounded)}. {verdict}",
            "",
            "**Assumptions.** Pairs by names or attributes follow the same power law "
            f"between the two sizes and {self.reports / self.large.reports:,.0f}x beyond "
            "(real names repeat more than "
            "generated ones, so likely more); the found persons without a usable name are "
            "the same share; the cluster's CPUs score as fast as one of this machine's "
            "under Ray, with no loss to shipping the run's work to them (it grows with "
            "the records and goes to every node); the head is this machine with SQLite, "
            "and its loading and settling times scale linearly (settling sorts and "
            "shares, so more than linearly at the high end); no photos (face neighbours "
            "add at most 50 pairs a found person and a face index search on the head).",
        ]


def _duration(hours: float) -> str:
    """Minutes under an hour, days past two of them, else hours."""
    if hours < 1:
        return f"{hours * 60:,.0f} min"
    return f"{hours / 24:,.0f} days" if hours > 48 else f"{hours:,.1f} h"
