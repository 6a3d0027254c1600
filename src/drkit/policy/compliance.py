"""The 3-2-1 rule, evaluated for one source: a pure function of what the repositories hold.

3 copies of the data (the live data counts as one), on 2 different media,
with 1 copy off-site. A repository counts as a copy only if it holds a
snapshot of the source that is fresh enough: not older than the RPO when
one is set, and at all otherwise. A stale or empty repository is listed
with the reason it does not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from drkit.policy.objectives import format_objective


class Rule(StrEnum):
    COPIES = "3 copies"
    MEDIA = "2 media"
    OFFSITE = "1 off-site"
    RPO = "RPO"


@dataclass(frozen=True)
class RepositoryCopy:
    """What one repository holds of a source."""

    repository: str
    media: str
    site: str
    newest: datetime | None  # newest snapshot of the source there; None: none
    error: str = ""  # the repository could not be read
    # a physical PostgreSQL source: how far its base backups + WAL recover (``newest`` is
    # then that recovery point), and what stops it, e.g. a missing segment
    recovery: str = ""
    # the first missing or damaged WAL segment that ends that recovery early: the point
    # cannot move past it, so the copy does not count even while the point is within the RPO
    gap: str = ""


NO_SITE = (
    "the policy names no site (where the live data is), so no copy can be told off-site: "
    "set `site:` in the policy"
)


def live_site(site: str, declared: bool) -> str:
    """The policy's site, or "" when drkit.yaml does not name it (see :data:`NO_SITE`)."""
    return site if declared else ""


@dataclass(frozen=True)
class SourceState:
    """Everything the evaluation needs, gathered beforehand."""

    source: str
    live_site: str
    live_media: str
    copies: tuple[RepositoryCopy, ...]
    rpo: timedelta | None
    now: datetime


@dataclass(frozen=True)
class CopyVerdict:
    copy: RepositoryCopy
    counts: bool
    age: timedelta | None
    why: str  # why it does not count ("" when it does)


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    ok: bool
    detail: str


@dataclass(frozen=True)
class Compliance:
    source: str
    copies: int  # including the live data
    media: tuple[str, ...]
    offsite: tuple[str, ...]  # repositories that are counting off-site copies
    verdicts: tuple[CopyVerdict, ...]
    rules: tuple[RuleResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rules)

    def failures(self) -> list[RuleResult]:
        return [r for r in self.rules if not r.ok]


def evaluate(state: SourceState) -> Compliance:
    """Judge one source against 3-2-1 and its RPO."""
    verdicts = tuple(_verdict(c, state) for c in state.copies)
    counting = [v.copy for v in verdicts if v.counts]
    copies = 1 + len(counting)
    media = tuple(sorted({state.live_media, *(c.media for c in counting)}))
    # a policy that names no site cannot tell which copy is away from the live data:
    # drkit's default site would make every repository with a site of its own "off-site"
    offsite = tuple(c.repository for c in counting if state.live_site and c.site != state.live_site)
    rules = (
        _rule(
            Rule.COPIES,
            copies >= 3,
            f"{copies} of 3 copies (the live data and {len(counting)} fresh repository copies)",
        ),
        _rule(Rule.MEDIA, len(media) >= 2, f"media: {', '.join(media)}"),
        _rule(
            Rule.OFFSITE,
            bool(offsite),
            f"off-site: {', '.join(offsite)}"
            if offsite
            else f"no fresh copy away from site {state.live_site!r}"
            if state.live_site
            else NO_SITE,
        ),
        _rpo_rule(verdicts, state.rpo),
    )
    return Compliance(state.source, copies, media, offsite, verdicts, rules)


def _verdict(copy: RepositoryCopy, state: SourceState) -> CopyVerdict:
    if copy.error:
        return CopyVerdict(copy, False, None, f"unreadable: {copy.error}")
    if copy.newest is None:
        return CopyVerdict(copy, False, None, "no snapshot of this source")
    age = max(state.now - copy.newest, timedelta(0))
    if state.rpo is not None and age > state.rpo:
        what = "recovery point" if copy.recovery else "snapshot"
        why = f"stale: newest {what} is {format_objective(age)} old, RPO is "
        why += format_objective(state.rpo) + (f" ({copy.recovery})" if copy.recovery else "")
        return CopyVerdict(copy, False, age, why)
    if copy.gap:
        return CopyVerdict(copy, False, age, f"WAL chain broken at {copy.gap}: {copy.recovery}")
    return CopyVerdict(copy, True, age, "")


def _rpo_rule(verdicts: tuple[CopyVerdict, ...], rpo: timedelta | None) -> RuleResult:
    if rpo is None:
        return _rule(Rule.RPO, True, "no RPO set")
    late = [v.copy.repository for v in verdicts if not v.counts]
    if late:
        return _rule(Rule.RPO, False, f"not within {format_objective(rpo)}: {', '.join(late)}")
    return _rule(Rule.RPO, True, f"every repository within {format_objective(rpo)}")


def _rule(rule: Rule, ok: bool, detail: str) -> RuleResult:
    return RuleResult(rule, ok, detail)
