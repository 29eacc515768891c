"""Grouping provider records into sessions.

Order of authority: the user's decisions, then hard evidence (shared keys), then scores. Scored
links are taken greedily from the best down, and each must pass three checks that keep a wrong
merge out (a wrong merge pushes one session's name onto another, which is worse than a missed
one):

* one record per provider in a group, so the link is a one-to-one assignment (evidence alone may
  put two records of one provider together: a duplicate upload);
* no veto between any two records of the merged group, so two weak links never chain two
  different sessions together through a third record;
* no rival: if a comparable partner from the same provider scores within the ambiguity margin,
  nobody can tell which is right, so neither is taken and a human is asked.
"""

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from tracekit.matching.blocking import candidate_pairs
from tracekit.matching.compare import (
    MAX_CLOCK_SPREAD_S,
    MAX_OFFSET_S,
    Comparison,
    Features,
    compare,
    features,
    relative_delta,
    sport_relation,
)
from tracekit.matching.model import (
    Candidate,
    Decision,
    Explanation,
    Link,
    LinkReason,
    MatchedGroup,
    MatchResult,
    ReviewItem,
    format_offset,
)

LINK_THRESHOLD = 0.7
"""The lowest score a scored link may have."""
AMBIGUITY_MARGIN = 0.1
"""Two pairings closer than this are a coin toss, not a decision."""

_ZONE_STEP_S = 900.0
"""Every UTC offset in use is a multiple of 15 minutes (Nepal +5:45, Chatham +12:45)."""
_ZONE_RESIDUAL_S = 30.0
"""One recording seen through two zones: beyond the offset, the starts agree to the second."""
_ZONE_DURATION_AGREEMENT = 0.01
_ZONE_DISTANCE_AGREEMENT = 0.03

type _Pair = tuple[int, int]


def match(candidates: Sequence[Candidate]) -> list[list[Candidate]]:
    """Group the candidates into sessions (see `match_explained`)."""
    return match_explained(candidates).groups


def match_explained(
    candidates: Sequence[Candidate], decisions: Iterable[Decision] = ()
) -> MatchResult:
    """Group the candidates into sessions, with the links that made each group and the cases
    left for a human. Decisions naming records that are not among the candidates are ignored, so
    the store may pass all standing decisions while matching any slice of the history."""
    with _collector_paused():
        return _Matcher(candidates).run(decisions)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Matching a decade allocates some 10^5 small objects that all live to the end and form no
    cycles; the cyclic garbage collector would rescan them again and again, costing ~40 % of
    the run. Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _shift_counts(a: Features, b: Features, local: bool) -> bool:
    """Whether a shift seen on this clock (local or UTC) is the one that speaks for a and b."""
    if local:
        return a.utc is None or b.utc is None
    return a.local is None or b.local is None or abs(a.local - b.local) <= _ZONE_RESIDUAL_S


def _ordered(i: int, j: int) -> _Pair:
    return (i, j) if i < j else (j, i)


