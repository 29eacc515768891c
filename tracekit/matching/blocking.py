"""Which pairs of records are worth scoring: only neighbours on the clock they share.

A decade of history is ~25,000 records; comparing all pairs would be 300 million comparisons.
Each time basis has a natural neighbourhood instead: clocked records within the start gap, a
UTC-only against a local-only record within the widest zone offset, a date-only row against the
records of its day (and of a neighbouring day only near midnight). Every pair that `compare`
could accept lies in one of these neighbourhoods, and no pair is produced twice.
"""

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence

from tracekit.matching.compare import MAX_OFFSET_S, MAX_START_GAP_S, Features, loggable_days

type Pair = tuple[int, int]
type _Filter = Callable[[int, int], bool]


def candidate_pairs(records: Sequence[Features], providers: Sequence[int]) -> Iterator[Pair]:
    """Pairs of records of different providers whose starts could belong to one session."""
    both = [i for i, f in enumerate(records) if not f.date_only]
    by_utc = [(f.utc, i) for i in both if (f := records[i]).utc is not None]
    by_local = [(f.local, i) for i in both if (f := records[i]).local is not None]
    has_utc = [f.utc is not None for f in records]
    yield from _neighbours(by_utc, MAX_START_GAP_S, providers, lambda i, j: True)
    # Pairs that both have UTC were compared on it: local clocks only decide for the others.
    yield from _neighbours(
        by_local, MAX_START_GAP_S, providers, lambda i, j: not (has_utc[i] and has_utc[j])
    )
    yield from _offset_pairs(records, providers)
    yield from _date_pairs(records, providers)


def _neighbours(
    timed: list[tuple[float, int]], window: float, providers: Sequence[int], wanted: _Filter
) -> Iterator[Pair]:
    timed.sort()
    for n, (start, i) in enumerate(timed):
        for m in range(n + 1, len(timed)):
            other_start, j = timed[m]
            if other_start - start > window:
                break
            if providers[i] != providers[j] and wanted(i, j):
                yield i, j


def _offset_pairs(records: Sequence[Features], providers: Sequence[int]) -> Iterator[Pair]:
    utc_only = [(f.utc, i) for i, f in enumerate(records) if f.utc is not None and f.local is None]
    local_only = sorted(
        (f.local, i) for i, f in enumerate(records) if f.local is not None and f.utc is None
    )
    if not utc_only or not local_only:
        return
    starts = [start for start, _ in local_only]
    reach = MAX_OFFSET_S + MAX_START_GAP_S
    for utc, i in utc_only:
        for n in range(bisect_left(starts, utc - reach), bisect_right(starts, utc + reach)):
            j = local_only[n][1]
            if providers[i] != providers[j]:
                yield i, j


def _date_pairs(records: Sequence[Features], providers: Sequence[int]) -> Iterator[Pair]:
    rows: defaultdict[int, list[int]] = defaultdict(list)
    for i, f in enumerate(records):
        if f.date_only and f.day is not None:
            rows[f.day].append(i)
    if not rows:
        return
    for day_rows in rows.values():
        for n, i in enumerate(day_rows):
            for j in day_rows[n + 1 :]:
                if providers[i] != providers[j]:
                    yield i, j
    for i, f in enumerate(records):
        if f.date_only:
            continue
        for day in loggable_days(f):
            for j in rows.get(day, ()):
                if providers[i] != providers[j]:
                    yield i, j
