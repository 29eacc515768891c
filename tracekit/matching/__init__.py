"""Recognising one real training session across providers.

`match` answers "which records are the same session"; `match_explained` is what the store uses:
it also takes the user's standing decisions and says why each link was made and which cases a
human should look at.
"""

from tracekit.matching.engine import match, match_explained
from tracekit.matching.model import (
    Candidate,
    CandidateKey,
    Decision,
    Explanation,
    Link,
    MatchedGroup,
    MatchResult,
    ReviewItem,
    SportRelation,
    TimeBasis,
)

__all__ = [
    "Candidate",
    "CandidateKey",
    "Decision",
    "Explanation",
    "Link",
    "MatchResult",
    "MatchedGroup",
    "ReviewItem",
    "SportRelation",
    "TimeBasis",
    "match",
    "match_explained",
]