class _Matcher:
    """One matching run: a union-find of clusters that only ever grow."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        self.candidates = list(candidates)
        count = self.count = len(self.candidates)
        self.features: list[Features] = [features(c) for c in self.candidates]
        provider_ids: dict[str, int] = {}
        self.provider = [provider_ids.setdefault(c.provider, len(provider_ids)) for c in candidates]
        # Ties are broken by record identity, never by input order, so a run is repeatable.
        self.order = sorted(range(count), key=lambda i: (*self.candidates[i].key, i))
        self.rank = [0] * count
        for rank, i in enumerate(self.order):
            self.rank[i] = rank
        self.parent = list(range(count))
        self.members = [[i] for i in range(count)]
        self.mask = [1 << p for p in self.provider]
        self.alone = [False] * count
        self.links: list[list[Link]] = [[] for _ in range(count)]
        # Each cluster's records, in blocks known to be one session (evidence, decisions).
        self.blocks = [[[i]] for i in range(count)]
        self.never: set[_Pair] = set()
        self.comparisons: dict[int, Comparison | None] = {}
        self.review: list[ReviewItem] = []

    def run(self, decisions: Iterable[Decision]) -> MatchResult:
        self._apply_decisions(decisions)
        self._apply_evidence()
        self._link_by_score()
        self._flag_zone_conflicts()
        return self._result()

    # --- clusters -------------------------------------------------------------------------

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def _union(self, x: int, y: int, link: Link) -> None:
        if len(self.members[x]) < len(self.members[y]):
            x, y = y, x
        self.parent[y] = x
        self.members[x].extend(self.members[y])
        self.mask[x] |= self.mask[y]
        self.links[x].extend(self.links[y])
        self.links[x].append(link)
        if link.reason == "score":
            self.blocks[x].extend(self.blocks[y])
        else:
            self.blocks[x] = [list(self.members[x])]
        self.members[y] = []
        self.links[y] = []
        self.blocks[y] = []

    def comparison(self, i: int, j: int) -> Comparison | None:
        key = i * self.count + j if i < j else j * self.count + i
        try:
            return self.comparisons[key]
        except KeyError:
            found = self.comparisons[key] = compare(self.features[i], self.features[j])
            return found

    def _forbidden(self, x: int, y: int) -> bool:
        return bool(self.never) and any(
            _ordered(i, j) in self.never for i in self.members[x] for j in self.members[y]
        )

    def _allowed(self, x: int, y: int) -> bool:
        """Whether providers and decisions let the matcher put clusters x and y together."""
        if self.mask[x] & self.mask[y] or self.alone[x] or self.alone[y]:
            return False
        return not self._forbidden(x, y)

    def _may_join(self, x: int, y: int) -> bool:
        """Whether clusters x and y may merge: allowed, and nothing across them is vetoed.

        Every scored record must be compatible with every other, so weak links never chain two
        sessions through a third. Records joined by evidence or the user are one session
        however their numbers differ (a ride cropped on Strava still carries Garmin's receipt),
        so being compatible with any one of them is enough.
        """
        comparison = self.comparison
        return self._allowed(x, y) and all(
            any(comparison(i, j) is not None for i in block_x for j in block_y)
            for block_x in self.blocks[x]
            for block_y in self.blocks[y]
        )

    def _link(self, i: int, j: int, score: float, reason: LinkReason, why: Explanation) -> Link:
        return Link(self.candidates[i], self.candidates[j], score, reason, why)

    def _explain(self, i: int, j: int) -> Explanation:
        found = self.comparison(i, j)
        return found.explain() if found is not None else Explanation(basis=None)

    # --- the three sources of links -------------------------------------------------------

    def _apply_decisions(self, decisions: Iterable[Decision]) -> None:
        index: dict[tuple[str, str], int] = {}
        for i in self.order:
            index.setdefault(self.candidates[i].key, i)
        together: dict[_Pair, None] = {}
        alone: set[int] = set()
        for decision in decisions:
            a = index.get(decision.a)
            b = index.get(decision.b) if decision.b is not None else None
            if a is None:
                continue
            if decision.kind == "alone":
                alone.add(a)
                together = {p: None for p in together if a not in p}
                continue
            if b is None or a == b:
                continue
            pair = _ordered(a, b)
            together.pop(pair, None)
            self.never.discard(pair)
            if decision.kind == "link":
                together[pair] = None
                alone -= {a, b}
            else:
                self.never.add(pair)
        for i in alone:
            self.alone[i] = True
        for a, b in together:
            x, y = self.find(a), self.find(b)
            if x == y:
                continue
            if self._forbidden(x, y):
                self.review.append(
                    ReviewItem(
                        kind="decision_conflict",
                        candidates=(self.candidates[a], self.candidates[b]),
                        reason="you linked these, but also kept records of their groups apart",
                    )
                )
                continue
            self._union(x, y, self._link(a, b, 1.0, "decision", self._explain(a, b)))

    def _apply_evidence(self) -> None:
        owner: dict[str, int] = {}
        for i in self.order:
            if self.alone[self.find(i)]:
                continue
            candidate = self.candidates[i]
            for key in sorted(candidate.evidence | {f"{candidate.provider}:{candidate.id}"}):
                j = owner.setdefault(key, i)
                x, y = self.find(i), self.find(j)
                if x == y or self._forbidden(x, y):
                    continue
                why = replace(self._explain(j, i), evidence=key)
                self._union(x, y, self._link(j, i, 1.0, "evidence", why))

    def _link_by_score(self) -> None:
        floor = LINK_THRESHOLD - AMBIGUITY_MARGIN
        edges: list[tuple[float, int, int]] = []
        partners: list[list[tuple[float, int]]] = [[] for _ in self.candidates]
        for i, j in candidate_pairs(self.features, self.provider):
            found = self.comparison(i, j)
            if found is not None and found.score >= floor:
                edges.append((found.score, i, j))
                partners[i].append((found.score, j))
                partners[j].append((found.score, i))
        rank = self.rank
        for listed in partners:
            listed.sort(key=lambda p: (-p[0], rank[p[1]]))
        edges.sort(key=lambda e: (-e[0], min(rank[e[1]], rank[e[2]]), max(rank[e[1]], rank[e[2]])))
        undecided: list[tuple[_Pair, list[tuple[float, int, int]]]] = []
        for score, i, j in edges:
            if score < LINK_THRESHOLD:
                break
            x, y = self.find(i), self.find(j)
            if x == y or not self._may_join(x, y):
                continue
            rivals = self._rivals(score, x, y, partners) + self._rivals(score, y, x, partners)
            if rivals:
                undecided.append(((i, j), [(score, i, j), *rivals]))
                continue
            self._union(x, y, self._link(i, j, score, "score", self._explain(i, j)))
        self._report_ambiguity(undecided)

    def _rivals(
        self, score: float, x: int, y: int, partners: list[list[tuple[float, int]]]
    ) -> list[tuple[float, int, int]]:
        """Other clusters competing with y for x's slot of one of y's providers."""
        found: list[tuple[float, int, int]] = []
        for m in self.members[x]:
            for other_score, z in partners[m]:
                if other_score < score - AMBIGUITY_MARGIN:
                    break
                rival = self.find(z)
                competes = rival not in (x, y) and self.mask[rival] & self.mask[y]
                if competes and self._may_join(x, rival):
                    found.append((other_score, m, z))
        return found

    # --- review ---------------------------------------------------------------------------

    def _report_ambiguity(
        self, undecided: list[tuple[_Pair, list[tuple[float, int, int]]]]
    ) -> None:
        """One review item per knot of pairings that stayed undecided, however many edges."""
        knot = list(range(len(self.candidates)))

        def root(i: int) -> int:
            while knot[i] != i:
                knot[i] = knot[knot[i]]
                i = knot[i]
            return i

        open_options: list[tuple[float, int, int]] = []
        for (i, j), options in undecided:
            if self.find(i) == self.find(j):
                continue
            for _, a, b in options:
                knot[root(a)] = root(i)
                knot[root(b)] = root(i)
            open_options.extend(options)
        by_knot: defaultdict[int, dict[_Pair, float]] = defaultdict(dict)
        for score, a, b in open_options:
            by_knot[root(a)][_ordered(a, b)] = score
        for pairs in by_knot.values():
            involved = sorted({i for pair in pairs for i in pair})
            scores = sorted(pairs.values())
            providers = sorted({self.candidates[i].provider for i in involved})
            self.review.append(
                ReviewItem(
                    kind="ambiguous",
                    candidates=tuple(self.candidates[i] for i in involved),
                    reason=(
                        f"too close to call: {len(pairs)} possible pairings between "
                        f"{', '.join(providers)} score {scores[0]:.2f}–{scores[-1]:.2f}"
                    ),
                    options=tuple(
                        self._link(a, b, score, "score", self._explain(a, b))
                        for (a, b), score in sorted(pairs.items(), key=lambda p: -p[1])
                    ),
                )
            )

    def _flag_zone_conflicts(self) -> None:
        """Report sessions that two providers place a zone offset apart.

        Such records agree on everything but the clock, which is what a provider with a wrong
        time zone produces; merging them would hide the error, so they are shown instead. When
        shared evidence has already joined them, the group's clock is still in doubt, so that is
        shown too, unless the user linked the group by hand.
        """
        flagged: set[int] = set()  # one item per group is enough to send the user there
        for i, j, offset, local in self._shifted_pairs():
            x, y = self.find(i), self.find(j)
            if x in flagged or y in flagged or not self._alike(i, j):
                continue
            if x == y:
                if any(link.reason == "decision" for link in self.links[x]):
                    continue
            elif not self._allowed(x, y) or self._apart_on_both_clocks(x, y):
                continue
            flagged.update((x, y))
            self._report_zone_conflict(i, j, offset, local, joined=x == y)

    def _shifted_pairs(self) -> Iterator[tuple[int, int, float, bool]]:
        """Pairs whose starts differ by a non-zero zone offset, on the clock they share.

        UTC decides when both records have it, and then their local clocks must agree: the
        pattern of a provider that took a local clock for UTC (two records that differ on both
        clocks are simply at different times). Local clocks decide for the others. Two UTC
        starts can be 14 h apart this way, two local clocks 26 h.
        """
        features = self.features
        by_utc = [(f.utc, i) for i, f in enumerate(features) if f.utc is not None]
        by_local = [(f.local, i) for i, f in enumerate(features) if f.local is not None]
        for starts, local in ((by_utc, False), (by_local, True)):
            reach = (MAX_CLOCK_SPREAD_S if local else MAX_OFFSET_S) + _ZONE_RESIDUAL_S
            starts.sort()
            for n, (start, i) in enumerate(starts):
                for m in range(n + 1, len(starts)):
                    other_start, j = starts[m]
                    shift = other_start - start
                    if shift > reach:
                        break
                    steps = round(shift / _ZONE_STEP_S)
                    if steps == 0 or abs(shift - steps * _ZONE_STEP_S) > _ZONE_RESIDUAL_S:
                        continue
                    if _shift_counts(features[i], features[j], local):
                        yield i, j, steps * _ZONE_STEP_S, local

    def _apart_on_both_clocks(self, x: int, y: int) -> bool:
        """Whether two records across the groups differ on UTC and on local clock alike.

        A wrong zone moves one clock only; when both move, the groups are simply different
        sessions (a morning and an evening commute that happen to be a zone offset apart).
        """
        features = self.features
        for i in self.members[x]:
            a = features[i]
            if a.utc is None or a.local is None:
                continue
            for j in self.members[y]:
                b = features[j]
                if b.utc is None or b.local is None:
                    continue
                if (
                    abs(a.utc - b.utc) > _ZONE_RESIDUAL_S
                    and abs(a.local - b.local) > _ZONE_RESIDUAL_S
                ):
                    return True
        return False

    def _alike(self, i: int, j: int) -> bool:
        a, b = self.features[i], self.features[j]
        if sport_relation(a.sport, b.sport) is None:
            return False
        same = False
        if a.duration is not None and b.duration is not None:
            if relative_delta(a.duration, b.duration) > _ZONE_DURATION_AGREEMENT:
                return False
            same = True
        if a.distance is not None and b.distance is not None and not (a.virtual or b.virtual):
            if relative_delta(a.distance, b.distance) > _ZONE_DISTANCE_AGREEMENT:
                return False
            same = True
        return same

    def _report_zone_conflict(
        self, i: int, j: int, offset: float, local: bool, *, joined: bool
    ) -> None:
        a, b = self.candidates[i], self.candidates[j]
        clock = "local clocks" if local else "UTC starts"
        agree = "are linked by shared evidence, but" if joined else "agree on this session, but"
        self.review.append(
            ReviewItem(
                kind="timezone_conflict",
                candidates=(a, b),
                reason=(
                    f"{a.provider} and {b.provider} {agree} their "
                    f"{clock} differ by {format_offset(offset)} h: one of them probably has the "
                    "wrong time zone"
                ),
                offset_s=offset,
            )
        )

    def _result(self) -> MatchResult:
        groups: dict[int, list[int]] = {}
        for i in range(len(self.candidates)):
            groups.setdefault(self.find(i), []).append(i)
        return MatchResult(
            matched=tuple(
                MatchedGroup(
                    members=tuple(self.candidates[i] for i in members),
                    links=tuple(self.links[root]),
                )
                for root, members in groups.items()
            ),
            review=tuple(self.review),
        )
