"""Matching quality and speed on synthetic multi-provider histories with known truth.

Quality: pairwise precision, recall and F1 (pairs of records put in one group against pairs that
are one session), overall and per case, for Tracekit's matcher and, as the baseline measured in
the same run, the original app's rule (same US/Eastern date and same distance rounded to 200 m,
or 2 km above 20 km; records without a distance left alone). Speed: wall time of matching a
whole history (best of --repeat). Targets: precision >= 0.999 and recall >= 0.99 on 2 years;
a 10-year history (~25,000 records) in under 2 s.

    python -m bench.bench_matching [--years N] [--seed S] [--repeat R] [--json]
"""

import argparse
import json
import sys
import time
from collections import defaultdict
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.matching_history import History, PairCounts, evaluate, generate
from tracekit.matching import Candidate, MatchedGroup, MatchResult, match_explained

_EASTERN = ZoneInfo("America/New_York")


def eastern_date_grouping(candidates: list[Candidate]) -> MatchResult:
    """The original rule, for comparison: it merges a day's two commutes and drops no-distance
    sessions, which is what the new matcher must never do."""
    groups: defaultdict[tuple[object, ...], list[Candidate]] = defaultdict(list)
    for n, c in enumerate(candidates):
        if c.start_utc is not None:
            day = c.start_utc.astimezone(UTC).astimezone(_EASTERN).date()
        elif c.start_local is not None:
            day = c.start_local.date()
        else:
            day = None
        if c.distance_m is None or day is None:
            groups[("alone", n)].append(c)
            continue
        step = 200.0 if c.distance_m < 20_000 else 2_000.0
        groups[(day, round(c.distance_m / step))].append(c)
    return MatchResult(
        matched=tuple(MatchedGroup(members=tuple(g), links=()) for g in groups.values()),
        review=(),
    )


def _figures(counts: PairCounts) -> dict[str, float | int]:
    return {
        "precision": round(counts.precision, 5),
        "recall": round(counts.recall, 5),
        "f1": round(counts.f1, 5),
        "pairs": counts.true_positive + counts.false_negative,
        "false_merges": counts.false_positive,
        "missed": counts.false_negative,
    }


def measure(history: History, repeat: int) -> dict[str, Any]:
    candidates = history.candidates
    timings = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = match_explained(candidates)
        timings.append(time.perf_counter() - start)
    assert result is not None
    evaluation = evaluate(history, result)
    baseline = evaluate(history, eastern_date_grouping(candidates))
    return {
        "records": len(candidates),
        "sessions": history.sessions,
        "seconds": round(min(timings), 3),
        "overall": _figures(evaluation.overall),
        "cases": {case: _figures(c) for case, c in evaluation.by_case.items()},
        "review": {
            "expected": evaluation.review_expected,
            "flagged": evaluation.review_flagged,
            "items": evaluation.review_items,
        },
        "baseline": _figures(baseline.overall),
    }


def _print(years: float, seed: int, repeat: int, report: dict[str, Any]) -> None:
    overall, base = report["overall"], report["baseline"]
    print(
        f"\n== {years:g} years, seed {seed}: {report['records']:,} records of "
        f"{report['sessions']:,} sessions"
    )
    print(f"match time        {report['seconds']:8.3f} s  (best of {repeat})")
    for label, f in (("tracekit", overall), ("baseline", base)):
        print(
            f"{label:<17} precision {f['precision']:.4f}  recall {f['recall']:.4f}  "
            f"F1 {f['f1']:.4f}  ({f['false_merges']} false merges, {f['missed']} missed "
            f"of {f['pairs']:,} pairs)"
        )
    review = report["review"]
    expected = ", ".join(
        f"{kind} {review['flagged'][kind]}/{count}" for kind, count in review["expected"].items()
    )
    raised = ", ".join(f"{kind} {count}" for kind, count in review["items"].items())
    print(f"review            records expected flagged: {expected or 'none'}")
    print(f"                  items raised: {raised or 'none'}")
    print(f"{'case':<18}{'pairs':>7}{'precision':>11}{'recall':>9}{'F1':>8}")
    by_f1 = sorted(report["cases"].items(), key=lambda kv: (kv[1]["f1"], kv[0]))
    for case, f in by_f1:
        print(f"{case:<18}{f['pairs']:>7}{f['precision']:>11.4f}{f['recall']:>9.4f}{f['f1']:>8.4f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=float, action="append", help="default: 2 and 10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="match runs timed (best is kept)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    reports = {}
    for years in args.years or [2.0, 10.0]:
        report = measure(generate(years, args.seed), max(1, args.repeat))
        reports[f"{years:g}"] = report
        if not args.json:
            _print(years, args.seed, args.repeat, report)
    if args.json:
        print(json.dumps({"seed": args.seed, "years": reports}, indent=2))


if __name__ == "__main__":
    main()
